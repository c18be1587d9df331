"""`rules test`: matches, reasons, rendered requests with secrets masked; built from production code."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GITHUB_FIXTURES
from workers.rules import RuleSet, load_rules_text
from workers.rules.dryrun import EventFileError, dry_run, envelope_from

RULES = """
rules:
  - name: deploy
    on: ci.passed
    match: {branch: changes}
    do:
      - name: start
        http:
          url: "https://deploy.example/api?token={{ secrets.DEPLOY_TOKEN }}"
          auth: {bearer: "{{ secrets.DEPLOY_TOKEN }}"}
          json: {ref: "{{ event.sha }}", note: "token {{ secrets.DEPLOY_TOKEN }}"}
        concurrency: "deploy-{{ event.repo }}"
      - name: follow
        http: {url: "https://deploy.example/{{ steps.start.response.json.id }}"}
  - name: main-only
    on: ci.passed
    match: {branch: main}
    do: [{http: {url: "https://x.example"}}]
  - name: other
    on: pr.merged
    do: [{http: {url: "https://x.example"}}]
"""


@pytest.fixture
def report() -> dict:
    rules, errors = load_rules_text(RULES, "r.yaml")
    assert errors == []
    payload = json.loads((GITHUB_FIXTURES / "check_suite.completed.1.json").read_text())
    envelope = envelope_from(payload, "github", "check_suite")
    return dry_run(RuleSet(rules), envelope, {"DEPLOY_TOKEN": "tok-supersecret"})


def test_matches_and_reasons(report: dict):
    by_name = {entry["rule"]: entry for entry in report["rules"]}
    assert by_name["deploy"]["matched"]
    assert by_name["main-only"]["reason"] == "match: branch is 'changes', not 'main'"
    assert by_name["other"]["reason"] == "on: 'ci.passed' is not one of ['pr.merged']"


def test_rendered_request_with_secrets_masked(report: dict):
    start, follow = next(e for e in report["rules"] if e["rule"] == "deploy")["actions"]
    request = start["request"]
    assert request["url"] == "https://deploy.example/api?token=***"
    assert request["headers"]["Authorization"] == "***"
    assert request["json"] == {"ref": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "note": "token ***"}
    assert start["flow"] == {"concurrency": {"key": "deploy-Codertocat/Hello-World", "limit": 1}}
    assert "tok-supersecret" not in json.dumps(report)
    assert "known only when they have run" in follow["not_rendered"]


def test_envelope_files_and_bad_input():
    envelope = envelope_from({"type": "deploy.requested", "data": {"x": 1}, "repo": "a/b"}, None, None)
    assert envelope["type"] == "deploy.requested" and envelope["repo"] == "a/b"
    with pytest.raises(EventFileError, match="give --provider and --event"):
        envelope_from({"action": "opened"}, None, None)
    with pytest.raises(EventFileError, match="unknown provider 'gitlub'"):
        envelope_from({}, "gitlub", "push")
