"""Bearer tokens with roles. A token is bound to a branch (and a teller or display to a counter).

Roles, from most to least powerful: ``admin`` (every branch, configuration, import),
``manager`` (one branch: everything but configuration), ``teller`` (one counter's
actions), ``kiosk`` (take and cancel tickets), ``display`` (read-only boards).

One loader turns a token into a grant, :func:`load_grant`, for HTTP (:func:`current_grant`,
from ``Authorization: Bearer …``) and Socket.IO (the ``token`` of the connect payload) alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from queue_board.service.errors import forbidden, unauthorized
from queue_board.store.event_store import TokenRecord
from queue_board.web.database import current_store

ROLES = ("admin", "manager", "teller", "kiosk", "display")


@dataclass(frozen=True, slots=True)
class Grant:
    """What the caller may do, from their token."""

    name: str
    role: str
    branch: str | None
    counter: str | None

    @classmethod
    def from_record(cls, record: TokenRecord) -> Grant:
        """Build from a stored token."""
        return cls(name=record.name, role=record.role, branch=record.branch, counter=record.counter)

    @property
    def actor(self) -> str:
        """How the event log names who did something."""
        return f"{self.role}:{self.name}"

    def can_read(self, branch: str) -> bool:
        """Whether boards and snapshots of ``branch`` may be read."""
        return self.role == "admin" or self.branch == branch

    def require_branch(self, branch: str, *roles: str) -> None:
        """Raise 403 unless the token is for ``branch`` and has one of ``roles`` (admin always may)."""
        if self.role == "admin":
            return
        if self.branch != branch:
            raise forbidden(f"this token is not for branch {branch!r}")
        if self.role not in roles:
            raise forbidden(f"role {self.role!r} may not do this; needs one of {list(roles)}")

    def require_counter(self, branch: str, counter: str) -> None:
        """Raise 403 unless the token may act for ``counter`` (tellers only for their own)."""
        self.require_branch(branch, "manager", "teller")
        if self.role == "teller" and self.counter != counter:
            raise forbidden(f"this teller token is bound to counter {self.counter!r}, not {counter!r}")


def load_grant(token: object) -> Grant | None:
    """The grant of a live bearer token, or ``None`` if it is missing, unknown or revoked."""
    if not isinstance(token, str) or not token.strip():
        return None
    # a token pasted with a stray space is still that token, over HTTP and Socket.IO alike
    record = current_store().find_token(token.strip())
    return Grant.from_record(record) if record is not None else None


def current_grant() -> Grant:
    """The HTTP caller's grant from ``Authorization: Bearer …`` (once per request); 401 if none."""
    cached: Grant | None = g.get("grant")
    if cached is not None:
        return cached
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("send a token as 'Authorization: Bearer <token>' (create one with 'queue-board token create')")
    found = load_grant(token)
    if found is None:
        raise unauthorized("unknown or revoked token")
    g.grant = found
    return found


def validate_grant(role: str, branch: str | None, counter: str | None) -> str | None:
    """Why a token with this grant cannot be created, or ``None``."""
    if role not in ROLES:
        return f"unknown role {role!r}; expected one of {list(ROLES)}"
    if role != "admin" and not branch:
        return f"a {role} token needs a branch"
    if role == "teller" and not counter:
        return "a teller token needs a counter"
    if counter and role not in ("teller", "display"):
        return f"a {role} token cannot be bound to a counter"
    return None
