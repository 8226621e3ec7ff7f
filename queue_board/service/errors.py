"""Errors the service layer raises and the web layer turns into JSON problem responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from queue_board.core.text import NC_, WORD


class Translator(Protocol):
    """What :meth:`ProblemError.to_dict` needs to answer in another language (a gettext catalogue)."""

    def gettext(self, message: str) -> str:
        """The translation of a sentence."""
        ...

    # Babel types the answer loosely (it may hand back a lazy object); it is a string here
    def pgettext(self, context: str, message: str) -> str | object:
        """The translation of a word in ``context``."""
        ...


#: the words the core's and the service's sentences put into placeholders (statuses, actions),
#: listed so that the catalogue has them; a sentence's ``words`` are translated with it (the
#: context is spelt out because pybabel reads it from the source, it does not run it)
VOCABULARY = (
    # counters
    NC_("word", "closed"),
    NC_("word", "idle"),
    NC_("word", "calling"),
    NC_("word", "serving"),
    NC_("word", "wrapping_up"),
    NC_("word", "paused"),
    # tickets
    NC_("word", "waiting"),
    NC_("word", "called"),
    NC_("word", "done"),
    NC_("word", "no_show"),
    NC_("word", "cancelled"),
    NC_("word", "transferred"),
    # what a counter was asked to do
    NC_("word", "close"),
    NC_("word", "pause"),
    NC_("word", "recall"),
    NC_("word", "start"),
    NC_("word", "finish"),
    NC_("word", "mark as no-show"),
    NC_("word", "transfer"),
    # complaints and praise (``closed`` is a counter's word too)
    NC_("word", "open"),
    NC_("word", "in_progress"),
    NC_("word", "resolved"),
)


class ProblemError(Exception):
    """A request that cannot be honoured: HTTP ``status``, a stable ``code`` and a message.

    The JSON body is ``{"error": code, "message": message, **details}``. With ``params`` the
    message is a template (``%(name)s`` placeholders; ``words`` names the params that are
    vocabulary), so that :meth:`to_dict` can answer in the reader's language.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        params: Mapping[str, Any] | None = None,
        words: tuple[str, ...] = (),
        **details: Any,
    ) -> None:
        self.template = message
        self.params = dict(params) if params is not None else None
        self.words = words
        self.message = message % self.params if self.params is not None else message
        super().__init__(self.message)
        self.status = status
        self.code = code
        self.details = details

    def to_dict(self, translations: Translator | None = None) -> dict[str, Any]:
        """The JSON body; with ``translations`` the message is in the reader's language."""
        message = self.message
        if translations is not None:
            message = translations.gettext(self.template)
            if self.params is not None:
                message %= {
                    k: str(translations.pgettext(WORD, str(v))) if k in self.words else v for k, v in self.params.items()
                }
        return {"error": self.code, "message": message, **self.details}


def bad_request(message: str, **details: Any) -> ProblemError:
    """400: the request itself is unreadable (not JSON, wrong content type)."""
    return ProblemError(400, "bad_request", message, **details)


def invalid(message: str, **details: Any) -> ProblemError:
    """422: well-formed, but a field is missing or wrong."""
    return ProblemError(422, "invalid", message, **details)


def not_found(message: str, **details: Any) -> ProblemError:
    """404: no such branch, counter, ticket or service (``message`` may be a template, see
    :class:`ProblemError`)."""
    return ProblemError(404, "not_found", message, **details)


def conflict(message: str, **details: Any) -> ProblemError:
    """409: the request does not fit the branch's current state (``message`` may be a template)."""
    return ProblemError(409, "conflict", message, **details)


def unauthorized(message: str) -> ProblemError:
    """401: no or unknown bearer token."""
    return ProblemError(401, "unauthorized", message)


def forbidden(message: str) -> ProblemError:
    """403: the token's role or binding does not allow this."""
    return ProblemError(403, "forbidden", message)
