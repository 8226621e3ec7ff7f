"""The branch service of the current app (the factory builds one per app and keeps it here)."""

from __future__ import annotations

from flask import Flask, current_app

from queue_board.service.branch_service import BranchService

EXTENSION = "queue_board"


def bind_service(app: Flask, service: BranchService) -> None:
    """Make ``service`` the branch service of ``app``."""
    app.extensions[EXTENSION] = service


def service_of(app: Flask) -> BranchService:
    """The branch service of ``app``."""
    service: BranchService = app.extensions[EXTENSION]
    return service


def current_service() -> BranchService:
    """The branch service of the current app."""
    return service_of(current_app)
