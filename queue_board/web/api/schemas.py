"""One schema per JSON request body of the API (docs/api.md "Schemas and OpenAPI").

Each body is a pydantic model for two readers. The server validates a request through it
(:func:`parsed`), and the model's validator calls the rule that already judges that body (the
core's :func:`~queue_board.core.events.parse_event`, :func:`~queue_board.core.branch_config.parse_config`,
:func:`~queue_board.core.teller_actions.build_action`, :func:`~queue_board.core.fields.name_problem`):
the rules are written once, there, and never restated here. The OpenAPI document
(:mod:`.openapi`) is generated from the models' JSON Schema, whose constraints (``maxLength``,
``pattern``, ``enum``, ranges) are read from the core's constants.

So the fields' types and constraints below describe and are never enforced: once the core's rule
has accepted a body, the model is constructed from it without a second judgement, and the service
still receives the body exactly as it was sent (:attr:`Body.raw`). Only checks that do not depend on the branch's state are made
before the service runs: whatever the state judges (a 404 for an unknown ticket, a 409 for a busy
counter) keeps its place in the order of today's checks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from queue_board.core.branch import BranchState, Rejection
from queue_board.core.branch_config import (
    LANGUAGES,
    MAX_EXPRESS_MINUTES,
    MAX_HEADS_UP_MINUTES,
    MAX_HEADS_UP_REASONS,
    MAX_PAUSE_REASONS,
    MAX_REASON_NAME_LENGTH,
    PREFIX_PATTERN,
    REASON_CODE_PATTERN,
    BranchConfig,
    ConfigError,
    parse_config,
)
from queue_board.core.events import (
    EVENT_FIELDS,
    EVENT_TYPES,
    FEEDBACK_ASPECTS,
    FEEDBACK_CATEGORIES,
    FEEDBACK_CHANNELS,
    FEEDBACK_KINDS,
    FEEDBACK_STATUSES,
    FEEDBACK_TYPES,
    MAX_FEEDBACK_NOTE,
    MAX_FEEDBACK_TEXT,
    MAX_PAUSE_MINUTES,
    MAX_PREDICTED_SECONDS,
    MAX_REASON_LENGTH,
    MAX_WARNING_FACTS,
    MAX_WARNING_KEY,
    MAX_WARNING_NOTE,
    REPROMISE_REASONS,
    SATISFACTION_RANGE,
    SERVER_FIELDS,
    WARNING_KINDS,
    WARNING_OUTCOMES,
    WARNING_SEVERITIES,
    WARNING_TYPES,
    parse_event,
)
from queue_board.core.fields import (
    FORBIDDEN_NAME_CATEGORIES,
    FORBIDDEN_NAME_CHARACTERS,
    MAX_NAME_LENGTH,
    EventFormatError,
    name_problem,
)
from queue_board.core.teller_actions import ACTIONS, build_action
from queue_board.core.warning_thresholds import SHARE_NAMES, THRESHOLD_NAMES
from queue_board.service.errors import ProblemError, invalid

# the service's own rule for the fields a feedback write may carry: called, not copied
from queue_board.service.feedback import RECORD_FIELDS, UPDATE_FIELDS
from queue_board.service.feedback import _only as only_fields
from queue_board.web.request_json import json_body

#: the error type a core rule's refusal becomes inside pydantic (its context keeps the field)
CORE_RULE = "core_rule"
#: any time will do for a shape check: the live server stamps events itself
_SHAPE_TS = datetime(2000, 1, 1, tzinfo=UTC)

B = TypeVar("B", bound="Body")


# the charset rule of labels, as JSON Schema ---------------------------------------------
@cache
def label_pattern() -> str:
    """A regular expression (ECMA-262 and Python alike) of the characters
    :func:`~queue_board.core.fields.name_problem` refuses, built from its constants: one or more
    characters, none of them forbidden. Surrogates are left out (a JSON Schema reader sees UTF-16
    code units, where every character beyond U+FFFF is a pair of them), and so are the format
    characters beyond U+FFFF: the description says the rule in full."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cs" or not (char in FORBIDDEN_NAME_CHARACTERS or category in FORBIDDEN_NAME_CATEGORIES):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    spans = "".join(f"\\u{low:04X}" if low == high else f"\\u{low:04X}-\\u{high:04X}" for low, high in ranges)
    return f"^[^{spans}]+$"


LABEL_RULE = (
    f"1 to {MAX_NAME_LENGTH} characters, not all blank, without '/', '\\', '<', '>' or characters of the "
    f"Unicode categories {', '.join(sorted(FORBIDDEN_NAME_CATEGORIES))} (docs/api.md \"Limits\")"
)


def label_schema(description: str = "") -> dict[str, Any]:
    """The JSON Schema of a label or code (ticket label, counter name, service code, branch id)."""
    text = f"{description}: {LABEL_RULE}" if description else LABEL_RULE
    return {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": label_pattern(), "description": text}


def _string(limit: int, description: str, **more: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": limit, "description": description, **more})


def _words(words: tuple[str, ...] | frozenset[str], description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": sorted(words) if isinstance(words, frozenset) else list(words), "description": description})


def _number(description: str, *, low: float, high: float, low_open: bool = False) -> WithJsonSchema:
    bound = {"exclusiveMinimum": low} if low_open else {"minimum": low}
    return WithJsonSchema({"type": "number", **bound, "maximum": high, "description": description})


Label = Annotated[str, WithJsonSchema(label_schema())]
TicketLabel = Annotated[str, WithJsonSchema(label_schema("a ticket label (A017)"))]
ServiceCode = Annotated[str, WithJsonSchema(label_schema("a service code (deposit)"))]
CounterName = Annotated[str, WithJsonSchema(label_schema("a counter name"))]
BranchId = Annotated[str, WithJsonSchema(label_schema("a branch id"))]
#: a work profile: tiers of service codes, highest priority first; a tier is a code or a list of them
Profile = Annotated[
    list[str | list[str]],
    WithJsonSchema(
        {
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [label_schema(), {"type": "array", "minItems": 1, "items": label_schema()}]},
            "description": "tiers of service codes, highest priority first (a tier is a code or a list of codes); "
            "no code in two tiers",
        }
    ),
]
#: a name in each language of the branch
Names = Annotated[
    dict[str, str],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"enum": list(LANGUAGES)},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 80},
            "description": f"a name per language, of {', '.join(LANGUAGES)}",
        }
    ),
]
ReasonNames = Annotated[
    dict[str, str],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"enum": list(LANGUAGES)},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": MAX_REASON_NAME_LENGTH},
            "description": "a name in every language of the branch",
        }
    ),
]
Range = Annotated[
    dict[str, float],
    WithJsonSchema(
        {
            "type": "object",
            "required": ["p10", "p50", "p90"],
            "additionalProperties": False,
            "properties": {q: {"type": "number", "minimum": 0} for q in ("p10", "p50", "p90")},
            "description": "a range in seconds, p10 <= p50 <= p90",
        }
    ),
]
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset"})]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"})]


# the base: a model whose validator is the core's rule ---------------------------------------
def refuse(field: str | None, message: str) -> NoReturn:
    """Refuse the body inside a validator: a 422 naming ``field`` once :func:`parsed` maps it."""
    raise PydanticCustomError(CORE_RULE, "{message}", {"field": field, "message": message})


class Part(BaseModel):
    """A part of a body (a service of a configuration): described here, judged with its body."""

    model_config = ConfigDict(extra="allow")


class Body(BaseModel):
    """A request body: :meth:`check` (the core's rule) runs on the body as sent, before the
    fields are read; :attr:`raw` is the body as sent, what the service receives."""

    model_config = ConfigDict(extra="allow")
    _raw: dict[str, Any] = {}

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """Raise what the core's rule says of ``raw`` (:class:`EventFormatError`,
        :class:`ConfigError`, a 422 :class:`ProblemError`, or :func:`refuse`); by default no rule."""

    @model_validator(mode="wrap")
    @classmethod
    def _by_the_core_rule(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            refuse(None, "the body must be a JSON object")
        try:
            cls.check(data, info.context or {})
        except (EventFormatError, ConfigError) as exc:
            refuse(exc.field, exc.message)
        except ProblemError as exc:
            if exc.status != 422:
                raise
            refuse(exc.details.get("field"), exc.message)
        # the fields are read, not judged again: a type or constraint of theirs is a description
        # (for the OpenAPI document), never a second rule that the core's would not know of
        model = cls.model_construct(**{name: data[name] for name in cls.model_fields if name in data})
        model._raw = data
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The body as the client sent it."""
        return dict(self._raw)


def _location(loc: tuple[int | str, ...]) -> str | None:
    """pydantic's location of an error as the core names fields (``services[0].code``)."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def problem_of(exc: ValidationError) -> ProblemError:
    """The project's 422 for a refused body: its first error, naming the field (docs/api.md "Errors")."""
    first = exc.errors(include_url=False)[0]
    if first["type"] == CORE_RULE:
        context = first.get("ctx") or {}
        field, message = context.get("field"), str(context.get("message", first["msg"]))
    else:
        field = _location(tuple(first["loc"]))
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
    return invalid(message, field=field) if field is not None else invalid(message)


def parsed(model: type[B], *, required: bool = True, **context: Any) -> B:
    """The request's JSON body validated by ``model`` (400 if it is no JSON object, 422 naming
    the first wrong field); ``context`` is what the model's rule needs besides the body."""
    body = json_body(required=required)
    try:
        return model.model_validate(body, context=context)
    except ValidationError as exc:
        raise problem_of(exc) from None


# PUT /branches/{branch}/config ----------------------------------------------------------------
class ServiceBody(Part):
    """A service customers take tickets for."""

    code: ServiceCode
    prefix: Annotated[str, WithJsonSchema({"type": "string", "pattern": PREFIX_PATTERN.pattern, "description": "the tickets' prefix"})]
    names: Names | None = None


class CounterBody(Part):
    """A counter and the work profile it opens with."""

    name: CounterName
    services: Profile
    express_minutes: Annotated[
        float | None, _number("opens as 'express <= N min' for this N", low=0, high=MAX_EXPRESS_MINUTES, low_open=True)
    ] = None


class PauseReasonBody(Part):
    """A reason a teller pauses for."""

    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, WithJsonSchema({"type": "string", "pattern": REASON_CODE_PATTERN.pattern})]
    names: ReasonNames


class HeadsUpReasonBody(PauseReasonBody):
    """A long step a teller warns the customer of, with the minutes it declares."""

    minutes: Annotated[float, _number("the minutes it declares", low=0, high=MAX_HEADS_UP_MINUTES, low_open=True)]


Thresholds = Annotated[
    dict[str, float],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"enum": sorted(THRESHOLD_NAMES)},
            "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000},
            "description": f"early warnings' thresholds (positive; {', '.join(sorted(SHARE_NAMES))} are shares below 1; "
            f"{', '.join(sorted(n for n, whole in THRESHOLD_NAMES.items() if whole))} whole numbers)",
        }
    ),
]


class ConfigBody(Body):
    """A branch's configuration (docs/api.md "Configuration"), judged by ``parse_config``."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, _string(80, "the branch's name")] = "Branch"
    names: Names | None = None
    languages: Annotated[
        list[str], WithJsonSchema({"type": "array", "minItems": 1, "items": {"enum": list(LANGUAGES)}})
    ] = list(LANGUAGES)
    services: list[ServiceBody] = []
    counters: list[CounterBody] = []
    # described by Field's bounds, which pydantic never enforces here (see the module's docstring)
    pause_reasons: Annotated[
        list[PauseReasonBody] | None, Field(min_length=1, max_length=MAX_PAUSE_REASONS, description="leave out for the defaults")
    ] = None
    heads_up_reasons: Annotated[
        list[HeadsUpReasonBody] | None,
        Field(min_length=1, max_length=MAX_HEADS_UP_REASONS, description="leave out for the defaults"),
    ] = None
    warning_thresholds: Thresholds | None = None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """``parse_config``: the rule of the configuration endpoint and of ``branch_configured``."""
        parse_config(raw)


# POST /branches/{branch}/events ---------------------------------------------------------------
def _one_variant_per_type(schema: dict[str, Any]) -> None:
    """One variant per event type, from the core's table: the fields it requires, and the words
    of ``kind`` where a feedback and a warning differ; ``told`` only on a re-promise (elsewhere it
    is the server's)."""
    properties = schema["properties"]
    told = properties.pop("told")
    variants: list[dict[str, Any]] = []
    for kind, fields in sorted(EVENT_FIELDS.items()):
        variant: dict[str, Any] = {"properties": {"type": {"const": kind}}, "required": ["type", *fields]}
        if kind in FEEDBACK_TYPES:
            variant["properties"]["kind"] = {"enum": list(FEEDBACK_KINDS)}
        elif kind in WARNING_TYPES:
            variant["properties"]["kind"] = {"enum": list(WARNING_KINDS)}
        elif kind == "ticket_repromised":
            variant["properties"]["told"] = told
        variants.append(variant)
    schema["oneOf"] = variants


class EventBody(Body):
    """One event of the log's vocabulary without ``ts`` (docs/event-log.md), judged by
    ``parse_event``; ``ts``, ``told`` (but on a re-promise), ``told_raw`` and
    ``predicted_seconds`` are the server's (422 if posted)."""

    model_config = ConfigDict(json_schema_extra=_one_variant_per_type)
    type: Annotated[str, _words(EVENT_TYPES, "the event type; the fields each requires are listed in docs/event-log.md")]
    branch: BranchId | None = None
    ticket: TicketLabel | None = None
    service: ServiceCode | None = None
    counter: CounterName | None = None
    services: Profile | None = None
    reason: Annotated[
        str | None,
        _string(MAX_REASON_LENGTH, f"a pause's or heads-up's reason; a re-promise's: one of {', '.join(REPROMISE_REASONS)}"),
    ] = None
    minutes: Annotated[float | None, _number("a pause's declared minutes; a heads-up's (above 0)", low=0, high=MAX_PAUSE_MINUTES)] = None
    express_minutes: Annotated[float | None, _number("counter_opened", low=0, high=MAX_EXPRESS_MINUTES, low_open=True)] = None
    told: Range | None = None
    config: ConfigBody | None = None
    id: Annotated[str | None, _string(MAX_NAME_LENGTH, "a complaint's or praise's id")] = None
    kind: Annotated[str | None, _words((*FEEDBACK_KINDS, *WARNING_KINDS), "feedback or warning kind")] = None
    channel: Annotated[str | None, _words(FEEDBACK_CHANNELS, "feedback_recorded")] = None
    category: Annotated[str | None, _words(FEEDBACK_CATEGORIES, "feedback_recorded")] = None
    aspect: Annotated[str | None, _words(FEEDBACK_ASPECTS, "feedback_recorded")] = None
    text: Annotated[str | None, _string(MAX_FEEDBACK_TEXT, "feedback_recorded")] = None
    ticket_day: Day | None = None
    status: Annotated[str | None, _words(FEEDBACK_STATUSES, "feedback_updated")] = None
    owner: Annotated[str | None, _string(MAX_NAME_LENGTH, "who follows the feedback up")] = None
    deadline: Timestamp | None = None
    note: Annotated[str | None, _string(MAX_FEEDBACK_NOTE, "feedback_updated, warning_acknowledged")] = None
    satisfaction: Annotated[
        int | None, WithJsonSchema({"type": "integer", "minimum": SATISFACTION_RANGE[0], "maximum": SATISFACTION_RANGE[1]})
    ] = None
    by: Annotated[str | None, _string(MAX_NAME_LENGTH, "who did it")] = None
    key: Annotated[str | None, _string(MAX_WARNING_KEY, "a warning's key")] = None
    severity: Annotated[str | None, _words(WARNING_SEVERITIES, "warning_raised")] = None
    subject: Annotated[str | None, _string(MAX_NAME_LENGTH, "warning_raised")] = None
    prior: Annotated[
        dict[str, Any] | None,
        WithJsonSchema(
            {
                "type": "object",
                "required": ["sisters"],
                "description": "bank_prior_adopted: the pooled prior (docs/event-log.md \"Sister-branch priors\"); "
                "made by `queue-board branch adopt-prior`",
                "properties": {
                    "sisters": {"type": "array", "items": label_schema("a sister branch id"), "minItems": 1},
                    "services": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/PooledPrior"}},
                    "pause_overrun": {"$ref": "#/components/schemas/PooledPrior"},
                    "patience": {
                        "type": "object",
                        "required": ["events", "exposure"],
                        "properties": {
                            "events": {"type": "array", "items": {"type": "number", "minimum": 0}},
                            "exposure": {"type": "array", "items": {"type": "number", "minimum": 0}},
                        },
                    },
                    "days": {
                        "type": "array",
                        "maxItems": 31,
                        "description": "the sisters' latest days, replayed until the branch has one of its own: "
                        "per counter openings, closings and pauses, per service arrivals, in local seconds since midnight",
                        "items": {
                            "type": "object",
                            "required": ["day"],
                            "properties": {
                                "day": {"type": "string", "format": "date"},
                                "opened": {"type": "object"},
                                "closed": {"type": "object"},
                                "pauses": {"type": "object"},
                                "arrivals": {"type": "object"},
                            },
                        },
                    },
                },
            }
        ),
    ] = None
    facts: Annotated[
        dict[str, Any] | None,
        WithJsonSchema({"type": "object", "description": f"warning_raised: at most {MAX_WARNING_FACTS} characters of JSON"}),
    ] = None
    outcome: Annotated[str | None, _words(WARNING_OUTCOMES, "warning_cleared")] = None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """``parse_event``, the rule of the log's every line. A body carrying ``ts`` or a field
        the server computes is left to the service, which refuses those before it parses
        (``BranchCommands._stamp``): its answer names them, as it always did."""
        if any(key in raw for key in ("ts", *SERVER_FIELDS)):
            return
        parse_event(raw, ts=_SHAPE_TS)


# POST /branches/{branch}/import: each line of the JSON Lines body --------------------------------
def _one_variant_per_type_with_ts(schema: dict[str, Any]) -> None:
    """:func:`_one_variant_per_type` for a stored line: every variant requires ``ts``, and the
    promise a ticket was told (``told``, ``told_raw``) may be on any line, as the log keeps it."""
    told = schema["properties"]["told"]
    _one_variant_per_type(schema)
    schema["properties"]["told"] = told
    for variant in schema["oneOf"]:
        variant["required"].insert(1, "ts")
        variant["properties"].pop("told", None)


class LogLineBody(EventBody):
    """One line of an imported log (docs/event-log.md): an event as the log stores it, with its
    ``ts`` and what the server told, judged by ``parse_event``, the rule of every stored line
    and of ``POST …/events`` (whose body is the same without the server's fields)."""

    model_config = ConfigDict(json_schema_extra=_one_variant_per_type_with_ts)
    ts: Timestamp
    told_raw: Range | None = None
    predicted_seconds: Annotated[float | None, _number("the length predicted at issue (ticket_issued)", low=0, high=MAX_PREDICTED_SECONDS)] = None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """``parse_event`` of the line as it is, ``ts`` and all."""
        parse_event(raw)


# POST /branches/{branch}/tickets ----------------------------------------------------------------
class TicketBody(Body):
    """The kiosk's ``{"service": code}``: a configured service (404 otherwise, by the service)."""

    service: ServiceCode

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """A service code must be given; whether the branch offers it is the service's to say."""
        code = raw.get("service")
        if not isinstance(code, str) or not code:
            refuse("service", "service: give the code of a service")


# POST /t/links ---------------------------------------------------------------------------------
class TicketLinkBody(Body):
    """The kiosk's request for a ticket's signed link: ``{"branch", "ticket"}``."""

    branch: BranchId
    ticket: TicketLabel

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """Both given, each keeping the label rule (before the caller's grant is looked at)."""
        for key, missing in (("branch", "branch: give the branch id"), ("ticket", "ticket: give the ticket label")):
            value = raw.get(key)
            if not isinstance(value, str) or not value:
                refuse(key, missing)
        for key in ("branch", "ticket"):
            problem = name_problem(raw[key])
            if problem is not None:
                refuse(key, f"{key}: {problem}")


# POST /branches/{branch}/counters/{counter}/{action} ------------------------------------------
class ActionBody(Body):
    """A teller's button: the body of ``action`` (context: ``counter``, ``action`` and the
    branch's ``config``, or a function returning it) judged by ``build_action`` and ``parse_event`` as far as no state is
    involved: what the counter holds and who waits are judged after, by the service."""

    #: the actions whose body this model describes
    actions: ClassVar[tuple[str, ...]] = ()
    #: whether these actions' builders read the branch's configuration before its state (the
    #: codes of services and heads-up reasons): only then is it looked up
    reads_config: ClassVar[bool] = False

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """Build the action on an empty state: an ``invalid`` rejection is the body's fault (the
        builders judge the body before the state); a built event is parsed. Any other rejection
        (the counter is busy, nobody waits) is the state's, left for the service to judge."""
        action, counter = str(context.get("action", "")), str(context.get("counter", ""))
        if action not in ACTIONS or (action == "open" and raw.get("services") is None):
            return  # an unknown action is a 404, an open without services reads the state: the service's
        config = context.get("config") if cls.reads_config else None
        if callable(config):
            config = config()
        built = build_action(BranchState(), config if isinstance(config, BranchConfig) else BranchConfig(), counter, action, raw)
        if isinstance(built, Rejection):
            if built.kind == "invalid":
                refuse(built.field, built.message)
            return
        parse_event(built, ts=_SHAPE_TS)


class NoBody(ActionBody):
    """Buttons that send nothing (anything sent is ignored)."""

    actions = ("call-next", "recall", "start", "finish", "no-show", "resume", "close")


class OpenBody(ActionBody):
    """``open``: the work profile (default: the counter's configured one) and "express <= N min"."""

    actions = ("open",)
    reads_config = True
    services: Profile | None = None
    express_minutes: Annotated[float | None, _number("express <= N min", low=0, high=MAX_EXPRESS_MINUTES, low_open=True)] = None


class CallBody(ActionBody):
    """``call``: a waiting ticket, out of turn too."""

    actions = ("call",)
    ticket: TicketLabel


class TransferBody(ActionBody):
    """``transfer``: the service the customer queues for next, keeping their place."""

    actions = ("transfer",)
    service: ServiceCode


class HeadsUpBody(ActionBody):
    """``heads-up``: a code of the branch's heads-up reasons, and the minutes (default: the reason's)."""

    actions = ("heads-up",)
    reads_config = True
    reason: Annotated[str, _string(32, "a code of the branch's heads_up_reasons")]
    minutes: Annotated[float | None, _number("extra minutes", low=0, high=MAX_HEADS_UP_MINUTES, low_open=True)] = None


class PauseBody(ActionBody):
    """``pause``: why (a code of the branch's pause reasons, or free text) and for how long."""

    actions = ("pause",)
    reason: Annotated[str | None, _string(MAX_REASON_LENGTH, "a code of the branch's pause_reasons or free text")] = None
    minutes: Annotated[float | None, _number("declared minutes", low=0, high=MAX_PAUSE_MINUTES)] = None


#: the body model of every teller action
ACTION_BODIES: dict[str, type[ActionBody]] = {
    action: model for model in (NoBody, OpenBody, CallBody, TransferBody, HeadsUpBody, PauseBody) for action in model.actions
}


def action_body(action: str) -> type[ActionBody]:
    """The body model of ``action`` (an unknown action's body is ignored: it is a 404)."""
    return ACTION_BODIES.get(action, NoBody)


# feedback -------------------------------------------------------------------------------------
def _signed(context: Mapping[str, Any]) -> dict[str, Any]:
    """``by`` (the caller's name, which the server adds to the event) when the context gives it."""
    by = context.get("by")
    return {"by": by} if by is not None else {}


class FeedbackRecordBody(Body):
    """Record a complaint or praise; the server adds ``id``, ``by`` and ``type``."""

    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, _words(FEEDBACK_KINDS, "complaint or praise")]
    channel: Annotated[str, _words(FEEDBACK_CHANNELS, "how it reached the branch")]
    category: Annotated[str, _words(FEEDBACK_CATEGORIES, "waiting, or a SERVQUAL dimension")]
    text: Annotated[str, _string(MAX_FEEDBACK_TEXT, "what the customer said")]
    aspect: Annotated[str | None, _words(FEEDBACK_ASPECTS, "the visit's result or its process")] = None
    ticket: TicketLabel | None = None
    ticket_day: Day | None = None
    owner: Annotated[str | None, _string(MAX_NAME_LENGTH, "who follows it up")] = None
    deadline: Timestamp | None = None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """The fields the service takes, then ``parse_event`` of the event they make (context:
        ``by``, who records it). A ticket of a given day is looked up in that day's records
        before the event is parsed: such a body is left to the service, to keep that order."""
        only_fields(raw, RECORD_FIELDS)
        if raw.get("ticket_day") is not None:
            return
        parse_event({**raw, **_signed(context), "type": "feedback_recorded", "id": "F0001"}, ts=_SHAPE_TS)


class FeedbackUpdateBody(Body):
    """Change a complaint's status (context: its ``id`` and ``by``); closing it may carry ``satisfaction``."""

    model_config = ConfigDict(extra="forbid")
    status: Annotated[str, _words(FEEDBACK_STATUSES, "the new status")]
    owner: Annotated[str | None, _string(MAX_NAME_LENGTH, "who follows it up")] = None
    deadline: Timestamp | None = None
    note: Annotated[str | None, _string(MAX_FEEDBACK_NOTE, "what was done")] = None
    satisfaction: Annotated[
        int | None,
        WithJsonSchema({"type": "integer", "minimum": SATISFACTION_RANGE[0], "maximum": SATISFACTION_RANGE[1], "description": "only with status closed"}),
    ] = None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """The fields the service takes, then ``parse_event`` of the event they make."""
        only_fields(raw, UPDATE_FIELDS)
        parse_event({**raw, **_signed(context), "type": "feedback_updated", "id": context.get("id", "F0001")}, ts=_SHAPE_TS)


# warnings ---------------------------------------------------------------------------------------
class AcknowledgeBody(Body):
    """A manager has seen a warning (context: its ``key`` and ``by``); ``note`` says what they did."""

    model_config = ConfigDict(extra="forbid")
    note: Annotated[str | None, _string(MAX_WARNING_NOTE, "what the manager did about it")] = None

    @staticmethod
    def cleaned(note: Any) -> str | None:
        """The note as recorded: stripped, and none when blank."""
        return (note or "").strip() or None if isinstance(note, str | None) else None

    @classmethod
    def check(cls, raw: dict[str, Any], context: Mapping[str, Any]) -> None:
        """Only ``note``, a string; then ``parse_event`` of the acknowledgement it makes."""
        unknown = sorted(set(raw) - set(cls.model_fields))
        if unknown:
            refuse(unknown[0], f"{unknown[0]!r} is not a field here; expected some of {sorted(cls.model_fields)}")
        note = raw.get("note")
        if note is not None and not isinstance(note, str):
            refuse("note", "note must be a string")
        fields: dict[str, Any] = {"type": "warning_acknowledged", "key": context.get("key", ""), **_signed(context)}
        if cls.cleaned(note) is not None:
            fields["note"] = cls.cleaned(note)
        parse_event(fields, ts=_SHAPE_TS)

    @property
    def note_text(self) -> str | None:
        """The note to record."""
        return self.cleaned(self.note)


#: every body model, for the OpenAPI document's components
BODIES: tuple[type[Body], ...] = (
    ConfigBody,
    EventBody,
    LogLineBody,
    TicketBody,
    TicketLinkBody,
    NoBody,
    OpenBody,
    CallBody,
    TransferBody,
    HeadsUpBody,
    PauseBody,
    FeedbackRecordBody,
    FeedbackUpdateBody,
    AcknowledgeBody,
)
