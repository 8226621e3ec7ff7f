"""The smallest pieces of the log's vocabulary, shared by events and branch configuration:
names, work profiles and the error that names a malformed field."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

MAX_NAME_LENGTH = 64

#: characters no label or code (ticket label, counter name, service code, branch id) may hold:
#: ``/`` and ``\\`` break the URLs the label goes into (a kiosk could not cancel ``A/1``), ``<``
#: and ``>`` are markup; the shared logs' labels (``A001``, ``AA0201-34853``, ``MICHAL``) hold none
FORBIDDEN_NAME_CHARACTERS = frozenset("/\\<>")
#: Unicode categories refused too: control and format characters (NUL, newlines, zero-width
#: and direction marks), surrogates, line and paragraph separators
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

#: a work profile: tiers of service codes, highest priority first
Profile = tuple[tuple[str, ...], ...]


class EventFormatError(ValueError):
    """An event whose shape is wrong: a missing field, a bad type, an unknown event type."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def name_problem(value: Any, limit: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``value`` cannot be a label or code (docs/api.md "Limits"), or ``None`` if it can:
    a non-blank string of at most ``limit`` characters without a forbidden character."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    for char in value:
        if char in FORBIDDEN_NAME_CHARACTERS or unicodedata.category(char) in FORBIDDEN_NAME_CATEGORIES:
            return f"must not contain {char!r} (control characters, '/', '\\', '<' and '>' are not allowed)"
    return None


def finite_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite JSON number (not a bool), else ``None``; an integer
    too large for a float (400 digits) is not one rather than an ``OverflowError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _loose_name_problem(value: Any) -> str | None:
    """The rule before the charset was restricted: what events stored back then were held to."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if len(value) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters"
    return None


def parse_profile(value: Any, field_name: str = "services", *, strict: bool = True) -> Profile:
    """Parse a work profile: tiers, highest priority first; a tier is a list or one code.

    ``strict=False`` (events already stored) checks only the length, as before the charset rule."""
    if not isinstance(value, list) or not value:
        raise EventFormatError(field_name, "must be a non-empty list of tiers")
    tiers: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for tier in value:
        codes = [tier] if isinstance(tier, str) else tier
        if not isinstance(codes, list) or not codes:
            raise EventFormatError(field_name, "each tier must be a service code or a non-empty list of them")
        for code in codes:
            problem = name_problem(code) if strict else _loose_name_problem(code)
            if problem is not None:
                raise EventFormatError(field_name, f"{code!r} is not a service code: it {problem}")
            if code in seen:
                raise EventFormatError(field_name, f"service {code!r} appears in more than one tier")
            seen.add(code)
        tiers.append(tuple(codes))
    return tuple(tiers)
