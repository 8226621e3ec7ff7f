"""Errors the service layer raises and the web layer turns into JSON problem responses."""

from __future__ import annotations

from typing import Any


class ProblemError(Exception):
    """A request that cannot be honoured: HTTP ``status``, a stable ``code`` and a message.

    The JSON body is ``{"error": code, "message": message, **details}``.
    """

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON body."""
        return {"error": self.code, "message": self.message, **self.details}


def bad_request(message: str, **details: Any) -> ProblemError:
    """400: the request itself is unreadable (not JSON, wrong content type)."""
    return ProblemError(400, "bad_request", message, **details)


def invalid(message: str, **details: Any) -> ProblemError:
    """422: well-formed, but a field is missing or wrong."""
    return ProblemError(422, "invalid", message, **details)


def not_found(message: str, **details: Any) -> ProblemError:
    """404: no such branch, counter, ticket or service."""
    return ProblemError(404, "not_found", message, **details)


def conflict(message: str, **details: Any) -> ProblemError:
    """409: the request does not fit the branch's current state."""
    return ProblemError(409, "conflict", message, **details)


def unauthorized(message: str) -> ProblemError:
    """401: no or unknown bearer token."""
    return ProblemError(401, "unauthorized", message)


def forbidden(message: str) -> ProblemError:
    """403: the token's role or binding does not allow this."""
    return ProblemError(403, "forbidden", message)
