"""Loading rule files: the minimal form, `on:` as a string, and errors with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import HookchainError
from workers.rules import RuleFileError, load_rules, load_rules_text

REPO_RULES = Path(__file__).resolve().parents[3] / "rules"

MINIMAL = """
name: deploy-staging-on-green-main
on: ci.passed
match:
  repo: acme/api
  branch: main
if: "event.actor != 'dependabot[bot]'"
do:
  - http:
      method: POST
      url: "https://deploy.example.com/api/deployments"
      headers: {Authorization: "Bearer {{ secrets.DEPLOY_TOKEN }}"}
      json: {ref: "{{ event.sha }}", environment: staging}
    emit: deploy.requested
"""


def test_design_minimal_form_loads():
    rules, errors = load_rules_text(MINIMAL, "r.yaml")
    assert errors == []
    (rule,) = rules
    assert rule.on == ["ci.passed"]  # YAML 1.1 would have made the key `on` the boolean true
    assert rule.match == {"repo": "acme/api", "branch": "main"}
    assert rule.if_ == "event.actor != 'dependabot[bot]'"
    assert rule.do[0].http.json_body == {"ref": "{{ event.sha }}", "environment": "staging"}
    assert rule.do[0].emit == "deploy.requested"
    assert rule.do[0].retry.attempts == 4


def test_list_of_rules_and_trigger_lists():
    text = """
rules:
  - name: a
    on: [ci.*, push]
    do: [{http: {url: "https://x.example/a"}}]
  - name: b
    on: pr.merged
    do: [{http: {url: "https://x.example/b", method: put}}]
"""
    rules, errors = load_rules_text(text, "r.yaml")
    assert errors == []
    assert [r.name for r in rules] == ["a", "b"]
    assert rules[0].on == ["ci.*", "push"]
    assert rules[1].do[0].http.method == "PUT"


def errors_of(text: str) -> list[str]:
    rules, errors = load_rules_text(text, "rules/x.yaml")
    assert rules == []
    return [str(e) for e in errors]


def test_typo_is_reported_with_line_column_and_suggestion():
    text = "name: x\non: push\nmtach: {repo: a}\ndo: [{http: {url: 'https://x.example'}}]\n"
    assert errors_of(text) == ["rules/x.yaml:3:1: unknown field 'mtach' (did you mean 'match'?)"]


def test_every_problem_is_reported_at_once():
    text = """name: x
on: push
do:
  - http:
      url: "https://x.example"
      methd: POST
    emitt: done
"""
    found = errors_of(text)
    assert found == [
        "rules/x.yaml:6:7: unknown field 'methd' (did you mean 'method'?)",
        "rules/x.yaml:7:5: unknown field 'emitt' (did you mean 'emit'?)",
    ]


def test_missing_fields_and_bad_values():
    found = errors_of("name: 'has space'\ndo: []\n")
    assert any(e.startswith("rules/x.yaml:1:7: name:") for e in found)
    assert any("on: Field required" in e for e in found)
    assert any(e.startswith("rules/x.yaml:2:5: do:") for e in found)


def test_template_syntax_error_points_at_its_line():
    text = "name: x\non: push\ndo:\n  - http:\n      url: 'https://x.example/{{ event.sha }'\n"
    (error,) = errors_of(text)
    assert error.startswith("rules/x.yaml:5:12: do.0.http.url: template syntax")


def test_expression_syntax_error():
    text = "name: x\non: push\nif: 'event.actor =='\ndo: [{http: {url: 'https://x.example'}}]\n"
    (error,) = errors_of(text)
    assert error.startswith("rules/x.yaml:3:5: if: expression syntax")


def test_yaml_syntax_error():
    (error,) = errors_of("name: x\non: [push\n")
    assert error.startswith("rules/x.yaml:3:1: YAML:")


def test_a_file_that_is_not_a_rule():
    assert errors_of("- 1\n- 2\n") == [
        "rules/x.yaml:1:1: a rule file holds one rule (a mapping) or a list of them under rules:"
    ]


def test_load_rules_collects_errors_across_files_and_duplicate_names(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("name: same\non: push\ndo: [{http: {url: 'https://x.example'}}]\n")
    (tmp_path / "b.yml").write_text("name: same\non: push\ndo: [{http: {url: 'https://x.example'}}]\n")
    (tmp_path / "c.yaml").write_text("name: c\non: push\n")
    (tmp_path / "notes.txt").write_text("not a rule")
    with pytest.raises(RuleFileError) as broken:
        load_rules(tmp_path)
    messages = [str(e) for e in broken.value.errors]
    assert any(m.startswith(f"{tmp_path / 'c.yaml'}:1:1: do: Field required") for m in messages)
    assert any(
        "rule name 'same' is already used" in m and m.startswith(str(tmp_path / "b.yml")) for m in messages
    )
    assert isinstance(broken.value, HookchainError)


def test_missing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(RuleFileError, match="no such file or folder"):
        load_rules(tmp_path / "nope")


def test_shipped_example_rules_load():
    rules = load_rules(REPO_RULES)
    names = {rule.name for rule in rules}
    assert {
        "deploy-staging-on-green-main",
        "notify-chat-on-ci-failure",
        "record-merged-pr",
        "announce-changelog-entry",
    } <= names


def test_a_bad_rate_points_at_its_line():
    text = "name: x\non: push\nrate: lots\ndo:\n  - http: {url: 'https://x.example/'}\n"
    (error,) = errors_of(text)
    assert error.startswith("rules/x.yaml:3:7: rate:") and "60/minute" in error
