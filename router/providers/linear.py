"""Linear webhooks: `Linear-Signature: <hex HMAC-SHA256(secret, body)>`, `Linear-Delivery` (dedupe).

The body's `webhookTimestamp` (milliseconds) is signed with it; Linear asks receivers to refuse
one more than 60 s away, so that is this provider's own replay window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, hex_hmac_matches, required_header
from router.providers.facts import Facts, dig, text


class Linear(Provider):
    name = "linear"
    own_replay_window = 60

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        signature = required_header(headers, "Linear-Signature", "set the webhook's signing secret in Linear")
        if not hex_hmac_matches([signature], body, secrets):
            raise WebhookRejected(401, "Linear-Signature does not match the body: check the signing secret")
        try:
            sent = orjson.loads(body).get("webhookTimestamp")
        except (orjson.JSONDecodeError, AttributeError):
            return  # signed but not a JSON object: parse() answers 400
        if not isinstance(sent, int | float) or isinstance(sent, bool):
            raise WebhookRejected(401, "webhookTimestamp is missing from the body: cannot check for replay")
        self.check_fresh(str(sent / 1000), "webhookTimestamp")

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return headers.get("linear-delivery") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        kind = text(payload.get("type")) or headers.get("linear-event", "").strip() or "event"
        action = text(payload.get("action"))
        event = self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"linear.{kind}" + (f".{action}" if action else ""),
            semantic=None,
            facts=Facts(
                actor=text(dig(payload, "actor", "name")) or text(dig(payload, "actor", "id")),
                url=text(payload.get("url")),
            ),
        )
        event.subject = text(dig(payload, "data", "identifier"))
        return event
