"""What every provider adapter does: verify the raw request, then turn its payload into an Event.

Verification runs on the raw body bytes before anything is parsed; normalising is a pure
function of headers and payload, so adapters are tested without a server. An adapter is built
once per source with that source's options and replay window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from router.errors import ConfigError, WebhookRejected
from router.events import Event
from router.providers.facts import Facts

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded",)

DEFAULT_REPLAY_WINDOW = 300
"""Seconds a signed timestamp may be away from now (both directions) unless a source says otherwise."""

Clock = Callable[[], float]


def hmac_hex(secret: str, message: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message, getattr(hashlib, digest)).hexdigest()


def matches_any(candidate: str, expected: Sequence[str]) -> bool:
    """Constant-time comparison of `candidate` with each expected value (several during rotation)."""
    found = False
    for value in expected:
        found |= hmac.compare_digest(candidate.encode(), value.encode())
    return found


def hex_hmac_matches(offered: Sequence[str], message: bytes, secrets: Sequence[str]) -> bool:
    """Whether any offered hex signature is HMAC-SHA256(secret, message) for any secret."""
    expected = [hmac_hex(secret, message) for secret in secrets]
    found = False
    for candidate in offered:
        found |= matches_any(candidate.strip().lower(), expected)
    return found


def required_header(headers: Mapping[str, str], name: str, hint: str) -> str:
    """The header's value, or a 401 naming it and what the sender should configure."""
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise WebhookRejected(401, f"missing {name} header ({hint})")
    return value


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def load_json(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise WebhookRejected(400, f"body is not valid JSON: {exc}") from None


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(ABC):
    """One webhook provider: how it signs, how it names deliveries, what its payloads mean."""

    name: ClassVar[str]
    accepted_types: ClassVar[tuple[str, ...]] = JSON_TYPES
    Options: ClassVar[type[BaseModel]] = NoOptions
    """The `options:` a source of this provider may set in hookchain.yaml."""
    own_replay_window: ClassVar[int | None] = None
    """A provider that documents a tighter window than the default (Linear: 60 s) sets it here."""

    def __init__(
        self,
        options: BaseModel | None = None,
        *,
        replay_window: int | None = None,
        default_window: int = DEFAULT_REPLAY_WINDOW,
        clock: Clock = time.time,
    ) -> None:
        """`replay_window` is the source's own; otherwise the tighter of the provider's and the default."""
        self.options: Any = options if options is not None else self.Options()
        self.replay_window = replay_window or min(self.own_replay_window or default_window, default_window)
        self.clock = clock

    @classmethod
    def configured(
        cls,
        options: Mapping[str, Any] | None = None,
        *,
        replay_window: int | None = None,
        default_window: int = DEFAULT_REPLAY_WINDOW,
    ) -> Self:
        """An adapter for one source; a ConfigError names each bad option."""
        try:
            parsed = cls.Options.model_validate(dict(options or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"invalid {cls.name} options: {problems}") from None
        return cls(parsed, replay_window=replay_window, default_window=default_window)

    @abstractmethod
    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        """Raise WebhookRejected(401) unless the request carries a valid signature or token."""

    @abstractmethod
    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        """The provider's id for this delivery, unchanged on redelivery (the dedupe key)."""

    @abstractmethod
    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        """The normalised envelope: semantic type and facts where the payload maps to them."""

    def parse(self, headers: Mapping[str, str], body: bytes) -> Any:
        """Decode a verified body. JSON objects only; 415 for a content type the provider never sends."""
        kind = media_type(headers)
        if kind not in self.accepted_types:
            allowed = ", ".join(self.accepted_types)
            raise WebhookRejected(415, f"unsupported content type {kind or '(none)'!r}: send {allowed}")
        payload = self.parse_form(body) if kind in FORM_TYPES else load_json(body)
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body must be a JSON object")
        return payload

    def parse_form(self, body: bytes) -> Any:
        fields = form_fields(body)
        if len(fields.get("payload", ())) != 1:
            raise WebhookRejected(400, "form body must carry the JSON in exactly one 'payload' field")
        return load_json(fields["payload"][0])

    def handshake(self, event: Event) -> dict[str, Any] | None:
        """A body to answer at once with 200 (pings, URL checks), or None for an ordinary event."""
        return None

    def check_fresh(self, timestamp: str, what: str) -> None:
        """Refuse a signed Unix timestamp (seconds) further from now than the replay window."""
        try:
            sent = float(timestamp)
        except ValueError:
            raise WebhookRejected(401, f"{what} {timestamp[:32]!r} is not a Unix time in seconds") from None
        skew = self.clock() - sent
        if abs(skew) > self.replay_window:
            direction = "old" if skew > 0 else "in the future"
            raise WebhookRejected(
                401,
                f"{what} is {abs(int(skew))} s {direction}, outside the {self.replay_window} s replay "
                "window: a replayed or delayed delivery, or the sender's clock is wrong",
            )

    def event(
        self,
        payload: Any,
        *,
        event_id: str,
        received_at: str,
        source: str,
        provider_type: str,
        semantic: str | None,
        facts: Facts,
    ) -> Event:
        """The envelope: the semantic type when there is one, else the provider's own type."""
        return Event(
            id=event_id,
            source=source,
            type=semantic or provider_type,
            provider_type=provider_type,
            time=received_at,
            subject=facts.subject(),
            data=payload,
            **facts.as_dict(),
        )


def form_fields(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(body.decode("utf-8"), strict_parsing=True, keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "form body is not valid url-encoded UTF-8") from None
