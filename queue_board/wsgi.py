"""The app for a WSGI server: ``gunicorn -c deploy/gunicorn.conf.py queue_board.wsgi:app``.

Settings come from ``QB_`` environment variables (README "Configuration"), as for ``serve``;
the Socket.IO server runs under gevent, which the gunicorn worker class
(``geventwebsocket.gunicorn.workers.GeventWebSocketWorker``) has patched in before this module
is imported. The schema is not migrated here: run ``queue-board db upgrade`` once before
starting the workers (several workers migrating at once would race).
"""

from __future__ import annotations

import os

from queue_board import create_app
from queue_board.cli import public_url_problem
from queue_board.web.database import database
from queue_board.web.live import live

os.environ.setdefault("QB_SOCKETIO_ASYNC_MODE", "gevent")

#: the WSGI application gunicorn serves
app = create_app()
# a worker that cannot serve says why at once, as `serve` does, instead of answering 503 to everyone
_problem = public_url_problem(app.config)
if _problem is not None:
    raise SystemExit(f"queue_board: {_problem}")
_problem = database.schema_problem(app)
if _problem is not None:
    raise SystemExit(f"queue_board: {_problem} (run `queue-board db upgrade` first)")
live.start_sweeps(app)
