"""A branch's configuration: its services (ticket prefix, names per language), counters, pause
reasons and heads-up reasons.

It names things (``deposit`` is "存款" with tickets ``A001``…, the pause reason ``lunch`` is
"午休"), gives each counter a default work profile for "open" and lists the reasons a teller
picks from when pausing. It reaches a branch as a ``branch_configured`` event of its log (see
docs/event-log.md), so every process and every restart sees the same configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from queue_board.core.fields import MAX_NAME_LENGTH, EventFormatError, Profile, name_problem, parse_profile
from queue_board.core.warning_thresholds import check_thresholds

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,3}$")
#: a pause reason's code: what the log records (``lunch``, ``cash_delivery``)
REASON_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: a pause reason's name on a board, in any language
MAX_REASON_NAME_LENGTH = 40
#: the pause dialog has room for this many reasons (and "Other")
MAX_PAUSE_REASONS = 12
#: the console's heads-up buttons have room for this many reasons
MAX_HEADS_UP_REASONS = 8
#: the most extra minutes one heads-up may declare (a longer step is a pause or a new ticket)
MAX_HEADS_UP_MINUTES = 120


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


@dataclass(frozen=True, slots=True)
class HeadsUpReason:
    """A long step a teller warns the customer of ("+5 min: entering your details"): the code
    the log records, its name in every language (as the customer hears it) and the minutes the
    console declares for it unless the teller says otherwise."""

    code: str
    names: dict[str, str]
    minutes: float

    def name(self, language: str) -> str:
        """The reason's name in ``language``, falling back to English, then the code."""
        return self.names.get(language) or self.names.get("en") or self.code

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as a configuration and the board carry it."""
        minutes = int(self.minutes) if float(self.minutes).is_integer() else self.minutes
        return {"code": self.code, "names": dict(self.names), "minutes": minutes}


#: the heads-up reasons of a branch that configures none
DEFAULT_HEADS_UP_REASONS: tuple[HeadsUpReason, ...] = (
    HeadsUpReason("entering_details", {"en": "Entering your details", "zh-Hant": "正在輸入您的資料", "zh-Hans": "正在录入您的资料"}, 5),
    HeadsUpReason("authorisation", {"en": "Fetching an authorisation", "zh-Hant": "正在取得主管授權", "zh-Hans": "正在申请主管授权"}, 3),
    HeadsUpReason("checking_documents", {"en": "Checking your documents", "zh-Hant": "正在核對您的文件", "zh-Hans": "正在核对您的证件材料"}, 5),
    HeadsUpReason("counting_cash", {"en": "Counting the cash", "zh-Hant": "正在清點現金", "zh-Hans": "正在清点现金"}, 3),
    HeadsUpReason("printing", {"en": "Printing your documents", "zh-Hant": "正在列印文件", "zh-Hans": "正在打印文件"}, 2),
    HeadsUpReason("system_slow", {"en": "Waiting for the system", "zh-Hant": "正在等候系統回應", "zh-Hans": "正在等待系统响应"}, 5),
)


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
    #: opens as "express ≤ N min" for this N (``counter_opened.express_minutes``); ``None``: not express
    express_minutes: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``express_minutes`` only when set, so older configurations read back the same)."""
        out: dict[str, Any] = {"name": self.name, "services": [list(t) for t in self.services]}
        if self.express_minutes is not None:
            minutes = self.express_minutes
            out["express_minutes"] = int(minutes) if minutes.is_integer() else minutes
        return out


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
    #: the configured heads-up reasons; empty when the branch configures none (then
    #: :attr:`heads_ups` are :data:`DEFAULT_HEADS_UP_REASONS`)
    heads_up_reasons: tuple[HeadsUpReason, ...] = ()
    #: the early warnings' thresholds this branch sets (``core.warning_thresholds``); the rest default
    warning_thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def heads_ups(self) -> tuple[HeadsUpReason, ...]:
        """The heads-up reasons in effect: the configured ones, else the defaults."""
        return self.heads_up_reasons or DEFAULT_HEADS_UP_REASONS

    def heads_up_reason(self, logged: str | None) -> HeadsUpReason | None:
        """The heads-up reason a logged ``reason`` code names; ``None`` for free text or none."""
        if not logged:
            return None
        return next((r for r in self.heads_ups if r.code == logged.strip()), None)

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
            "counters": [c.to_dict() for c in self.counters],
        }
        if self.pause_reasons:
            out["pause_reasons"] = [r.to_dict() for r in self.pause_reasons]
        if self.heads_up_reasons:
            out["heads_up_reasons"] = [r.to_dict() for r in self.heads_up_reasons]
        if self.warning_thresholds:
            out["warning_thresholds"] = dict(self.warning_thresholds)
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


def _reason_code_and_names(
    raw: Any, where: str, kind: str, taken: list[str], languages: list[str], *, extra_keys: tuple[str, ...] = ()
) -> tuple[str, dict[str, str]]:
    """One configured reason's ``code`` (new among ``taken``) and its ``names`` (one in every
    language of the branch): what pause and heads-up reasons share; ``extra_keys`` are the
    other keys the kind allows (its caller reads them)."""
    keys = ("code", "names", *extra_keys)
    if not isinstance(raw, dict):
        allowed = ", ".join(keys[:-1]) + " and " + keys[-1]
        raise ConfigError(where, f"must be an object with {allowed}")
    unknown = set(raw) - set(keys)
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)}")
    code = raw.get("code")
    if not isinstance(code, str) or not REASON_CODE_PATTERN.match(code):
        raise ConfigError(f"{where}.code", "must be 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter")
    if code in taken:
        raise ConfigError(f"{where}.code", f"{kind} {code!r} is configured twice")
    names = _names(raw.get("names"), f"{where}.names", MAX_REASON_NAME_LENGTH)
    missing = [lang for lang in languages if lang not in names]
    if missing:
        raise ConfigError(f"{where}.names", f"needs a name in every language of the branch; missing {missing}")
    return code, names


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
        code, names = _reason_code_and_names(raw, where, "pause reason", [r.code for r in reasons], languages)
        reasons.append(PauseReason(code=code, names=names))
    return tuple(reasons)


#: the largest N of an express counter ("express ≤ N min"); ``core.events`` reads it from here
MAX_EXPRESS_MINUTES = 120.0


def _express_minutes(raw: dict[str, Any], where: str) -> float | None:
    """A counter's optional ``express_minutes``: more than 0 and at most :data:`MAX_EXPRESS_MINUTES`."""
    value = raw.get("express_minutes")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_EXPRESS_MINUTES:
        raise ConfigError(f"{where}.express_minutes", f"must be a number of minutes, more than 0 and at most {MAX_EXPRESS_MINUTES:g}")
    return float(value)


def _heads_up_reasons(value: Any, languages: list[str]) -> tuple[HeadsUpReason, ...]:
    """The configured heads-up reasons: codes, named in every language of the branch, each with
    the minutes it declares (more than 0, at most :data:`MAX_HEADS_UP_MINUTES`)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ConfigError(
            "heads_up_reasons", "must be a non-empty list of {code, names, minutes} (leave it out for the defaults)"
        )
    if len(value) > MAX_HEADS_UP_REASONS:
        raise ConfigError("heads_up_reasons", f"must list at most {MAX_HEADS_UP_REASONS} reasons")
    reasons: list[HeadsUpReason] = []
    for index, raw in enumerate(value):
        where = f"heads_up_reasons[{index}]"
        code, names = _reason_code_and_names(
            raw, where, "heads-up reason", [r.code for r in reasons], languages, extra_keys=("minutes",)
        )
        minutes = raw.get("minutes")
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int | float)
            or not 0 < minutes <= MAX_HEADS_UP_MINUTES
        ):
            raise ConfigError(f"{where}.minutes", f"must be a number of minutes above 0 and at most {MAX_HEADS_UP_MINUTES}")
        reasons.append(HeadsUpReason(code=code, names=names, minutes=float(minutes)))
    return tuple(reasons)


def _code(value: Any, field_name: str, *, strict: bool) -> str:
    """A service code or counter name: :func:`~queue_board.core.fields.name_problem`'s charset
    (``strict=False``, a configuration stored before that rule: only its length)."""
    code = _text(value, field_name, MAX_NAME_LENGTH)
    problem = name_problem(code) if strict else None
    if problem is not None:
        raise ConfigError(field_name, problem)
    return code


def parse_config(obj: Any, *, strict: bool = True) -> BranchConfig:
    """Validate a decoded configuration object (JSON or TOML) into a :class:`BranchConfig`
    (``strict=False``: one the store accepted before codes were held to a charset)."""
    if not isinstance(obj, dict):
        raise ConfigError("config", "must be an object")
    unknown = set(obj) - {"name", "names", "languages", "services", "counters", "pause_reasons", "heads_up_reasons", "warning_thresholds"}
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
        code = _code(raw.get("code"), f"{where}.code", strict=strict)
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
        counter_name = _code(raw.get("name"), f"{where}.name", strict=strict)
        if any(c.name == counter_name for c in counters):
            raise ConfigError(f"{where}.name", f"counter {counter_name!r} is configured twice")
        try:
            profile = parse_profile(raw.get("services"), f"{where}.services", strict=strict)
        except EventFormatError as exc:
            raise ConfigError(exc.field, exc.message) from None
        missing = [s for tier in profile for s in tier if s not in codes]
        if missing:
            raise ConfigError(f"{where}.services", f"unknown services {missing}")
        counters.append(CounterInfo(name=counter_name, services=profile, express_minutes=_express_minutes(raw, where)))
    return BranchConfig(
        name=name,
        names=_names(obj.get("names"), "names"),
        languages=tuple(languages),
        services=tuple(services),
        counters=tuple(counters),
        pause_reasons=_pause_reasons(obj.get("pause_reasons"), languages),
        heads_up_reasons=_heads_up_reasons(obj.get("heads_up_reasons"), languages),
        warning_thresholds=_warning_thresholds(obj.get("warning_thresholds")),
    )


def _warning_thresholds(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    try:
        return check_thresholds(value)
    except ValueError as exc:
        raise ConfigError("warning_thresholds", str(exc)) from None


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
