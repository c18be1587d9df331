"""Buildkite Pipelines webhooks: a plain `X-Buildkite-Token`, or `X-Buildkite-Signature:
timestamp=<unix>,signature=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.

Option `require`: `any` (default, whichever the request carries), `token` or `signature`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, hex_hmac_matches, matches_any
from router.providers.facts import Facts, dig, number, repo_from_url, text

BUILD_STATES = {"passed": "ci.passed", "failed": "ci.failed"}


class BuildkiteOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    require: Literal["any", "token", "signature"] = "any"


def semantic_type(kind: str, payload: dict[str, Any]) -> str | None:
    build = payload.get("build") or {}
    if kind == "build.finished" and not build.get("blocked"):
        return BUILD_STATES.get(build.get("state"))
    return None


def facts(payload: dict[str, Any]) -> Facts:
    build = payload.get("build") or {}
    pipeline = payload.get("pipeline") or {}
    repo = text(dig(pipeline, "provider", "settings", "repository")) or repo_from_url(
        pipeline.get("repository")
    )
    return Facts(
        repo=repo,
        branch=text(build.get("branch")),
        sha=text(build.get("commit")),
        pr=number(dig(build, "pull_request", "id")),
        actor=text(dig(build, "creator", "name")) or text(dig(payload, "sender", "name")),
        url=text(build.get("web_url")) or text(pipeline.get("web_url")),
    )


class Buildkite(Provider):
    name = "buildkite"
    Options = BuildkiteOptions

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        token = headers.get("x-buildkite-token")
        signature = headers.get("x-buildkite-signature")
        require = self.options.require
        if signature and require != "token":
            self._verify_signature(signature, body, secrets)
        elif token and require != "signature":
            if not matches_any(token, secrets):
                raise WebhookRejected(401, "X-Buildkite-Token is not this source's token: check the webhook")
        else:
            wanted = {"any": "X-Buildkite-Token or X-Buildkite-Signature", "token": "X-Buildkite-Token"}
            raise WebhookRejected(
                401,
                f"missing {wanted.get(require, 'X-Buildkite-Signature')} header "
                "(set the webhook's token in Buildkite's notification service)",
            )

    def _verify_signature(self, header: str, body: bytes, secrets: Sequence[str]) -> None:
        parts = dict(part.strip().partition("=")[::2] for part in header.split(","))
        timestamp, offered = parts.get("timestamp", ""), parts.get("signature", "")
        if not timestamp or not offered:
            raise WebhookRejected(401, "X-Buildkite-Signature must be timestamp=<unix>,signature=<hex>")
        if not hex_hmac_matches([offered], f"{timestamp}.".encode() + body, secrets):
            raise WebhookRejected(
                401, "X-Buildkite-Signature does not match the body: check the webhook token"
            )
        self.check_fresh(timestamp, "X-Buildkite-Signature timestamp")

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return headers.get("x-buildkite-request") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        kind = text(payload.get("event")) or headers.get("x-buildkite-event", "").strip() or "event"
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"buildkite.{kind}",
            semantic="ping" if kind == "ping" else semantic_type(kind, payload),
            facts=facts(payload),
        )

    def handshake(self, event: Event) -> dict[str, Any] | None:
        return {"id": event.id, "ping": True} if event.type == "ping" else None
