"""Staff accounts as plain rules: who a user may be (role, branches, counter), what a user
name and a password must look like. No I/O, no framework: the store keeps users, the web
layer signs them in, the CLI creates them, and all of them ask these functions first.

Roles, from most to least powerful:

- ``admin``: every branch;
- ``area_manager``: the powers of a branch manager on each of one or more branches;
- ``manager``: a branch manager, one branch;
- ``teller``: one branch, optionally assigned to one counter (else picked at sign-in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from queue_board.core.fields import MAX_NAME_LENGTH

#: the roles of staff users (bearer tokens have their own, see ``queue_board.web.auth.ROLES``)
USER_ROLES = ("admin", "area_manager", "manager", "teller")
#: roles that run a branch: the manager pages are theirs (admin too, on every branch)
MANAGER_ROLES = ("admin", "area_manager", "manager")
#: spellings people type on a command line for a role
ROLE_ALIASES = {"area-manager": "area_manager", "areamanager": "area_manager", "branch-manager": "manager"}

MAX_USERNAME_LENGTH = 64
USERNAME = re.compile(r"[a-z0-9._-]{1,64}")
#: the password policy: long enough to resist guessing (the sign-in limit slows guessing down too)
MIN_PASSWORD_LENGTH = 10
#: an upper bound, so that nobody makes the server hash a megabyte per sign-in attempt
MAX_PASSWORD_LENGTH = 1024
MAX_DISPLAY_NAME_LENGTH = 120


def normalise_username(raw: str) -> str:
    """A user name as stored and looked up: trimmed and lower-cased (``" Alice "`` is ``alice``)."""
    return raw.strip().lower()


def parse_role(raw: str) -> str | None:
    """One of :data:`USER_ROLES` for what someone typed (``area-manager`` too), or ``None``."""
    name = raw.strip().lower()
    name = ROLE_ALIASES.get(name, name)
    return name if name in USER_ROLES else None


def username_problem(username: str) -> str | None:
    """Why ``username`` (already normalised) cannot be a user name, or ``None``."""
    if not username:
        return "a user name cannot be empty"
    if len(username) > MAX_USERNAME_LENGTH:
        return f"a user name has at most {MAX_USERNAME_LENGTH} characters"
    if not USERNAME.fullmatch(username):
        return f"user name {username!r} may only use a-z, 0-9, '.', '_' and '-'"
    return None


def display_name_problem(display_name: str) -> str | None:
    """Why ``display_name`` cannot be shown as a user's name, or ``None``."""
    if not display_name.strip():
        return "a display name cannot be blank"
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        return f"a display name has at most {MAX_DISPLAY_NAME_LENGTH} characters"
    if any(ord(ch) < 32 for ch in display_name):
        return "a display name cannot contain control characters"
    return None


def unique_branches(branches: Iterable[str]) -> tuple[str, ...]:
    """The branches named, trimmed, each once, in the order given."""
    seen: dict[str, None] = {}
    for branch in branches:
        seen.setdefault(branch.strip(), None)
    return tuple(seen)


def staff_problem(role: str, branches: Iterable[str], counter: str | None) -> str | None:
    """Why a user with this role, these branches and this counter cannot exist, or ``None``.

    An admin has no branch; a manager and a teller exactly one; an area manager one or more.
    Only a teller may be assigned a counter (optional: without one, they pick at sign-in).
    """
    if role not in USER_ROLES:
        return f"unknown role {role!r}; expected one of {list(USER_ROLES)}"
    named = unique_branches(branches)
    for branch in named:
        if not branch or len(branch) > MAX_NAME_LENGTH:
            return f"branch {branch!r} is not a branch id (1 to {MAX_NAME_LENGTH} characters)"
    if role == "admin" and named:
        return "an admin works at every branch: give no branch"
    if role in ("manager", "teller") and len(named) != 1:
        return f"a {role} works at exactly one branch (got {len(named)})"
    if role == "area_manager" and not named:
        return "an area manager covers one or more branches: give at least one"
    if counter is not None:
        if role != "teller":
            return f"only a teller can be assigned a counter, not a {role}"
        if not counter.strip() or len(counter) > MAX_NAME_LENGTH:
            return f"counter {counter!r} is not a counter name (1 to {MAX_NAME_LENGTH} characters)"
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` breaks the policy (at least :data:`MIN_PASSWORD_LENGTH` characters), or ``None``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "a password cannot be only spaces"
    return None
