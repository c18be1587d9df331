"""The typed form of a reaction rule. Validated once at load; the matcher trusts it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RetryPolicy(_Strict):
    """How often an action is tried on a connection error, timeout, 429 or 5xx."""

    attempts: int = Field(default=4, ge=1, le=20, description="tries in all, the first included")
    backoff: float = Field(default=1.0, ge=0, le=300, description="first wait in seconds; each next is 4x")
    max_wait: float = Field(default=300.0, ge=0, le=3600, description="cap on one wait, Retry-After included")


class HttpRequest(_Strict):
    method: str = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
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


class Action(_Strict):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    http: HttpRequest
    emit: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    timeout: float | None = Field(default=None, gt=0, le=600, description="seconds for the whole call")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


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

    @field_validator("rate")
    @classmethod
    def _rate_form(cls, value: str | None) -> str | None:
        if value is not None:
            from workers.loops import RateCap

            RateCap.parse(value)
        return value

    def action_label(self, index: int) -> str:
        return self.do[index].name or str(index)
