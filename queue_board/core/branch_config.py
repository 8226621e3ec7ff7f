"""A branch's configuration: its services (ticket prefix, names per language), counters and
pause reasons.

It names things (``deposit`` is "存款" with tickets ``A001``…, the pause reason ``lunch`` is
"午休"), gives each counter a default work profile for "open" and lists the reasons a teller
picks from when pausing. It reaches a branch as a ``branch_configured`` event of its log (see
docs/event-log.md), so every process and every restart sees the same configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from queue_board.core.fields import MAX_NAME_LENGTH, EventFormatError, Profile, parse_profile

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,3}$")
#: a pause reason's code: what the log records (``lunch``, ``cash_delivery``)
REASON_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: a pause reason's name on a board, in any language
MAX_REASON_NAME_LENGTH = 40
#: the pause dialog has room for this many reasons (and "Other")
MAX_PAUSE_REASONS = 12


class ConfigError(ValueError):
    """A branch configuration that cannot be used; ``field`` names the offending part."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A transaction type customers take tickets for."""

    code: str
    prefix: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        """The service's name in ``language``, falling back to English, then the code."""
        return self.names.get(language) or self.names.get("en") or self.code


@dataclass(frozen=True, slots=True)
class PauseReason:
    """A reason a teller pauses for: the code the log records, and its name in every language."""

    code: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        """The reason's name in ``language``, falling back to English, then the code."""
        return self.names.get(language) or self.names.get("en") or self.code

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as a configuration and the board carry it."""
        return {"code": self.code, "names": dict(self.names)}


#: the reasons of a branch that configures none (the codes the simulated branches use too)
DEFAULT_PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("authorisation", {"en": "Getting authorisation", "zh-Hant": "取得授權中", "zh-Hans": "授权审批中"}),
    PauseReason("cash_delivery", {"en": "Cash delivery", "zh-Hant": "運鈔作業", "zh-Hans": "运钞作业"}),
    PauseReason("helping_colleague", {"en": "Helping a colleague", "zh-Hant": "協助同事", "zh-Hans": "协助同事"}),
    PauseReason("back_office", {"en": "Back-office work", "zh-Hant": "後台作業", "zh-Hans": "后台作业"}),
    PauseReason("system", {"en": "System problem", "zh-Hant": "系統問題", "zh-Hans": "系统故障"}),
    PauseReason("break", {"en": "Break", "zh-Hant": "休息", "zh-Hans": "休息"}),
    PauseReason("lunch", {"en": "Lunch", "zh-Hant": "午休", "zh-Hans": "午休"}),
)


@dataclass(frozen=True, slots=True)
class CounterInfo:
    """A counter and the work profile it opens with unless told otherwise."""

    name: str
    services: Profile


@dataclass(frozen=True, slots=True)
class BranchConfig:
    """Everything about a branch that is configuration rather than events."""

    name: str = "Branch"
    languages: tuple[str, ...] = LANGUAGES
    services: tuple[ServiceInfo, ...] = ()
    counters: tuple[CounterInfo, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    #: the configured pause reasons; empty when the branch configures none (then :attr:`reasons`
    #: are :data:`DEFAULT_PAUSE_REASONS`)
    pause_reasons: tuple[PauseReason, ...] = ()

    @property
    def reasons(self) -> tuple[PauseReason, ...]:
        """The pause reasons in effect: the configured ones, else the defaults."""
        return self.pause_reasons or DEFAULT_PAUSE_REASONS

    def pause_reason(self, logged: str | None) -> PauseReason | None:
        """The reason a logged ``reason`` names: its code, or (for logs written before reasons
        were codes) one of its names in any language, ignoring case; ``None`` for free text."""
        if not logged:
            return None
        text = logged.strip()
        found = next((r for r in self.reasons if r.code == text), None)
        if found is None:
            folded = text.casefold()
            found = next((r for r in self.reasons if any(n.casefold() == folded for n in r.names.values())), None)
        return found

    def service(self, code: str) -> ServiceInfo | None:
        """The configured service with this code."""
        return next((s for s in self.services if s.code == code), None)

    def counter(self, name: str) -> CounterInfo | None:
        """The configured counter with this name."""
        return next((c for c in self.counters if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the same shape :func:`parse_config` reads (``pause_reasons`` only
        when configured, so a configuration from before pause reasons reads back the same)."""
        out: dict[str, Any] = {
            "name": self.name,
            "names": dict(self.names),
            "languages": list(self.languages),
            "services": [{"code": s.code, "prefix": s.prefix, "names": dict(s.names)} for s in self.services],
            "counters": [{"name": c.name, "services": [list(t) for t in c.services]} for c in self.counters],
        }
        if self.pause_reasons:
            out["pause_reasons"] = [r.to_dict() for r in self.pause_reasons]
        return out


def _text(value: Any, field_name: str, limit: int = 80) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(field_name, "must be a non-empty string")
    if len(value) > limit:
        raise ConfigError(field_name, f"must be at most {limit} characters")
    return value.strip()


def _names(value: Any, field_name: str, limit: int = 80) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(field_name, "must map a language (en, zh-Hant, zh-Hans) to a name")
    out: dict[str, str] = {}
    for language, text in value.items():
        if language not in LANGUAGES:
            raise ConfigError(field_name, f"unknown language {language!r}; expected one of {list(LANGUAGES)}")
        out[language] = _text(text, f"{field_name}.{language}", limit)
    return out


def _pause_reasons(value: Any, languages: list[str]) -> tuple[PauseReason, ...]:
    """The configured pause reasons: codes, each named in every language of the branch."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ConfigError("pause_reasons", "must be a non-empty list of {code, names} (leave it out for the defaults)")
    if len(value) > MAX_PAUSE_REASONS:
        raise ConfigError("pause_reasons", f"must list at most {MAX_PAUSE_REASONS} reasons")
    reasons: list[PauseReason] = []
    for index, raw in enumerate(value):
        where = f"pause_reasons[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(where, "must be an object with code and names")
        unknown = set(raw) - {"code", "names"}
        if unknown:
            raise ConfigError(where, f"unknown keys {sorted(unknown)}")
        code = raw.get("code")
        if not isinstance(code, str) or not REASON_CODE_PATTERN.match(code):
            raise ConfigError(
                f"{where}.code", "must be 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter"
            )
        if any(r.code == code for r in reasons):
            raise ConfigError(f"{where}.code", f"pause reason {code!r} is configured twice")
        names = _names(raw.get("names"), f"{where}.names", MAX_REASON_NAME_LENGTH)
        missing = [lang for lang in languages if lang not in names]
        if missing:
            raise ConfigError(f"{where}.names", f"needs a name in every language of the branch; missing {missing}")
        reasons.append(PauseReason(code=code, names=names))
    return tuple(reasons)


def parse_config(obj: Any) -> BranchConfig:
    """Validate a decoded configuration object (JSON or TOML) into a :class:`BranchConfig`."""
    if not isinstance(obj, dict):
        raise ConfigError("config", "must be an object")
    unknown = set(obj) - {"name", "names", "languages", "services", "counters", "pause_reasons"}
    if unknown:
        raise ConfigError("config", f"unknown keys {sorted(unknown)}")
    name = _text(obj.get("name", "Branch"), "name")
    languages = obj.get("languages", list(LANGUAGES))
    if not isinstance(languages, list) or not languages or any(lang not in LANGUAGES for lang in languages):
        raise ConfigError("languages", f"must be a non-empty list drawn from {list(LANGUAGES)}")
    services_raw = obj.get("services", [])
    if not isinstance(services_raw, list):
        raise ConfigError("services", "must be a list")
    services: list[ServiceInfo] = []
    for index, raw in enumerate(services_raw):
        where = f"services[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(where, "must be an object with code, prefix and names")
        code = _text(raw.get("code"), f"{where}.code", MAX_NAME_LENGTH)
        prefix = _text(raw.get("prefix"), f"{where}.prefix", 3)
        if not PREFIX_PATTERN.match(prefix):
            raise ConfigError(f"{where}.prefix", "must be one to three capital letters")
        if any(s.code == code for s in services):
            raise ConfigError(f"{where}.code", f"service {code!r} is configured twice")
        if any(s.prefix == prefix for s in services):
            raise ConfigError(f"{where}.prefix", f"prefix {prefix!r} is used by another service")
        services.append(ServiceInfo(code=code, prefix=prefix, names=_names(raw.get("names"), f"{where}.names")))
    counters_raw = obj.get("counters", [])
    if not isinstance(counters_raw, list):
        raise ConfigError("counters", "must be a list")
    counters: list[CounterInfo] = []
    codes = {s.code for s in services}
    for index, raw in enumerate(counters_raw):
        where = f"counters[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(where, "must be an object with name and services")
        counter_name = _text(raw.get("name"), f"{where}.name", MAX_NAME_LENGTH)
        if any(c.name == counter_name for c in counters):
            raise ConfigError(f"{where}.name", f"counter {counter_name!r} is configured twice")
        try:
            profile = parse_profile(raw.get("services"), f"{where}.services")
        except EventFormatError as exc:
            raise ConfigError(exc.field, exc.message) from None
        missing = [s for tier in profile for s in tier if s not in codes]
        if missing:
            raise ConfigError(f"{where}.services", f"unknown services {missing}")
        counters.append(CounterInfo(name=counter_name, services=profile))
    return BranchConfig(
        name=name,
        names=_names(obj.get("names"), "names"),
        languages=tuple(languages),
        services=tuple(services),
        counters=tuple(counters),
        pause_reasons=_pause_reasons(obj.get("pause_reasons"), languages),
    )


#: The demo's branch: the services and counters of ``shared/data/sample-branch.jsonl``.
DEMO_CONFIG = parse_config(
    {
        "name": "Demo Branch",
        "names": {"en": "Demo Branch", "zh-Hant": "示範分行", "zh-Hans": "示范分行"},
        "services": [
            {"code": "deposit", "prefix": "A", "names": {"en": "Deposits & withdrawals", "zh-Hant": "存提款", "zh-Hans": "存取款"}},
            {"code": "remittance", "prefix": "B", "names": {"en": "Remittance", "zh-Hant": "匯款", "zh-Hans": "汇款"}},
            {"code": "loan", "prefix": "C", "names": {"en": "Loans", "zh-Hant": "貸款", "zh-Hans": "贷款"}},
        ],
        "counters": [
            {"name": "1", "services": [["deposit"]]},
            {"name": "2", "services": [["deposit", "remittance"]]},
            {"name": "3", "services": [["remittance"], ["deposit"]]},
            {"name": "4", "services": [["loan"], ["remittance"]]},
        ],
    }
)
