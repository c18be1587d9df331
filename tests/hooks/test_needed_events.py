"""Deriving the provider events a webhook must subscribe to from the rules' `on:` triggers."""

from __future__ import annotations

import pytest

from hookchain.hooks.needed_events import CIRCLECI, GITHUB, GITLAB, explain, needed_events


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        (["ci.passed"], ["check_suite", "status", "workflow_run"]),
        (["ci.failed"], ["check_suite", "status", "workflow_run"]),
        (["ci.*"], ["check_suite", "status", "workflow_run"]),
        (["pr.*"], ["pull_request"]),
        (["pr.merged", "pr.opened"], ["pull_request"]),
        (["push"], ["push"]),
        (["deploy.*"], ["deployment_status"]),
        (["release.published"], ["release"]),
        (["github.issues.opened"], ["issues"]),
        (["github.issues.*"], ["issues"]),
        (["github.issue*"], ["issue_comment", "issues"]),
        (["github.check_run.completed"], ["check_run"]),
        (
            ["github.pull_request_review.submitted", "ci.passed"],
            [
                "check_suite",
                "pull_request_review",
                "status",
                "workflow_run",
            ],
        ),
        # An event this catalog does not know, named exactly, is still subscribed to.
        (["github.sponsorship.created"], ["sponsorship"]),
        # Failures of every kind: CI and deploys, not hookchain's own action.failed.
        (["*.failed"], ["check_suite", "deployment_status", "status", "workflow_run"]),
    ],
)
def test_github_events_for_triggers(triggers: list[str], expected: list[str]) -> None:
    assert needed_events(GITHUB, triggers) == expected


@pytest.mark.parametrize("trigger", ["*", "github.*", "github.*.opened", "*.*"])
def test_a_trigger_matching_unknown_events_subscribes_to_githubs_wildcard(trigger: str) -> None:
    assert needed_events(GITHUB, ["pr.merged", trigger]) == ["*"]


@pytest.mark.parametrize(
    "triggers", [["deploy.requested"], ["action.failed", "action.succeeded"], ["changelog.*"], ["ping"], []]
)
def test_outcome_events_and_handshakes_need_no_subscription(triggers: list[str]) -> None:
    assert needed_events(GITHUB, triggers) == []


def test_gitlab_and_circleci_events() -> None:
    assert needed_events(GITLAB, ["ci.passed", "pr.*", "push"]) == ["merge_request", "pipeline", "push"]
    assert needed_events(GITLAB, ["deploy.failed", "release.published"]) == ["deployment", "release"]
    assert needed_events(GITLAB, ["gitlab.note"]) == ["note"]
    # GitLab has no wildcard: everything it can send.
    assert needed_events(GITLAB, ["*"]) == sorted(GITLAB.events)
    assert needed_events(CIRCLECI, ["ci.failed"]) == ["workflow-completed"]
    assert needed_events(CIRCLECI, ["circleci.job-completed"]) == ["job-completed"]
    assert needed_events(CIRCLECI, ["pr.merged"]) == []


def test_explain_names_each_trigger_once() -> None:
    assert explain(GITHUB, ["pr.merged", "deploy.requested", "pr.merged"]) == {
        "pr.merged": ["pull_request"],
        "deploy.requested": [],
    }
