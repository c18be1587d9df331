"""Bitbucket Cloud webhooks: `X-Event-Key` names the event, `X-Hub-Signature: sha256=<hex>` signs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, hex_hmac_matches, required_header
from router.providers.facts import Facts, dig, number, text

SIGNATURE_HEADER = "X-Hub-Signature"

PULL_REQUEST_EVENTS = {
    "pullrequest:created": "pr.opened",
    "pullrequest:fulfilled": "pr.merged",
    "pullrequest:rejected": "pr.closed",
}
COMMIT_STATES = {"SUCCESSFUL": "ci.passed", "FAILED": "ci.failed"}


def semantic_type(event_key: str, payload: dict[str, Any]) -> str | None:
    if event_key == "repo:push":
        return "push"
    if event_key in PULL_REQUEST_EVENTS:
        return PULL_REQUEST_EVENTS[event_key]
    if event_key == "repo:commit_status_updated":
        return COMMIT_STATES.get(dig(payload, "commit_status", "state"))
    return None


def facts(event_key: str, payload: dict[str, Any]) -> Facts:
    found = Facts(
        repo=text(dig(payload, "repository", "full_name")),
        actor=text(dig(payload, "actor", "nickname")) or text(dig(payload, "actor", "display_name")),
        url=text(dig(payload, "repository", "links", "html", "href")),
    )
    if event_key == "repo:push":
        new = dig(payload, "push", "changes", 0, "new") or {}
        found.sha = text(dig(new, "target", "hash"))
        found.branch = text(new.get("name")) if new.get("type") == "branch" else None
    elif event_key.startswith("pullrequest:"):
        pull = payload.get("pullrequest") or {}
        found.pr = number(pull.get("id"))
        found.branch = text(dig(pull, "destination", "branch", "name"))
        merged = text(dig(pull, "merge_commit", "hash"))
        found.sha = merged if event_key == "pullrequest:fulfilled" and merged else None
        found.sha = found.sha or text(dig(pull, "source", "commit", "hash"))
        found.url = text(dig(pull, "links", "html", "href")) or found.url
    elif event_key.startswith("repo:commit_status"):
        status = payload.get("commit_status") or {}
        found.sha = text(dig(status, "commit", "hash"))
        found.branch = text(dig(status, "refname"))
        found.url = text(status.get("url")) or found.url
    return found


class Bitbucket(Provider):
    name = "bitbucket"

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        signature = required_header(headers, SIGNATURE_HEADER, "set the webhook's secret in Bitbucket")
        if not hex_hmac_matches([signature.removeprefix("sha256=")], body, secrets):
            raise WebhookRejected(401, "X-Hub-Signature does not match the body: check the webhook secret")

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return headers.get("x-request-uuid") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        event_key = headers.get("x-event-key", "").strip()
        if not event_key:
            raise WebhookRejected(400, "missing X-Event-Key header: is this a Bitbucket Cloud webhook?")
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"bitbucket.{event_key}",
            semantic=semantic_type(event_key, payload),
            facts=facts(event_key, payload),
        )
