"""The smallest pieces of the log's vocabulary, shared by events and branch configuration:
names, work profiles and the error that names a malformed field."""

from __future__ import annotations

from typing import Any

MAX_NAME_LENGTH = 64

#: a work profile: tiers of service codes, highest priority first
Profile = tuple[tuple[str, ...], ...]


class EventFormatError(ValueError):
    """An event whose shape is wrong: a missing field, a bad type, an unknown event type."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_profile(value: Any, field_name: str = "services") -> Profile:
    """Parse a work profile: tiers, highest priority first; a tier is a list or one code."""
    if not isinstance(value, list) or not value:
        raise EventFormatError(field_name, "must be a non-empty list of tiers")
    tiers: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for tier in value:
        codes = [tier] if isinstance(tier, str) else tier
        if not isinstance(codes, list) or not codes:
            raise EventFormatError(field_name, "each tier must be a service code or a non-empty list of them")
        for code in codes:
            if not isinstance(code, str) or not code.strip() or len(code) > MAX_NAME_LENGTH:
                raise EventFormatError(field_name, f"{code!r} is not a service code")
            if code in seen:
                raise EventFormatError(field_name, f"service {code!r} appears in more than one tier")
            seen.add(code)
        tiers.append(tuple(codes))
    return tuple(tiers)
