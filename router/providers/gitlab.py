"""GitLab (gitlab.com and self-managed) project, group and system hooks.

A hook authenticates with its secret token (`X-Gitlab-Token`, sent in plain text, compared in
constant time), with a signing token (Standard Webhooks headers), or both. Option `require`:
`any` (default: whichever the request carries, every one it carries must be valid), `token`,
`signature` or `both`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, matches_any
from router.providers.facts import Facts, branch_of, dig, number, text
from router.providers.standard import verify_signed

TOKEN_HEADER = "x-gitlab-token"
SIGNATURE_HEADER = "webhook-signature"

PIPELINE_STATUSES = {"success": "ci.passed", "failed": "ci.failed"}
MERGE_REQUEST_ACTIONS = {
    "open": "pr.opened",
    "reopen": "pr.opened",
    "merge": "pr.merged",
    "close": "pr.closed",
}
DEPLOYMENT_STATUSES = {"success": "deploy.succeeded", "failed": "deploy.failed"}


class GitLabOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    require: Literal["any", "token", "signature", "both"] = "any"


def object_kind(headers: Mapping[str, str], payload: dict[str, Any]) -> str:
    """`pipeline`, `merge_request`, `push`, ...: the body's object_kind, else from X-Gitlab-Event."""
    kind = text(payload.get("object_kind")) or text(payload.get("event_name"))
    if kind:
        return kind
    header = headers.get("x-gitlab-event", "").strip().lower().removesuffix(" hook")
    return header.replace(" ", "_") or "event"


def action_of(kind: str, payload: dict[str, Any]) -> str | None:
    if kind == "release":
        return text(payload.get("action"))
    return text(dig(payload, "object_attributes", "action"))


def semantic_type(kind: str, payload: dict[str, Any]) -> str | None:
    attributes = payload.get("object_attributes") or {}
    if kind == "pipeline":
        return PIPELINE_STATUSES.get(dig(attributes, "status"))
    if kind == "merge_request":
        return MERGE_REQUEST_ACTIONS.get(dig(attributes, "action"))
    if kind == "push":
        return "push"
    if kind == "deployment":
        return DEPLOYMENT_STATUSES.get(payload.get("status"))
    if kind == "release" and payload.get("action") == "create":
        return "release.published"
    return None


def facts(kind: str, payload: dict[str, Any]) -> Facts:
    attributes = payload.get("object_attributes") or {}
    found = Facts(
        repo=text(dig(payload, "project", "path_with_namespace")),
        actor=text(dig(payload, "user", "username")) or text(payload.get("user_username")),
        url=text(attributes.get("url")) if isinstance(attributes, dict) else None,
    )
    if kind == "pipeline":
        found.sha = text(attributes.get("sha"))
        found.branch = None if attributes.get("tag") else branch_of(attributes.get("ref"))
        found.pr = number(dig(payload, "merge_request", "iid"))
    elif kind == "merge_request":
        merged = attributes.get("action") == "merge" or attributes.get("state") == "merged"
        found.sha = text(attributes.get("merge_commit_sha")) if merged else None
        found.sha = found.sha or text(dig(attributes, "last_commit", "id"))
        found.branch = text(attributes.get("target_branch"))
        found.pr = number(attributes.get("iid"))
    elif kind in ("push", "tag_push"):
        found.sha = text(payload.get("checkout_sha")) or text(payload.get("after"))
        found.branch = branch_of(payload.get("ref")) if kind == "push" else None
        found.url = text(dig(payload, "project", "web_url"))
    elif kind in ("deployment", "build"):
        found.sha = text(payload.get("sha"))
        found.branch = None if payload.get("tag") else branch_of(payload.get("ref"))
        found.url = text(payload.get("deployable_url")) or found.url
    elif kind == "release":
        found.sha = text(dig(payload, "commit", "id"))
        found.url = text(payload.get("url"))
    return found


class GitLab(Provider):
    name = "gitlab"
    Options = GitLabOptions

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        token = headers.get(TOKEN_HEADER)
        signed = bool(headers.get(SIGNATURE_HEADER))
        require = self.options.require
        if require in ("token", "both") and not token:
            raise WebhookRejected(
                401, "missing X-Gitlab-Token header (set the webhook's secret token in GitLab)"
            )
        if require in ("signature", "both") and not signed:
            raise WebhookRejected(
                401, "missing webhook-signature header (set the webhook's signing token in GitLab)"
            )
        if not token and not signed:
            raise WebhookRejected(
                401,
                "missing X-Gitlab-Token header (set the webhook's secret token in GitLab) "
                "and no webhook-signature either",
            )
        if token and not matches_any(token, secrets):
            raise WebhookRejected(
                401, "X-Gitlab-Token is not this source's token: check the webhook's secret"
            )
        if signed:
            verify_signed(headers, body, secrets, self.check_fresh)

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        """Idempotency-Key is the same on every resend; X-Gitlab-Event-UUID (older GitLab) is not."""
        return headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        kind = object_kind(headers, payload)
        action = action_of(kind, payload)
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"gitlab.{kind}" + (f".{action}" if action else ""),
            semantic=semantic_type(kind, payload),
            facts=facts(kind, payload),
        )
