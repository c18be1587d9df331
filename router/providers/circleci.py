"""CircleCI outbound webhooks: `circleci-signature: v1=<hex HMAC-SHA256(secret, body)>`.

The header may list several comma-separated versions; only `v1` is checked. The body's `type`
names the event (`workflow-completed`, `job-completed`) and its `id` is the dedupe key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider, hex_hmac_matches, required_header
from router.providers.facts import Facts, dig, repo_from_url, text

WORKFLOW_STATUSES = {"success": "ci.passed", "failed": "ci.failed"}


def semantic_type(kind: str, payload: dict[str, Any]) -> str | None:
    if kind == "workflow-completed":
        return WORKFLOW_STATUSES.get(dig(payload, "workflow", "status"))
    return None


def _trigger_git(pipeline: dict[str, Any]) -> dict[str, Any]:
    """The commit details of a GitHub App, GitLab or Bitbucket DC project (no `vcs` block)."""
    parameters = pipeline.get("trigger_parameters") or {}
    for name, value in parameters.items():
        if name != "circleci" and isinstance(value, dict):
            return value
    return {}


def facts(kind: str, payload: dict[str, Any]) -> Facts:
    pipeline = payload.get("pipeline") or {}
    vcs = pipeline.get("vcs") or {}
    git = _trigger_git(pipeline)
    repo = repo_from_url(vcs.get("target_repository_url")) or repo_from_url(vcs.get("origin_repository_url"))
    repo = repo or text(git.get("repo_full_name")) or repo_from_url(git.get("web_url") or git.get("repo_url"))
    step = payload.get("job") if kind == "job-completed" else payload.get("workflow")
    return Facts(
        repo=repo,
        branch=text(vcs.get("branch")) or text(git.get("branch")),
        sha=text(vcs.get("revision")) or text(git.get("checkout_sha")) or text(git.get("commit_sha")),
        actor=text(dig(vcs, "commit", "author", "name")) or text(git.get("user_username")),
        url=text(dig(step, "url")) or text(dig(payload, "workflow", "url")),
    )


class CircleCI(Provider):
    name = "circleci"

    def verify(self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        header = required_header(headers, "circleci-signature", "set the webhook's secret token in CircleCI")
        offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
        if not offered:
            raise WebhookRejected(401, "circleci-signature has no v1=<hex> entry")
        if not hex_hmac_matches(offered, body, secrets):
            raise WebhookRejected(
                401, "circleci-signature does not match the body: check the webhook's secret token"
            )

    def delivery_id(self, headers: Mapping[str, str], payload: Any) -> str | None:
        return text(payload.get("id"))

    def to_event(
        self, headers: Mapping[str, str], payload: Any, *, event_id: str, received_at: str, source: str
    ) -> Event:
        kind = text(payload.get("type")) or headers.get("circleci-event-type", "").strip() or "event"
        return self.event(
            payload,
            event_id=event_id,
            received_at=received_at,
            source=source,
            provider_type=f"circleci.{kind}",
            semantic=semantic_type(kind, payload),
            facts=facts(kind, payload),
        )
