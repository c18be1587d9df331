"""GitHub repository, organisation and App webhooks (GitHub Enterprise Server signs the same way)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import FORM_TYPES, JSON_TYPES, Provider, hmac_hex, matches_any
from router.providers.facts import Facts, dig

SIGNATURE_HEADER = "x-hub-signature-256"
LEGACY_SIGNATURE_HEADER = "x-hub-signature"

CI_CONCLUSIONS = {"success": "ci.passed", "failure": "ci.failed", "timed_out": "ci.failed"}
STATUS_STATES = {"success": "ci.passed", "failure": "ci.failed", "error": "ci.failed"}
DEPLOY_STATES = {"success": "deploy.succeeded", "failure": "deploy.failed", "error": "deploy.failed"}


def semantic_type(event_name: str, payload: dict[str, Any]) -> str | None:
    """The DESIGN.md semantic type of a GitHub delivery, or None when it has none."""
    action = payload.get("action")
    if event_name == "ping":
        return "ping"
    if event_name == "push":
        return "push"
    if event_name == "pull_request":
        if action in ("opened", "reopened"):
            return "pr.opened"
        if action == "closed":
            return "pr.merged" if dig(payload, "pull_request", "merged") else "pr.closed"
    if event_name in ("check_suite", "workflow_run") and action == "completed":
        return CI_CONCLUSIONS.get(dig(payload, event_name, "conclusion"))
    if event_name == "status":
        return STATUS_STATES.get(payload.get("state"))
    if event_name == "deployment_status":
        return DEPLOY_STATES.get(dig(payload, "deployment_status", "state"))
    if event_name == "release" and action == "published":
        return "release.published"
    return None


def facts(event_name: str, payload: dict[str, Any]) -> Facts:
    """repo, branch, sha, pr, actor and url, each None where the payload does not say."""
    sha = branch = pr = None
    if event_name == "pull_request":
        pull = payload.get("pull_request") or {}
        merged = payload.get("action") == "closed" and pull.get("merged")
        sha = pull.get("merge_commit_sha") if merged else dig(pull, "head", "sha")
        branch = dig(pull, "base", "ref")
        pr = payload.get("number", pull.get("number"))
    elif event_name in ("check_suite", "workflow_run", "check_run"):
        obj = payload.get(event_name) or {}
        sha = obj.get("head_sha")
        branch = obj.get("head_branch") or dig(obj, "check_suite", "head_branch")
        pulls = obj.get("pull_requests") or []
        pr = pulls[0].get("number") if pulls and isinstance(pulls[0], dict) else None
    elif event_name == "status":
        sha = payload.get("sha")
        branches = payload.get("branches") or []
        branch = branches[0].get("name") if len(branches) == 1 else None
    elif event_name == "push":
        sha = payload.get("after")
        ref = payload.get("ref") or ""
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    elif event_name in ("deployment_status", "deployment"):
        sha = dig(payload, "deployment", "sha")
        branch = dig(payload, "deployment", "ref")
    elif event_name in ("create", "delete") and payload.get("ref_type") == "branch":
        branch = payload.get("ref")
    elif isinstance(payload.get("pull_request"), dict):
        pull = payload["pull_request"]
        sha = dig(pull, "head", "sha")
        branch = dig(pull, "base", "ref")
        pr = pull.get("number")
    return Facts(
        repo=dig(payload, "repository", "full_name"),
        branch=branch,
        sha=sha,
        pr=pr if isinstance(pr, int) else None,
        actor=dig(payload, "sender", "login"),
        url=_most_specific_url(event_name, payload),
    )


def _most_specific_url(event_name: str, payload: dict[str, Any]) -> str | None:
    candidates = (
        dig(payload, event_name, "html_url"),
        dig(payload, event_name, "target_url"),
        dig(payload, "pull_request", "html_url"),
        dig(payload, "issue", "html_url"),
        payload.get("target_url"),
        payload.get("compare"),
        dig(payload, "repository", "html_url"),
    )
    return next((url for url in candidates if isinstance(url, str) and url), None)


class GitHub(Provider):
    """Signed with X-Hub-Signature-256; `installation` and other App deliveries keep their own type."""

    name = "github"
    accepted_types = JSON_TYPES + FORM_TYPES

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        signature = headers.get(SIGNATURE_HEADER)
        if not signature and headers.get(LEGACY_SIGNATURE_HEADER):
            raise WebhookRejected(
                401,
                "only the legacy SHA-1 X-Hub-Signature was sent; hookchain needs X-Hub-Signature-256 "
                "(GitHub sends both when the webhook has a secret: check proxies that drop headers)",
            )
        if not signature:
            raise WebhookRejected(
                401, "missing X-Hub-Signature-256 header (set the webhook's secret in GitHub)"
            )
        expected = ["sha256=" + hmac_hex(secret, body) for secret in secrets]
        if not matches_any(signature.strip(), expected):
            raise WebhookRejected(
                401, "X-Hub-Signature-256 does not match the body: check the webhook secret"
            )

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return headers.get("x-github-delivery") or None

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        event_name = headers.get("x-github-event", "").strip()
        if not event_name:
            raise WebhookRejected(400, "missing X-GitHub-Event header")
        action = payload.get("action")
        provider_type = f"github.{event_name}" + (f".{action}" if isinstance(action, str) and action else "")
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=provider_type,
            semantic=semantic_type(event_name, payload),
            facts=facts(event_name, payload),
        )

    def handshake(self, event: Event) -> dict[str, Any] | None:
        if event.type == "ping":
            return {"id": event.id, "ping": True, "zen": event.data.get("zen")}
        return None
