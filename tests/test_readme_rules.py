"""Every rule example in the README's "Reaction rules" section loads and does what the text says."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.conftest import REPO
from workers.actions.http import Attempt
from workers.engine import _carried, judge, render_request
from workers.rules import RuleSet, load_rules, load_rules_text, match_rule
from workers.rules.dryrun import dry_run
from workers.rules.schema import Rule
from workers.runtime import Secrets

SECTION = re.search(r"## Reaction rules\n(.*?)\n## ", (REPO / "README.md").read_text(), re.DOTALL)
EXAMPLES = {
    found.group(1): found.group(0)
    for found in re.finditer(r"# example: (\S+)\n.*?(?=```)", SECTION.group(1) if SECTION else "", re.DOTALL)
}
ENV = {
    "API_TOKEN": "api-tok-1",
    "LEGACY_PASSWORD": "legacy-pw",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "GITHUB_TOKEN": "ghs-1",
    "GITLAB_TOKEN": "glpat-1",
    "LINEAR_API_KEY": "lin-1",
    "JIRA_TOKEN": "jira-1",
    "HOOK_TOKEN": "hook-tok-1",
}
EVENT: dict[str, Any] = {
    "id": "e1",
    "type": "ci.passed",
    "repo": "acme/api",
    "branch": "main",
    "sha": "abc1234def",
    "pr": 42,
    "actor": "octocat",
    "data": {
        "check_suite": {
            "app": {"slug": "github-actions"},
            "conclusion": "success",
            "pull_requests": [],
            "head_commit": {"message": "Merge #42\n\nENG-7 fix login"},
        }
    },
}


def example(name: str) -> list[Rule]:
    rules, errors = load_rules_text(EXAMPLES[name], f"README:{name}", environ=ENV)
    assert errors == [], errors
    return rules


def request_of(rule: Rule, index: int, event: dict[str, Any] = EVENT, steps: dict[str, Any] | None = None):
    context = {"event": event, "secrets": Secrets(ENV), "steps": steps or {}}
    return render_request(rule.do[index], context)


def test_every_example_is_tested_here():
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(EXAMPLES) == {
        "flagship-deploy",
        "on",
        "match",
        "steps",
        "http",
        "outcome",
        "flow",
        "presets",
        "secrets",
    }
    assert set(EXAMPLES) <= tested


def test_flagship_deploy():
    (rule,) = example("flagship-deploy")
    (shipped,) = load_rules(REPO / "rules" / "release-pipeline" / "1-deploy-staging.yaml")
    assert rule.model_dump(exclude={"description"}) == shipped.model_dump(exclude={"description"})
    report = dry_run(RuleSet([rule]), EVENT, ENV)
    (action,) = report["rules"][0]["actions"]
    assert action["request"]["json"] == {
        "repository": "acme/api",
        "ref": "abc1234def",
        "environment": "staging",
    }
    assert action["flow"] == {"concurrency": {"key": "deploy-acme/api-staging", "limit": 1}}
    carried = _carried(rule.do[0], Attempt(1, "", {}, status=201, json={"id": "d-1"}), {"event": EVENT})
    assert carried == {"deployment_id": "d-1", "environment": "staging", "ticket": "ENG-7"}


def test_on():
    (rule,) = example("on")
    for event_type in ("ci.passed", "deploy.succeeded", "github.issues.opened"):
        assert match_rule(rule, {**EVENT, "type": event_type}).matched
    assert not match_rule(rule, {**EVENT, "type": "push"}).matched


def test_match():
    (rule,) = example("match")
    assert match_rule(rule, EVENT).matched
    assert match_rule(rule, {**EVENT, "branch": "release/2.0"}).matched
    failures = {
        "repo": ({**EVENT, "repo": "acme/web"}, "match: repo is 'acme/web', not 'acme/api'"),
        "pr": ({**EVENT, "pr": None}, "match: pr is absent"),
        "actor": ({**EVENT, "actor": "renovate-bot"}, "match: actor is 'renovate-bot', which it must not be"),
        "if": ({**EVENT, "sha": "00ff"}, "if: "),
    }
    for event, reason in failures.values():
        assert match_rule(rule, event).reason.startswith(reason)


def test_steps():
    (rule,) = example("steps")
    assert request_of(rule, 0).json == {"title": "Review acme/api#42"}
    steps = {"ticket": {"response": {"json": {"id": "T-9", "queue": "backend"}}}}
    label = request_of(rule, 1, steps=steps)
    assert (label.method, label.url, label.json) == (
        "PUT",
        "https://tracker.example/api/tickets/T-9/labels",
        ["review", "backend"],
    )


def test_http():
    (rule,) = example("http")
    first, second, third = (request_of(rule, index) for index in range(3))
    assert first.params == {"ref": "abc1234def", "dry_run": "false"}
    assert first.headers == {"X-Request-Source": "hookchain", "Authorization": "Bearer api-tok-1"}
    assert first.json == {"repo": "acme/api", "pr": 42}
    assert second.headers["Authorization"] == "Basic " + base64.b64encode(b"bot:legacy-pw").decode()
    assert second.form == {"text": "pushed abc1234"}
    assert (third.method, third.content) == ("PUT", "acme/api main")


def test_outcome():
    (rule,) = example("outcome")
    action = rule.do[0]
    assert (action.timeout, action.retry.attempts, action.retry.backoff, action.retry.max_wait) == (
        30,
        5,
        2,
        120,
    )
    created = Attempt(1, "", {}, status=201, json={"id": "d-5", "state": "queued"})
    judge(action, created, {"event": EVENT})
    assert created.succeeded
    rejected = Attempt(1, "", {}, status=201, json={"id": "d-6", "state": "rejected"})
    judge(action, rejected, {"event": EVENT})
    assert not rejected.succeeded and not rejected.retryable
    conflict = Attempt(1, "", {}, status=409, error="HTTP 409")
    judge(action, conflict, {"event": EVENT})
    assert conflict.retryable
    assert _carried(action, created, {"event": EVENT}) == {"deployment_id": "d-5", "url": ""}


def test_flow():
    (rule,) = example("flow")
    action = rule.do[0]
    assert action.delay == 30 and action.debounce.wait == 120 and action.throttle.per == 300
    assert (action.concurrency.key, action.concurrency.limit) == ("deploy-staging", 1)
    (planned,) = dry_run(RuleSet([rule]), EVENT, ENV)["rules"][0]["actions"]
    assert planned["flow"]["debounce"]["key"] == "acme/api/main"
    assert planned["flow"]["throttle"]["key"] == "main"


def test_presets():
    (rule,) = example("presets")
    urls = [request_of(rule, index).url for index in range(len(rule.do))]
    assert urls == [
        "https://hooks.slack.com/services/T/B/X",
        "https://slack.com/api/chat.postMessage",
        "https://api.github.com/repos/acme/api/statuses/abc1234def",
        "https://api.github.com/repos/acme/api/check-runs",
        "https://api.github.com/repos/acme/api/issues/42/comments",
        "https://gitlab.com/api/v4/projects/acme%2Fapi/statuses/abc1234def",
        "https://gitlab.com/api/v4/projects/acme%2Fapi/merge_requests/7/notes",
        "https://api.linear.app/graphql",
        "https://acme.atlassian.net/rest/api/3/issue/OPS-42/comment",
        "https://acme.atlassian.net/rest/api/3/issue/OPS-42/transitions",
    ]
    assert rule.do[1].success_if and rule.do[7].success_if


@pytest.mark.parametrize("environ", [{}, {"HOOK_TOKEN": "hook-tok-1"}])
def test_secrets(environ: dict[str, str]):
    rules, errors = load_rules_text(EXAMPLES["secrets"], "README:secrets", environ=environ)
    if not environ:
        (error,) = errors
        assert "secrets.HOOK_TOKEN is not set" in error.message
        return
    assert errors == []
    report = dry_run(RuleSet(rules), {**EVENT, "type": "push"}, environ)
    request = report["rules"][0]["actions"][0]["request"]
    assert request["url"] == "https://hooks.example/default"
    assert request["headers"]["Authorization"] == "***"
    assert "hook-tok-1" not in str(report)
