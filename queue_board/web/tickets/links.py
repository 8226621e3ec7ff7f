"""Signed ticket links: ``(branch, day, label)`` signed with the app's ``SECRET_KEY``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "queue_board.ticket-link"


@dataclass(frozen=True, slots=True)
class TicketRef:
    """Which ticket a link is for: labels are unique per branch and local day."""

    branch: str
    day: str
    label: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign(ref: TicketRef) -> str:
    """The link's credential for ``ref``."""
    token: str = _serializer().dumps([ref.branch, ref.day, ref.label])
    return token


def verify(token: Any) -> TicketRef | None:
    """The ticket a credential is for, or ``None`` if it is not one this server signed."""
    if not isinstance(token, str) or not token or len(token) > 400:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 3 and all(isinstance(part, str) for part in data)):
        return None
    return TicketRef(branch=data[0], day=data[1], label=data[2])
