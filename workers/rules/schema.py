"""The typed form of a reaction rule. Validated once at load; the matcher trusts it."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
OUTCOME_FIELDS = frozenset({"rule", "action", "request", "response", "error", "steps"})
"""Keys of an outcome event's `data` that `emit.data` may not overwrite."""
MATCH_OPERATORS = ("present", "absent", "not")
"""A `match:` value that is a mapping names one of these (see workers/rules/match.py)."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> Any:
    """`90`, `"90s"`, `"5m"`, `"1h"`, `"250ms"` → seconds."""
    if isinstance(value, str):
        found = _DURATION.match(value)
        if not found:
            raise ValueError(f"{value!r} is not a duration: write seconds (90) or 90s, 5m, 1h, 1d")
        return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    return value


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(ge=0, le=7 * 86400, json_schema_extra={"examples": [30, "90s", "5m", "1h"]}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RetryPolicy(_Strict):
    """How often an action is tried on a connection error, a timeout or a retryable status."""

    attempts: int = Field(default=4, ge=1, le=20, description="tries in all, the first included")
    backoff: float = Field(default=1.0, ge=0, le=300, description="first wait in seconds; each next is 4x")
    max_wait: float = Field(default=300.0, ge=0, le=3600, description="cap on one wait, Retry-After included")
    statuses: list[Annotated[int, Field(ge=100, le=599)]] | None = Field(
        default=None, description="HTTP statuses worth another try; default 429 and every 5xx"
    )

    def retries_status(self, status: int) -> bool:
        if self.statuses is None:
            return status == 429 or status >= 500
        return status in self.statuses


class BasicAuth(_Strict):
    username: str
    password: str


class Auth(_Strict):
    """Sets the Authorization header; give one of the two."""

    bearer: str | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one_scheme(self) -> Auth:
        if (self.bearer is None) == (self.basic is None):
            raise ValueError("give one of bearer or basic")
        return self


class HttpRequest(_Strict):
    method: str = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    auth: Auth | None = None
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, Any] | None = None
    body: str | None = None
    follow_redirects: bool = False

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {value!r}; use one of {', '.join(HTTP_METHODS)}")
        return upper

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequest:
        given = [name for name in ("json_body", "form", "body") if getattr(self, name) is not None]
        if len(given) > 1:
            names = ", ".join("json" if name == "json_body" else name for name in given)
            raise ValueError(f"give one body, not {names}")
        return self


class Emit(_Strict):
    """The outcome event a success emits, and what it carries forward."""

    type: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="values added to the outcome event's data; templates see `response`",
    )

    @field_validator("data")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(OUTCOME_FIELDS & set(value))
        if clash:
            raise ValueError(f"emit.data may not set {', '.join(clash)}: the outcome event has them already")
        return value


class Debounce(_Strict):
    """Wait; if another event with the same key arrives meanwhile, only the last one fires."""

    key: str
    wait: Duration


class Throttle(_Strict):
    """Fire at most once per period for each key; later events in the period are skipped."""

    key: str
    per: Duration


class Concurrency(_Strict):
    """Actions sharing a key never run more than `limit` at once (RQ's own rate limiting)."""

    key: str
    limit: int = Field(default=1, ge=1, le=100)


class McpToolCall(_Strict):
    """A tool call on a remote MCP server over streamable HTTP (the `mcp:` action kind)."""

    url: str
    tool: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


class Action(_Strict):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    http: HttpRequest | None = None
    mcp: McpToolCall | None = None
    preset: str | None = Field(default=None, description="a named call (see `hookchain rules presets`)")
    with_: dict[str, Any] | None = Field(default=None, alias="with", description="the preset's parameters")
    emit: Emit | None = None
    success_if: str | None = Field(
        default=None, description="expression over `response` (status, json, headers, text); default: 2xx"
    )
    timeout: float | None = Field(default=None, gt=0, le=600, description="seconds for the whole call")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    delay: Duration | None = Field(default=None, description="fire this long after it is due")
    debounce: Debounce | None = None
    throttle: Throttle | None = None
    concurrency: Concurrency | None = None

    @field_validator("emit", mode="before")
    @classmethod
    def _emit_type_alone(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("concurrency", mode="before")
    @classmethod
    def _concurrency_key_alone(cls, value: Any) -> Any:
        return {"key": value} if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("preset") is not None:
            from workers.actions.presets import expand

            return expand(values)
        return values

    @model_validator(mode="after")
    def _one_kind(self) -> Action:
        from workers.actions.kinds import ACTION_KINDS

        given = [kind for kind in ACTION_KINDS if getattr(self, kind, None) is not None]
        if len(given) != 1:
            names = ", ".join([*ACTION_KINDS, "preset"])
            raise ValueError(f"an action needs exactly one of {names}")
        if self.with_ is not None and self.preset is None:
            raise ValueError("with: gives a preset's parameters; name the preset too")
        return self

    @property
    def kind(self) -> str:
        from workers.actions.kinds import ACTION_KINDS

        return next(kind for kind in ACTION_KINDS if getattr(self, kind, None) is not None)

    @property
    def emit_type(self) -> str | None:
        return self.emit.type if self.emit else None


class Rule(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=200)
    description: str | None = None
    on: list[str] = Field(min_length=1)
    match: dict[str, Any] = Field(default_factory=dict)
    if_: str | None = Field(default=None, alias="if")
    do: list[Action] = Field(min_length=1)
    enabled: bool = True
    rate: str | None = Field(default=None, description="cap on the actions this rule fires, e.g. 60/minute")

    # Set by the loader: where the rule was written, for messages.
    origin: str = Field(default="", exclude=True)

    @field_validator("on", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("on")
    @classmethod
    def _no_blank_trigger(cls, value: list[str]) -> list[str]:
        if any(not trigger.strip() for trigger in value):
            raise ValueError("an event type in on: is empty")
        return value

    @field_validator("match")
    @classmethod
    def _known_operators(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, expected in value.items():
            if isinstance(expected, dict):
                unknown = sorted(set(expected) - set(MATCH_OPERATORS))
                if unknown or len(expected) != 1:
                    raise ValueError(
                        f"match.{path}: a mapping names one test, one of {', '.join(MATCH_OPERATORS)}"
                        + (f" (not {', '.join(map(str, unknown))})" if unknown else "")
                    )
                if "not" not in expected and not isinstance(next(iter(expected.values())), bool):
                    raise ValueError(f"match.{path}: {next(iter(expected))} takes true or false")
        return value

    @model_validator(mode="after")
    def _unique_action_names(self) -> Rule:
        names = [action.name for action in self.do if action.name]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"action names must differ within a rule: {', '.join(duplicates)}")
        return self

    @field_validator("rate")
    @classmethod
    def _rate_form(cls, value: str | None) -> str | None:
        if value is not None:
            from workers.loops import RateCap

            RateCap.parse(value)
        return value

    def action_label(self, index: int) -> str:
        return self.do[index].name or str(index)
