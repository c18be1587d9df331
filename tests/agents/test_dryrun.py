"""The rules' dry run: pure, on the same loader, matcher and renderers as the worker."""

from __future__ import annotations

import json

import pytest

from agents.dryrun import DryRunError, dry_run, envelope_of, rules_to_try
from tests.conftest import GITHUB_FIXTURES

RULES = """
rules:
  - name: ask-agent
    on: ci.failed
    match: {branch: main}
    do:
      - name: investigate
        mcp:
          url: "https://agent.example/mcp"
          tool: investigate_failure
          headers: {Authorization: "Bearer {{ secrets.AGENT_TOKEN }}"}
          arguments: {repo: "{{ event.repo }}", key: "{{ secrets.AGENT_TOKEN }}"}
        emit: ci.investigated
      - name: broken-template
        http:
          url: "https://chat.example/{{ event.nothing.here }}"
  - name: on-push
    on: push
    do:
      - http: {url: "https://x.example"}
"""


def test_an_envelope_is_completed_and_a_raw_github_payload_is_normalised():
    envelope = envelope_of({"type": "ci.failed", "repo": "acme/api"}, None, None)
    assert envelope["type"] == "ci.failed" and envelope["repo"] == "acme/api"
    assert envelope["source"] == "dry-run" and envelope["depth"] == 0 and envelope["data"] == {}
    payload = json.loads((GITHUB_FIXTURES / "pull_request.closed.2.json").read_text())
    normalised = envelope_of(payload, "github", "pull_request")
    assert normalised["type"] == "pr.closed" and normalised["pr"] == 2
    assert normalised["provider_type"] == "github.pull_request.closed"


def test_an_event_without_a_type_says_what_to_give():
    with pytest.raises(DryRunError, match=r"event needs a `type`.*github_event"):
        envelope_of({"repo": "acme/api"}, None, None)


def test_broken_rules_yaml_is_reported_with_line_and_column(tmp_path):
    with pytest.raises(DryRunError) as error:
        rules_to_try(tmp_path, "name: x\non: push\nmtach: {}\ndo: [{http: {url: 'https://x.example'}}]\n")
    assert "rules_yaml:3:1: unknown field 'mtach' (did you mean 'match'?)" in str(error.value)


def test_matched_rules_show_rendered_requests_with_secrets_masked_and_others_why_not(tmp_path):
    rules = rules_to_try(tmp_path, RULES)
    envelope = envelope_of({"type": "ci.failed", "repo": "acme/api", "branch": "main"}, None, None)
    result = dry_run(envelope, rules, environ={"AGENT_TOKEN": "tok-123"})
    assert result["matched"] == ["ask-agent"] and result["sent"] is False
    ask, push = result["rules"]
    assert push == {"rule": "on-push", "matched": False, "origin": "rules_yaml:17", "reason": push["reason"]}
    assert push["reason"].startswith("on: 'ci.failed' is not one of ['push']")
    investigate, broken = ask["actions"]
    assert investigate["kind"] == "mcp" and investigate["emit"] == "ci.investigated"
    assert investigate["request"]["tool"] == "investigate_failure"
    assert investigate["request"]["arguments"] == {"repo": "acme/api", "key": "***"}
    assert investigate["request"]["headers"]["Authorization"] == "***"
    assert "tok-123" not in json.dumps(result)
    assert "nothing" in broken["not_rendered"]  # the template error, as `rules test` shows it
