"""Presets expand to plain `http` actions with each real API's URL, headers and body."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from workers.actions.http_kind import describe, render
from workers.actions.presets import presets
from workers.rules import load_rules_text
from workers.runtime import Secrets

EVENT = {"repo": "acme/api", "sha": "abc1234def", "pr": 42, "branch": "main", "data": {}}


def rendered(preset: str, params: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    lines = [f"      {key}: {value!r}" for key, value in params.items()]
    text = f"name: p\non: push\ndo:\n  - preset: {preset}\n    with:\n" + "\n".join(lines) + "\n"
    rules, errors = load_rules_text(text, "p.yaml")
    assert errors == [], errors
    action = rules[0].do[0]
    secrets = Secrets(environ or {})
    request = render(action, {"event": EVENT, "secrets": secrets, "steps": {}})
    return {"request": request, "described": describe(request, secrets.used), "action": action}


def test_slack_webhook_posts_text_and_leaves_out_absent_blocks():
    out = rendered(
        "slack.webhook", {"url": "https://hooks.slack.com/services/T/B/X", "text": "hi {{ event.repo }}"}
    )
    request = out["request"]
    assert (request.method, request.url) == ("POST", "https://hooks.slack.com/services/T/B/X")
    assert request.json == {"text": "hi acme/api"}


def test_slack_chat_post_message_uses_bearer_and_checks_ok():
    out = rendered(
        "slack.message",
        {"token": "{{ secrets.SLACK_BOT_TOKEN }}", "channel": "C123", "text": "t", "thread_ts": "1.2"},
        {"SLACK_BOT_TOKEN": "xoxb-secret"},
    )
    request = out["request"]
    assert request.url == "https://slack.com/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-secret"
    assert request.json == {"channel": "C123", "text": "t", "thread_ts": "1.2"}
    assert out["action"].success_if == "response.status == 200 and response.json.ok"
    assert out["described"]["headers"]["Authorization"] == "***"


def test_github_commit_status():
    out = rendered(
        "github.commit_status",
        {"token": "ghp", "repo": "{{ event.repo }}", "sha": "{{ event.sha }}", "state": "success"},
    )
    request = out["request"]
    assert request.url == "https://api.github.com/repos/acme/api/statuses/abc1234def"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.json == {"state": "success", "context": "hookchain"}


def test_github_check_run_with_output():
    out = rendered(
        "github.check_run",
        {
            "token": "t",
            "repo": "acme/api",
            "head_sha": "abc",
            "name": "smoke",
            "conclusion": "success",
            "title": "Smoke",
            "summary": "all good",
        },
    )
    assert out["request"].url == "https://api.github.com/repos/acme/api/check-runs"
    assert out["request"].json == {
        "name": "smoke",
        "head_sha": "abc",
        "status": "completed",
        "conclusion": "success",
        "output": {"title": "Smoke", "summary": "all good"},
    }
    bare = rendered("github.check_run", {"token": "t", "repo": "a/b", "head_sha": "abc", "name": "n"})
    assert bare["request"].json == {"name": "n", "head_sha": "abc", "status": "completed"}


def test_github_pr_comment():
    out = rendered(
        "github.pr_comment", {"token": "t", "repo": "acme/api", "number": "{{ event.pr }}", "body": "b"}
    )
    assert out["request"].url == "https://api.github.com/repos/acme/api/issues/42/comments"
    assert out["request"].json == {"body": "b"}


def test_gitlab_commit_status_and_mr_note_encode_the_project_path():
    status = rendered(
        "gitlab.commit_status", {"token": "glpat", "project": "group/api", "sha": "abc", "state": "success"}
    )["request"]
    assert status.url == "https://gitlab.com/api/v4/projects/group%2Fapi/statuses/abc"
    assert status.headers["PRIVATE-TOKEN"] == "glpat"
    assert status.json == {"state": "success", "name": "hookchain"}
    note = rendered("gitlab.mr_note", {"token": "g", "project": 7, "iid": 3, "body": "hi"})["request"]
    assert note.url == "https://gitlab.com/api/v4/projects/7/merge_requests/3/notes"
    assert note.json == {"body": "hi"}


def test_linear_comment_is_a_graphql_mutation():
    out = rendered("linear.comment", {"token": "lin_api_x", "issue": "ENG-123", "body": "deployed"})
    request = out["request"]
    assert request.url == "https://api.linear.app/graphql"
    assert request.headers["Authorization"] == "lin_api_x"
    assert request.json["variables"] == {"input": {"issueId": "ENG-123", "body": "deployed"}}
    assert request.json["query"].startswith("mutation CommentCreate($input: CommentCreateInput!)")


def test_jira_comment_and_transition_use_basic_auth():
    comment = rendered(
        "jira.comment",
        {
            "site": "https://acme.atlassian.net",
            "email": "bot@acme.io",
            "token": "jt",
            "issue": "OPS-1",
            "text": "x",
        },
    )["request"]
    assert comment.url == "https://acme.atlassian.net/rest/api/3/issue/OPS-1/comment"
    assert comment.headers["Authorization"] == "Basic " + base64.b64encode(b"bot@acme.io:jt").decode()
    assert comment.json["body"]["type"] == "doc"
    assert comment.json["body"]["content"][0]["content"][0] == {"type": "text", "text": "x"}
    transition = rendered(
        "jira.transition",
        {
            "site": "https://acme.atlassian.net",
            "email": "e",
            "token": "t",
            "issue": "OPS-1",
            "transition": 31,
        },
    )["request"]
    assert transition.url.endswith("/rest/api/3/issue/OPS-1/transitions")
    assert transition.json == {"transition": {"id": "31"}}


def test_every_preset_renders_with_its_required_params():
    for preset in presets().values():
        params = {name: "v" for name, param in preset.params.items() if param.required}
        params.update({name: "https://x.example" for name in ("url", "site") if name in params})
        assert rendered(preset.name, params)["request"].method == "POST"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            "preset: slack.webhok\n    with: {url: u, text: t}",
            "unknown preset 'slack.webhok' (did you mean 'slack.webhook'?)",
        ),
        ("preset: slack.webhook\n    with: {url: u, txt: t}", "no parameter 'txt' (did you mean 'text'?)"),
        ("preset: slack.webhook\n    with: {url: u}", "preset slack.webhook needs with: text"),
    ],
)
def test_preset_mistakes_are_reported(action: str, message: str):
    _, errors = load_rules_text(f"name: p\non: push\ndo:\n  - {action}\n", "p.yaml")
    assert len(errors) == 1 and message in errors[0].message and errors[0].line == 4
