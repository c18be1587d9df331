"""Jira Cloud webhooks registered with a secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, hex_hmac_matches, required_header
from router.providers.facts import Facts, dig, text


class Jira(Provider):
    name = "jira"

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        signature = required_header(headers, "X-Hub-Signature", "register the Jira webhook with a secret")
        if not hex_hmac_matches([signature.removeprefix("sha256=")], body, secrets):
            raise WebhookRejected(401, "X-Hub-Signature does not match the body: check the webhook secret")

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        """The same on every retry of one delivery."""
        return headers.get("x-atlassian-webhook-identifier") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        name = text(payload.get("webhookEvent")) or "event"
        issue = payload.get("issue") or {}
        key = text(dig(issue, "key"))
        event = self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type="jira." + name.removeprefix("jira:"),
            semantic=None,
            facts=Facts(
                actor=text(dig(payload, "user", "displayName")) or text(dig(payload, "user", "accountId")),
                url=text(dig(issue, "self")),
            ),
        )
        event.subject = key
        return event
