"""Standard Webhooks (standardwebhooks.com): a team's own services, Svix and other senders.

`webhook-signature` holds one or more space-separated `v1,<base64 HMAC-SHA256>` entries over
`<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64 decoding of the secret after
its `whsec_` prefix. GitLab's signing tokens use the same scheme, so GitLab imports `verify_signed`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import SEMANTIC_TYPES, Event
from router.providers.base import Provider, required_header
from router.providers.facts import Facts, text

SECRET_PREFIX = "whsec_"
HINT = "sign with a Standard Webhooks library and a whsec_ secret"


def signing_key(secret: str) -> bytes | None:
    """The HMAC key of a `whsec_` secret (a secret without the prefix is base64 as it is)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_signed(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    check_fresh: Callable[[str, str], None],
) -> None:
    """Check webhook-id, webhook-timestamp and webhook-signature; any listed signature may match."""
    message_id = required_header(headers, "webhook-id", HINT)
    timestamp = required_header(headers, "webhook-timestamp", HINT)
    header = required_header(headers, "webhook-signature", HINT)
    offered = [part.split(",", 1)[1] for part in header.split() if part.startswith("v1,") and len(part) > 3]
    if not offered:
        raise WebhookRejected(401, "webhook-signature has no v1,<base64> entry")
    keys = [key for key in (signing_key(secret) for secret in secrets) if key]
    if not keys:
        raise WebhookRejected(
            401, "this source has no usable signing secret: give it the whsec_... secret the sender shows"
        )
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = [base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys]
    found = False
    for candidate in offered:
        for value in expected:
            found |= hmac.compare_digest(candidate.encode(), value.encode())
    if not found:
        raise WebhookRejected(401, "webhook-signature does not match the body: check the whsec_ secret")
    check_fresh(timestamp, "webhook-timestamp")


class StandardWebhooks(Provider):
    """Payloads are `{"type": ..., "timestamp": ..., "data": {...}}`.

    A sender that reports a semantic type (`deploy.succeeded`, `ci.passed`, ...) takes part in the
    chain like any CI or deploy provider; `data.repo`, `branch`, `sha`, `pr`, `actor`, `url` are its facts.
    """

    name = "standard"

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        verify_signed(headers, body, secrets, self.check_fresh)

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return headers.get("webhook-id") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        kind = text(payload.get("type")) or "event"
        data = payload.get("data") if isinstance(payload.get("data"), dict) else payload
        facts = Facts.named_in(data)
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"standard.{kind}",
            semantic=kind if kind in SEMANTIC_TYPES else None,
            facts=facts,
        )
