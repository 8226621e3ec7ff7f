"""The web layer: one blueprint per area (``api``, ``boards``, ``tickets``), Socket.IO handlers,
authentication and languages. Thin: requests become service calls, answers become JSON or pages."""
