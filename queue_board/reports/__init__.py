"""The manager's reports: pure functions over the branch's activity records (``core.activity``).

``columns`` turns a day into numpy columns; ``history`` and ``quality`` add days up into tables;
``dashboard`` is today live and a branch's row in the overview; ``story`` is one ticket's
timeline. No Flask, no database: the web pages, the Socket.IO pushes and ``queue-board report``
all call these same functions (docs/reports.md defines every figure).
"""
