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
    assert rule.do[0].emit_type == "deploy.requested"
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


MCP_ACTION = """
name: ask-agent
on: ci.failed
do:
  - mcp:
      url: "{{ secrets.AGENT_MCP_URL }}"
      tool: investigate_failure
      arguments: {repo: "{{ event.repo }}"}
    emit: ci.investigated
"""


def test_an_mcp_action_loads():
    (rule,), errors = load_rules_text(MCP_ACTION, "r.yaml")
    assert errors == []
    action = rule.do[0]
    assert action.http is None
    assert action.mcp.tool == "investigate_failure"
    assert action.mcp.arguments == {"repo": "{{ event.repo }}"}


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("  - emit: x\n", "r.yaml:5:5: do.0: an action needs exactly one of http, mcp, preset"),
        (
            "  - http: {url: 'https://a.example'}\n    mcp: {url: 'https://b.example', tool: t}\n",
            "r.yaml:5:5: do.0: an action needs exactly one of http, mcp, preset",
        ),
        (
            "  - mcp: {url: 'https://b.example', tool: t, argments: {}}\n",
            "r.yaml:5:46: unknown field 'argments' (did you mean 'arguments'?)",
        ),
        (
            "  - mcp: {url: 'https://b.example', tool: '{{ event. }}'}\n",
            "r.yaml:5:43: do.0.mcp.tool: template syntax",
        ),
    ],
)
def test_mcp_action_mistakes_are_reported_with_file_and_line(action: str, message: str):
    rules, errors = load_rules_text(f"name: x\non: push\n\ndo:\n{action}", "r.yaml")
    assert rules == []
    assert str(errors[0]).startswith(message), errors


def test_typos_in_nested_language_fields_get_suggestions():
    text = """name: x
on: push
do:
  - http: {url: "https://x.example", auth: {baerer: t}}
    debounce: {key: k, wiat: 5m}
    sucess_if: "response.status == 200"
"""
    found = errors_of(text)
    assert "rules/x.yaml:4:45: unknown field 'baerer' (did you mean 'bearer'?)" in found
    assert "rules/x.yaml:5:24: unknown field 'wiat' (did you mean 'wait'?)" in found
    assert "rules/x.yaml:6:5: unknown field 'sucess_if' (did you mean 'success_if'?)" in found


def test_durations_accept_units():
    rules, errors = load_rules_text(
        "name: x\non: push\ndo:\n  - http: {url: 'https://x.example'}\n    delay: 90s\n"
        "    throttle: {key: k, per: 5m}\n    debounce: {key: k, wait: 250ms}\n",
        "r.yaml",
    )
    assert errors == []
    action = rules[0].do[0]
    assert (action.delay, action.throttle.per, action.debounce.wait) == (90.0, 300.0, 0.25)
    (error,) = errors_of("name: x\non: push\ndo:\n  - http: {url: 'https://x.example'}\n    delay: soon\n")
    assert "rules/x.yaml:5:12:" in error and "'soon' is not a duration" in error


def test_unset_secret_is_a_problem_when_checking_against_the_environment():
    text = """name: x
on: push
do:
  - http:
      url: "{{ secrets.HOOK_URL | default('https://x.example') }}"
      auth: {bearer: "{{ secrets.DEPLOY_TOKEN }}"}
"""
    rules, errors = load_rules_text(text, "rules/x.yaml", environ={})
    assert rules == []
    assert [str(e) for e in errors] == [
        "rules/x.yaml:6:22: do.0.http.auth.bearer: secrets.DEPLOY_TOKEN is not set in the environment "
        "(or write | default(...))"
    ]
    rules, errors = load_rules_text(text, "rules/x.yaml", environ={"DEPLOY_TOKEN": "t"})
    assert errors == [] and len(rules) == 1


def test_emit_data_may_not_overwrite_outcome_fields():
    text = (
        "name: x\non: push\ndo:\n  - http: {url: 'https://x.example'}\n"
        "    emit: {type: t, data: {error: x}}\n"
    )
    (error,) = errors_of(text)
    assert "emit.data may not set error" in error


def test_one_action_kind_and_unique_action_names():
    found = errors_of("name: x\non: push\ndo:\n  - name: a\n    emit: done\n")
    assert any("an action needs exactly one of http, mcp, preset" in e for e in found)
    found = errors_of(
        "name: x\non: push\ndo:\n  - {name: a, http: {url: 'https://x.example'}}\n"
        "  - {name: a, http: {url: 'https://x.example'}}\n"
    )
    assert any("action names must differ within a rule: a" in e for e in found)


def test_unknown_match_test_is_an_error_not_a_silent_false():
    (error,) = errors_of(
        "name: x\non: push\nmatch: {data.x: {exists: true}}\ndo: [{http: {url: 'https://x.example'}}]\n"
    )
    assert "match.data.x: a mapping names one test, one of present, absent, not (not exists)" in error


def test_templates_in_every_templated_field_are_checked():
    text = """name: x
on: push
do:
  - preset: slack.webhook
    with: {url: "https://x.example", text: "{{ event.repo }"}
    success_if: "response.status =="
    concurrency: "{{ event.repo"
"""
    found = errors_of(text)
    assert any(e.startswith("rules/x.yaml:5:44: do.0.with.text: template syntax") for e in found)
    assert any(e.startswith("rules/x.yaml:6:17: do.0.success_if: expression syntax") for e in found)
    assert any(e.startswith("rules/x.yaml:7:18: do.0.concurrency: template syntax") for e in found)


def test_shipped_release_pipeline_loads_and_needs_no_secret_to_check():
    rules = load_rules(REPO_RULES / "release-pipeline", environ={})
    assert {rule.name for rule in rules} == {
        "release-pipeline.deploy",
        "release-pipeline.smoke-tests",
        "release-pipeline.announce",
        "release-pipeline.ticket",
        "release-alert",
    }


def test_a_bad_rate_points_at_its_line():
    text = "name: x\non: push\nrate: lots\ndo:\n  - http: {url: 'https://x.example/'}\n"
    (error,) = errors_of(text)
    assert error.startswith("rules/x.yaml:3:7: rate:") and "60/minute" in error
