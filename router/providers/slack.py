"""Slack: Events API, interactivity and slash commands, signed with the app's signing secret.

`X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<X-Slack-Request-Timestamp>:<raw body>")>`.
Slack waits 3 s and retries up to 3 times with the same `event_id`: a retry is a duplicate.
`url_verification` is answered 200 with its `challenge`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import (
    FORM_TYPES,
    JSON_TYPES,
    Provider,
    form_fields,
    hex_hmac_matches,
    load_json,
    required_header,
)
from router.providers.facts import Facts, dig, text

HINT = "Slack signs every request: is this Slack, with the app's signing secret?"


class Slack(Provider):
    name = "slack"
    accepted_types = JSON_TYPES + FORM_TYPES

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        timestamp = required_header(headers, "X-Slack-Request-Timestamp", HINT)
        signature = required_header(headers, "X-Slack-Signature", HINT)
        if not signature.startswith("v0="):
            raise WebhookRejected(401, "X-Slack-Signature must start with v0=")
        if not hex_hmac_matches([signature[3:]], f"v0:{timestamp}:".encode() + body, secrets):
            raise WebhookRejected(
                401, "X-Slack-Signature does not match the body: check the app's signing secret"
            )
        self.check_fresh(timestamp, "X-Slack-Request-Timestamp")

    def parse_form(self, body: bytes) -> Any:
        """Interactivity sends its JSON in `payload`; a slash command sends plain form fields."""
        fields = form_fields(body)
        if "payload" in fields:
            return load_json(fields["payload"][0])
        return {name: values[0] for name, values in fields.items()}

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return text(payload.get("event_id")) or text(payload.get("trigger_id"))

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        if "command" in payload and "type" not in payload:
            kind = "command"
        elif payload.get("type") == "event_callback":
            kind = text(dig(payload, "event", "type")) or "event_callback"
        else:
            kind = text(payload.get("type")) or "event"
        actor = (
            text(dig(payload, "event", "user"))
            or text(dig(payload, "user", "id"))
            or text(payload.get("user_id"))
        )
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"slack.{kind}",
            semantic="ping" if kind == "url_verification" else None,
            facts=Facts(actor=actor),
        )

    def handshake(self, event: Event) -> dict[str, Any] | None:
        if event.type == "ping":
            return {"challenge": event.data.get("challenge")}
        return None
