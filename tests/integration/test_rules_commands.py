"""`hookchain rules check | schema | test | list | presets` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import orjson
import redis
import yaml

from router.records import RULES_FIRED_KEY
from tests.conftest import GITHUB_FIXTURES, REPO
from tests.integration.conftest import Stack
from tests.integration.test_commands import run_cli

BROKEN = """name: deploy
on: ci.passed
mtach: {branch: main}
do:
  - http:
      url: "https://deploy.example/{{ event.sha }"
      auth: {bearer: "{{ secrets.DEPLOY_TOKEN }}"}
"""


def test_check_lists_every_problem_with_file_line_column_and_exits_1(stack: Stack, rules_dir: Path):
    (rules_dir / "a.yaml").write_text(BROKEN)
    (rules_dir / "b.yaml").write_text(
        "name: notify\non: ci.failed\ndo:\n  - http: {url: '{{ secrets.CHAT_URL }}'}\n"
    )
    result = run_cli("rules", "check", str(rules_dir), env=stack.env, cwd=stack.tmp)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{rules_dir}/a.yaml:3:1: unknown field 'mtach' (did you mean 'match'?)" in lines
    assert any(line.startswith(f"{rules_dir}/a.yaml:6:12: do.0.http.url: template syntax") for line in lines)
    assert (
        f"{rules_dir}/b.yaml:4:17: do.0.http.url: secrets.CHAT_URL is not set in the environment "
        "(or write | default(...))" in lines
    )
    assert any(
        line.startswith(f"{rules_dir}/a.yaml:7:22:") and "secrets.DEPLOY_TOKEN is not set" in line
        for line in lines
    )
    assert lines[-1] == "4 problem(s)"
    stack.env.update(CHAT_URL="https://chat.example")
    (rules_dir / "a.yaml").unlink()
    ok = run_cli("rules", "check", str(rules_dir), env=stack.env, cwd=stack.tmp)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 1 rule(s)")


def as_written(document: dict) -> dict:
    """YAML 1.1 reads the key `on` as true; editors' YAML 1.2 servers read it as `on`."""
    if "rules" in document:
        return {"rules": [as_written(rule) for rule in document["rules"]]}
    return {("on" if key is True else key): value for key, value in document.items()}


def test_schema_is_json_schema_that_validates_the_shipped_rules(stack: Stack):
    result = run_cli("rules", "schema", env=stack.env, cwd=stack.tmp)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((REPO / "rules").rglob("*.yaml"))
    assert len(files) >= 7
    for file in files:
        document = as_written(yaml.safe_load(file.read_text()))
        errors = list(validator.iter_errors(document))
        assert errors == [], (file, [e.message for e in errors])
    assert not validator.is_valid({"name": "x", "on": "push", "do": [{"http": {"url": "u"}}], "mtach": {}})
    slack = {"preset": "slack.webhook", "with": {"url": "u", "text": "t"}}
    assert validator.is_valid({"name": "x", "on": "push", "do": [slack]})
    typo = {"preset": "slack.webhook", "with": {"url": "u", "txt": "t"}}
    assert not validator.is_valid({"name": "x", "on": "push", "do": [typo]})


def test_rules_test_dry_run_shows_matches_reasons_and_masked_requests(stack: Stack, rules_dir: Path):
    (rules_dir / "r.yaml").write_text(
        """rules:
  - name: deploy
    on: ci.passed
    do:
      - http:
          url: "https://deploy.example/api"
          headers: {X-Token: "{{ secrets.DEPLOY_TOKEN }}"}
          json: {ref: "{{ event.sha }}"}
  - name: main-only
    on: ci.passed
    match: {branch: main}
    do: [{http: {url: "https://x.example"}}]
"""
    )
    stack.env["DEPLOY_TOKEN"] = "tok-very-secret"
    fixture = GITHUB_FIXTURES / "check_suite.completed.1.json"
    args = ("rules", "test", str(fixture), "--provider", "github", "--event", "check_suite")
    result = run_cli(*args, env=stack.env, cwd=stack.tmp)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 rule(s) match; nothing is sent (dry run)" in out
    assert "MATCH deploy" in out
    assert "POST https://deploy.example/api" in out
    assert "X-Token: ***" in out
    assert "User-Agent: hookchain/0.1" in out and "Idempotency-Key: " in out
    assert 'json: {"ref": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"}' in out
    assert "no    main-only: match: branch is 'changes', not 'main'" in out
    assert "tok-very-secret" not in out
    as_json = json.loads(run_cli(*args, "--json", env=stack.env, cwd=stack.tmp).stdout)
    assert as_json["rules"][0]["actions"][0]["request"]["headers"]["X-Token"] == "***"
    missing = run_cli("rules", "test", str(fixture), env=stack.env, cwd=stack.tmp)
    assert missing.returncode == 2 and "give --provider and --event" in missing.stderr


def test_rules_list_shows_triggers_and_last_fired(stack: Stack, rules_dir: Path, real_redis: redis.Redis):
    (rules_dir / "r.yaml").write_text(
        "rules:\n  - {name: a, on: [ci.*, push], do: [{http: {url: 'https://x.example'}}]}\n"
        "  - {name: b, on: pr.merged, do: [{http: {url: 'https://x.example'}}]}\n"
    )
    real_redis.hset(RULES_FIRED_KEY, "a", orjson.dumps({"time": "2026-11-25T17:00:00.000Z", "status": 200}))
    result = run_cli("rules", "list", env=stack.env, cwd=stack.tmp)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["RULE", "ON", "LAST", "FIRED", "WHERE"]
    assert rows[1][:4] == ["a", "ci.*,", "push", "2026-11-25T17:00:00.000Z"]
    assert rows[2][:3] == ["b", "pr.merged", "never"]


def test_presets_are_listed(stack: Stack):
    result = run_cli("rules", "presets", env=stack.env, cwd=stack.tmp)
    assert result.returncode == 0
    for name in (
        "slack.webhook",
        "slack.message",
        "github.commit_status",
        "github.check_run",
        "github.pr_comment",
        "gitlab.commit_status",
        "gitlab.mr_note",
        "linear.comment",
        "jira.comment",
        "jira.transition",
    ):
        assert f"{name}: " in result.stdout


def test_tutorial_check_and_dry_run_print_what_the_readme_shows(stack: Stack):
    readme = (REPO / "README.md").read_text()
    step = readme.split("**3. Check the rules and dry-run them**", 1)[1].split("**4.", 1)[0]
    shown = step.split("```\n", 2)[2].split("```", 1)[0].splitlines()
    env = {k: v for k, v in stack.env.items() if k != "HOOKCHAIN_RULES"}
    check = run_cli("rules", "check", env=env, cwd=REPO)
    test = run_cli(
        "rules",
        "test",
        "hookchain/samples/github-pull_request-merged.json",
        "--provider",
        "github",
        "--event",
        "pull_request",
        env=env,
        cwd=REPO,
    )
    assert check.returncode == 0 and test.returncode == 0, (check.stdout, test.stderr)
    printed = (check.stdout + test.stdout).splitlines()
    for line in shown:
        if line.strip() != "…":
            assert line in printed, line
