"""The pure core: the branch as a projection of its event log.

Plain Python, no Flask, no SQLAlchemy, no I/O (``tests/test_layers.py`` checks the imports).
``events`` is the log's vocabulary, ``branch`` validates and applies one event, ``call_rule``
decides who is called, ``projection`` advances state and learned model together, and the
views turn state into what screens show. The live server, ``replay`` and the simulator all
drive these modules, so each of them sees the state the log implies.
"""
