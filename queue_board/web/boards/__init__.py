"""Screens: hall board, counter board, teller console, kiosk (the views are in :mod:`.routes`).

The pages are shells: a wall screen or kiosk opened with ``?token=`` is redirected to itself
without it, the token kept in the screen's HttpOnly cookie (a teller console's script keeps its
own); each reads its branch from ``?branch=`` and its language from ``?lang=``, fetches nothing server-side, and
renders what the Socket.IO ``snapshot``/``board`` pushes carry (see :mod:`queue_board.core.board_view`).
The customer's ticket page is a blueprint of its own (:mod:`queue_board.web.tickets`).
"""

from __future__ import annotations

from flask import Blueprint

from queue_board.service.errors import ProblemError
from queue_board.web.boards import routes
from queue_board.web.pages import problem_json

boards_bp = Blueprint("boards", __name__)
boards_bp.register_error_handler(ProblemError, problem_json)
routes.add_routes(boards_bp)
