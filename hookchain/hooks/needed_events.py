"""Which provider events a webhook must subscribe to so that the loaded rules can fire.

A pure function of the rules' `on:` triggers. A trigger names a semantic type (`ci.passed`),
a provider type (`github.issues.opened`) or a glob of either (`pr.*`, `github.issue*`, `*`).
For each provider we know which of its events can produce each semantic type (DESIGN.md's
table) and which event names and actions make up its provider types, so a trigger needs an
event when any type that event can produce matches it. Outcome events (`deploy.requested`,
`action.failed`, ...) are made by hookchain itself and need no subscription.

A trigger that would also match an event this catalog does not know (`*`, `github.*`,
`github.*.opened`) is answered with GitHub's own wildcard `"*"`, which also covers events GitHub
adds later; providers without a wildcard (GitLab, CircleCI) get every event they have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workers.rules.match import is_glob, trigger_matches

WILDCARD = "*"
# An event name no provider has: a trigger matching it would match events we do not know.
_UNKNOWN_EVENT = "zz-unknown-event"


@dataclass(frozen=True)
class EventCatalog:
    """What one provider can send: its events, the actions they carry, and their semantic types."""

    provider: str
    events: tuple[str, ...]
    actions: tuple[str, ...]
    semantic: Mapping[str, tuple[str, ...]]
    """semantic type -> the provider events that can produce it"""
    wildcard: str | None
    """the provider's own "every event" value, if it has one"""
    action_separator: str = "."

    def provider_types(self, event: str) -> list[str]:
        base = f"{self.provider}.{event}"
        return [base, *(f"{base}{self.action_separator}{action}" for action in self.actions)]


GITHUB = EventCatalog(
    provider="github",
    events=tuple(
        [
            "branch_protection_rule",
            "check_run",
            "check_suite",
            "code_scanning_alert",
            "commit_comment",
            "create",
            "delete",
            "dependabot_alert",
            "deploy_key",
            "deployment",
            "deployment_protection_rule",
            "deployment_review",
            "deployment_status",
            "discussion",
            "discussion_comment",
            "fork",
            "gollum",
            "issue_comment",
            "issues",
            "label",
            "member",
            "membership",
            "merge_group",
            "meta",
            "milestone",
            "organization",
            "package",
            "page_build",
            "project",
            "project_card",
            "project_column",
            "public",
            "pull_request",
            "pull_request_review",
            "pull_request_review_comment",
            "pull_request_review_thread",
            "push",
            "registry_package",
            "release",
            "repository",
            "repository_dispatch",
            "repository_ruleset",
            "secret_scanning_alert",
            "security_advisory",
            "star",
            "status",
            "team",
            "team_add",
            "watch",
            "workflow_dispatch",
            "workflow_job",
            "workflow_run",
        ]
    ),
    actions=tuple(
        [
            "assigned",
            "auto_merge_disabled",
            "auto_merge_enabled",
            "closed",
            "completed",
            "converted_to_draft",
            "created",
            "deleted",
            "demilestoned",
            "dequeued",
            "dismissed",
            "edited",
            "enqueued",
            "fixed",
            "in_progress",
            "labeled",
            "locked",
            "milestoned",
            "opened",
            "pinned",
            "prereleased",
            "published",
            "queued",
            "ready_for_review",
            "released",
            "reopened",
            "requested",
            "rerequested",
            "resolved",
            "review_request_removed",
            "review_requested",
            "started",
            "submitted",
            "synchronize",
            "transferred",
            "unassigned",
            "unlabeled",
            "unlocked",
            "unpinned",
            "unpublished",
            "unresolved",
            "updated",
            "waiting",
        ]
    ),
    semantic={
        "ci.passed": ("check_suite", "workflow_run", "status"),
        "ci.failed": ("check_suite", "workflow_run", "status"),
        "pr.opened": ("pull_request",),
        "pr.merged": ("pull_request",),
        "pr.closed": ("pull_request",),
        "push": ("push",),
        "deploy.succeeded": ("deployment_status",),
        "deploy.failed": ("deployment_status",),
        "release.published": ("release",),
    },
    wildcard=WILDCARD,
)

# GitLab: event = the payload's object_kind; the hook subscribes with one boolean flag per kind.
GITLAB_FLAGS = {
    "push": "push_events",
    "tag_push": "tag_push_events",
    "merge_request": "merge_requests_events",
    "pipeline": "pipeline_events",
    "build": "job_events",
    "deployment": "deployment_events",
    "release": "releases_events",
    "issue": "issues_events",
    "note": "note_events",
    "wiki_page": "wiki_page_events",
    "feature_flag": "feature_flag_events",
    "emoji": "emoji_events",
}

GITLAB = EventCatalog(
    provider="gitlab",
    events=tuple(GITLAB_FLAGS),
    actions=tuple(
        [
            "open",
            "reopen",
            "close",
            "merge",
            "update",
            "approved",
            "unapproved",
            "approval",
            "unapproval",
            "create",
            "delete",
        ]
    ),
    semantic={
        "ci.passed": ("pipeline",),
        "ci.failed": ("pipeline",),
        "pr.opened": ("merge_request",),
        "pr.merged": ("merge_request",),
        "pr.closed": ("merge_request",),
        "push": ("push",),
        "deploy.succeeded": ("deployment",),
        "deploy.failed": ("deployment",),
        "release.published": ("release",),
    },
    wildcard=None,
)

CIRCLECI = EventCatalog(
    provider="circleci",
    events=("workflow-completed", "job-completed"),
    actions=(),
    semantic={"ci.passed": ("workflow-completed",), "ci.failed": ("workflow-completed",)},
    wildcard=None,
)

CATALOGS = {catalog.provider: catalog for catalog in (GITHUB, GITLAB, CIRCLECI)}


def events_for_trigger(catalog: EventCatalog, trigger: str) -> set[str]:
    """The events one `on:` trigger needs; {WILDCARD} (or every event) when it matches unknown ones."""
    needed = {
        event
        for semantic_type, events in catalog.semantic.items()
        if trigger_matches(trigger, semantic_type)
        for event in events
    }
    if any(trigger_matches(trigger, name) for name in catalog.provider_types(_UNKNOWN_EVENT)):
        return {catalog.wildcard} if catalog.wildcard else set(catalog.events)
    for event in catalog.events:
        if any(trigger_matches(trigger, name) for name in catalog.provider_types(event)):
            needed.add(event)
    prefix = f"{catalog.provider}."
    if not is_glob(trigger) and trigger.startswith(prefix):
        # An exact provider type names its event even when the catalog does not know it.
        needed.add(trigger.removeprefix(prefix).split(".", 1)[0])
    return needed


def needed_events(catalog: EventCatalog, triggers: Iterable[str]) -> list[str]:
    """Sorted events for every trigger together; [WILDCARD] alone when any trigger needs it."""
    needed: set[str] = set()
    for trigger in triggers:
        needed |= events_for_trigger(catalog, trigger)
    if catalog.wildcard and catalog.wildcard in needed:
        return [catalog.wildcard]
    return sorted(needed)


def explain(catalog: EventCatalog, triggers: Iterable[str]) -> dict[str, list[str]]:
    """trigger -> the events it needs (empty for outcome events), for `--dry-run` and messages."""
    return {trigger: sorted(events_for_trigger(catalog, trigger)) for trigger in dict.fromkeys(triggers)}
