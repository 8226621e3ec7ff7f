"""Screens: hall board, teller console, kiosk (HTML + JS; data comes from the API and Socket.IO)."""

from __future__ import annotations

from flask import Blueprint

boards_bp = Blueprint("boards", __name__)
