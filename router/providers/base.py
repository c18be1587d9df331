"""What every provider adapter does: verify the raw request, then turn its payload into an Event.

Verification runs on the raw body bytes before anything is parsed; normalising is a pure
function of headers and payload, so adapters are tested without a server.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import orjson

from router.errors import WebhookRejected
from router.events import Event

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded",)


def hmac_hex(secret: str, message: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message, getattr(hashlib, digest)).hexdigest()


def matches_any(candidate: str, expected: Sequence[str]) -> bool:
    """Constant-time comparison of `candidate` with each expected value (several during rotation)."""
    found = False
    for value in expected:
        found |= hmac.compare_digest(candidate.encode(), value.encode())
    return found


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def load_json(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise WebhookRejected(400, f"body is not valid JSON: {exc}") from None


class Provider(ABC):
    """One webhook provider: how it signs, how it names deliveries, what its payloads mean."""

    name: str
    accepted_types: tuple[str, ...] = JSON_TYPES

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
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True, keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected(400, "form body is not valid url-encoded UTF-8") from None
        if len(fields.get("payload", ())) != 1:
            raise WebhookRejected(400, "form body must carry the JSON in exactly one 'payload' field")
        return load_json(fields["payload"][0])

    def handshake(self, event: Event) -> dict[str, Any] | None:
        """A body to answer at once with 200 (pings, URL checks), or None for an ordinary event."""
        return None
