"""The branch managers' pages: the overview of every branch, a branch's live dashboard, its
history, its promises kept and broken, and one ticket's story (the views are in :mod:`.routes`).

The pages are shells for signed-in staff (``web.staff.guard``): their scripts read the JSON of
``/api/v1/.../reports`` with the session and follow the ``/manage`` Socket.IO namespace.
"""

from __future__ import annotations

from flask import Blueprint

from queue_board.service.errors import ProblemError
from queue_board.web.manage import routes
from queue_board.web.pages import problem_json

manage_bp = Blueprint("manage", __name__)
manage_bp.register_error_handler(ProblemError, problem_json)
routes.add_routes(manage_bp)
