"""A generic HMAC source for any sender not built in, configured per source in hookchain.yaml.

Options say which header carries the signature, the algorithm, what is signed (`signed`, a
template of `{body}` with optional `{timestamp}` and `{id}`), the encoding (hex or base64), a
prefix to strip, and how the secret becomes the key. Stripe, for instance:

    options: {header: Stripe-Signature, signature_field: v1, timestamp_field: t,
              signed: "{timestamp}.{body}", key: text}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from router.errors import WebhookRejected
from router.events import SEMANTIC_TYPES, Event
from router.providers.base import Provider, required_header
from router.providers.facts import Facts, text


class GenericOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = "X-Signature"
    algorithm: Literal["sha1", "sha256", "sha384", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    """Stripped from each signature before comparing, e.g. `sha256=`."""
    signed: str = "{body}"
    """What is signed: `{body}`, or e.g. `{timestamp}.{body}`, `{id}.{timestamp}.{body}`."""
    key: Literal["text", "base64", "whsec", "hex"] = "text"
    """How the secret becomes the HMAC key: its UTF-8 text, or decoded (whsec: base64 after `whsec_`)."""
    signature_field: str | None = None
    """The header is `k=v,k=v` (Stripe: `t=..,v1=..`): the signature is in this field (may repeat)."""
    timestamp_field: str | None = None
    """The timestamp is this field of the same `k=v` header."""
    timestamp_header: str | None = None
    id_header: str | None = None
    """The delivery id: the dedupe key, and `{id}` in `signed`."""
    event_header: str | None = None
    event_field: str | None = None
    """The event name, from a header or a top-level body field; a semantic name becomes the type."""

    @model_validator(mode="after")
    def _consistent(self) -> GenericOptions:
        if self.signed.count("{body}") != 1:
            raise ValueError("signed must contain {body} exactly once")
        if "{timestamp}" in self.signed and not (self.timestamp_header or self.timestamp_field):
            raise ValueError("signed uses {timestamp}: set timestamp_header or timestamp_field")
        if "{id}" in self.signed and not self.id_header:
            raise ValueError("signed uses {id}: set id_header")
        if self.timestamp_field and not self.signature_field:
            raise ValueError("timestamp_field needs signature_field (both live in one k=v header)")
        return self


def key_of(secret: str, how: str) -> bytes | None:
    try:
        if how == "text":
            return secret.encode()
        if how == "hex":
            return bytes.fromhex(secret)
        return base64.b64decode(secret.removeprefix("whsec_") if how == "whsec" else secret, validate=True)
    except (ValueError, binascii.Error):
        return None


class Generic(Provider):
    name = "generic"
    Options = GenericOptions

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        options: GenericOptions = self.options
        value = required_header(headers, options.header, "configure the sender to sign its requests")
        timestamp = None
        if options.signature_field:
            fields = [part.strip().partition("=") for part in value.split(",")]
            offered = [v for k, _, v in fields if k == options.signature_field and v]
            timestamp = next((v for k, _, v in fields if k == options.timestamp_field and v), None)
        else:
            offered = value.split()
        if options.timestamp_header:
            timestamp = required_header(headers, options.timestamp_header, "the sender signs a timestamp")
        offered = [candidate.removeprefix(options.prefix) for candidate in offered]
        if not offered:
            raise WebhookRejected(401, f"{options.header} carries no {options.signature_field} signature")
        if (options.timestamp_header or options.timestamp_field) and not timestamp:
            raise WebhookRejected(401, f"{options.header} carries no timestamp: cannot check for replay")
        message = self._signed_message(
            body, timestamp or "", headers.get((options.id_header or "").lower(), "")
        )
        keys = [key for key in (key_of(secret, options.key) for secret in secrets) if key]
        expected = [
            self._encode(hmac.new(key, message, getattr(hashlib, options.algorithm)).digest()) for key in keys
        ]
        found = False
        for candidate in offered:
            for digest in expected:
                found |= hmac.compare_digest(self._normal(candidate).encode(), digest.encode())
        if not found:
            raise WebhookRejected(
                401, f"{options.header} does not match the body: check the secret and options"
            )
        if timestamp is not None:
            self.check_fresh(timestamp, options.timestamp_header or f"{options.header} timestamp")

    def _signed_message(self, body: bytes, timestamp: str, delivery: str) -> bytes:
        before, _, after = self.options.signed.partition("{body}")

        def fill(part: str) -> bytes:
            return part.replace("{timestamp}", timestamp).replace("{id}", delivery).encode()

        return fill(before) + body + fill(after)

    def _encode(self, digest: bytes) -> str:
        return digest.hex() if self.options.encoding == "hex" else base64.b64encode(digest).decode()

    def _normal(self, candidate: str) -> str:
        return candidate.lower() if self.options.encoding == "hex" else candidate

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        """The id header; without one, the signature itself, so only an exact resend is a duplicate."""
        options: GenericOptions = self.options
        if options.id_header and headers.get(options.id_header.lower()):
            return headers[options.id_header.lower()]
        signature = headers.get(options.header.lower())
        return "sig-" + hashlib.sha256(signature.encode()).hexdigest()[:32] if signature else None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        options: GenericOptions = self.options
        kind = None
        if options.event_header:
            kind = text(headers.get(options.event_header.lower(), "").strip())
        if options.event_field and kind is None:
            kind = text(payload.get(options.event_field))
        kind = kind or "event"
        data = payload.get("data") if isinstance(payload.get("data"), dict) else payload
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"generic.{kind}",
            semantic=kind if kind in SEMANTIC_TYPES else None,
            facts=Facts.named_in(data),
        )
