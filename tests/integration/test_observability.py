"""Seeing a chain on real parts: webhook → web → Redis → worker → loopback target, then read it back
through the admin API, the CLI, /metrics (several processes) and the logs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import REPO
from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import merged_pr_body, post_github
from workers.actions.tracing import trace_id

TOKEN = "observability-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ANSI = re.compile(r"\x1b\[")

RULES = """
rules:
  - name: record-merged-pr
    on: pr.merged
    do:
      - name: changelog
        http:
          url: "{base}/changelog"
          headers: {{Authorization: "Bearer {{{{ secrets.CHANGELOG_TOKEN }}}}"}}
          json: {{repo: "{{{{ event.repo }}}}", pr: "{{{{ event.pr }}}}"}}
        emit: changelog.recorded
  - name: announce-entry
    on: changelog.recorded
    do:
      - http:
          url: "{base}/chat"
          json: {{text: "recorded as {{{{ event.data.response.json.entry }}}}"}}
  - name: never-on-dev
    on: pr.merged
    match: {{branch: dev}}
    do:
      - http: {{url: "{base}/never"}}
"""

FLAKY_RULE = """
name: deploy
on: pr.merged
do:
  - name: go
    http: {{url: "{base}/deploy", json: {{sha: "{{{{ event.sha }}}}"}}}}
    retry: {{attempts: 2, backoff: 0}}
"""


@pytest.fixture
def observed(stack: Stack, tmp_path: Path) -> Stack:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    stack.env.update(
        HOOKCHAIN_ADMIN_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        CHANGELOG_TOKEN="s3cr3t-token",
    )
    return stack


def api(stack: Stack, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"{stack.url}{path}", headers=AUTH, timeout=10)


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**stack.env, "HOOKCHAIN_URL": stack.url, "HOOKCHAIN_ADMIN_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "hookchain", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if head.split("{")[0] == name and found == labels:
            return float(value)
    return None


def test_a_chain_is_seen_in_the_api_the_cli_the_metrics_and_the_logs(
    observed: Stack, rules_dir: Path, target: HTTPServer
):
    (rules_dir / "chain.yaml").write_text(RULES.format(base=target.url_for("").rstrip("/")))
    target.expect_request("/changelog").respond_with_json({"entry": "CL-7"}, status=201)
    target.expect_request("/chat").respond_with_json({"ok": True})
    observed.start_web()
    worker = observed.start_worker()

    answer = post_github(observed.url, merged_pr_body(), "pull_request")
    assert answer.status_code == 202
    webhook_id = answer.json()["id"]

    def chain_done() -> bool:
        return api(observed, f"/api/events/{webhook_id}").json()["chain"]["size"] == 4

    assert wait_until(chain_done), [p.output() for p in observed.processes]

    # Tracing: both calls of the chain carry one trace id, derived from the webhook's id.
    parents = [request.headers["traceparent"] for request, _ in target.log]
    assert len(parents) == 2
    assert {p.split("-")[1] for p in parents} == {trace_id(webhook_id)}

    # The API: the whole chain as a tree, non-matches with their reason, attempts with request/response.
    detail = api(observed, f"/api/events/{webhook_id}").json()
    assert detail["status"] == "succeeded"
    [root] = detail["chain"]["roots"]
    assert {m["rule"]: m["reason"] for m in root["matches"]} == {
        "record-merged-pr": None,
        "never-on-dev": "match: branch is 'master', not 'dev'",
    }
    [call] = root["actions"]
    [attempt] = call["attempts"]
    assert (call["rule"], call["action"], call["status"]) == ("record-merged-pr", "changelog", "succeeded")
    assert attempt["status"] == 201 and attempt["json"] == {"entry": "CL-7"}
    assert attempt["request"]["headers"]["Authorization"] == "***"
    assert orjson.loads(attempt["request"]["body"]) == {"repo": "Codertocat/Hello-World", "pr": 2}
    emitted = {child["type"]: child for child in call["children"]}
    assert set(emitted) == {"changelog.recorded", "action.succeeded"}
    [second_call] = emitted["changelog.recorded"]["actions"]
    assert second_call["rule"] == "announce-entry" and second_call["attempts"][0]["status"] == 200
    assert "s3cr3t-token" not in orjson.dumps(detail).decode()

    listed = api(observed, "/api/events?type=pr.merged").json()["events"]
    assert [event["id"] for event in listed] == [webhook_id]
    rules = {rule["name"]: rule for rule in api(observed, "/api/rules").json()["rules"]}
    assert rules["record-merged-pr"]["last_fired"]["event_id"] == webhook_id
    assert rules["never-on-dev"]["last_fired"] is None

    # The CLI, piped: plain text, the same tree.
    traced = cli(observed, "trace", webhook_id)
    assert traced.returncode == 0, traced.stderr
    assert not ANSI.search(traced.stdout)
    assert "call record-merged-pr/changelog  POST" in traced.stdout
    assert "→ HTTP 201" in traced.stdout and "changelog.recorded" in traced.stdout
    assert "✗ never-on-dev (match: branch is 'master', not 'dev')" in traced.stdout
    events = cli(observed, "events", "--type", "pr.merged")
    assert events.returncode == 0 and webhook_id in events.stdout
    status = cli(observed, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "workers: 1" in status.stdout and "failures (dead letters): 0" in status.stdout

    # `events --follow` prints a new event as it arrives.
    log = observed.tmp / "follow.log"
    with log.open("w") as out:
        follow = subprocess.Popen(
            [sys.executable, "-m", "hookchain", "events", "--follow", "--interval", "0.2", "--type", "pr.*"],
            env={**observed.env, "HOOKCHAIN_URL": observed.url, "HOOKCHAIN_ADMIN_TOKEN": TOKEN},
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            assert wait_until(lambda: webhook_id in log.read_text()), log.read_text()
            second = post_github(observed.url, merged_pr_body(), "pull_request").json()["id"]
            assert wait_until(lambda: second in log.read_text()), log.read_text()
        finally:
            follow.terminate()
            follow.wait(timeout=10)
    assert wait_until(lambda: len([r for r, _ in target.log if r.path == "/chat"]) == 2)

    # Metrics: the web process serves what the worker process counted.
    text = httpx.get(f"{observed.url}/metrics", timeout=10).text
    received = metric(
        text, "hookchain_webhooks_received_total", source="github", status="202", type="pr.merged"
    )
    assert received == 2.0
    assert metric(text, "hookchain_actions_total", outcome="succeeded", rule="record-merged-pr") == 2.0
    assert metric(text, "hookchain_action_duration_seconds_count", rule="announce-entry") == 2.0
    assert metric(text, "hookchain_receipt_to_action_seconds_count", rule="announce-entry") == 2.0
    assert metric(text, "hookchain_queue_depth", queue="hookchain-events", state="queued") == 0.0
    assert metric(text, "hookchain_workers") == 1.0

    # Logs: JSON lines naming the event and its chain.
    lines = [orjson.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    attempts = [line for line in lines if "attempt 1" in line["message"]]
    assert {line["correlation_id"] for line in attempts} == {webhook_id, second}
    attempts = [line for line in attempts if line["correlation_id"] == webhook_id]
    assert {line["event_id"] for line in attempts} == {webhook_id, emitted["changelog.recorded"]["id"]}
    web_lines = [
        orjson.loads(line) for line in observed.processes[0].output().splitlines() if line.startswith("{")
    ]
    assert any(line.get("event_id") == webhook_id and "accepted" in line["message"] for line in web_lines)


def test_a_failed_action_is_dead_lettered_counted_and_retried(
    observed: Stack, rules_dir: Path, target: HTTPServer
):
    (rules_dir / "deploy.yaml").write_text(FLAKY_RULE.format(base=target.url_for("").rstrip("/")))
    target.expect_oneshot_request("/deploy").respond_with_data("busy", status=503)
    target.expect_oneshot_request("/deploy").respond_with_data("still busy", status=503)
    target.expect_request("/deploy").respond_with_json({"deployment": 7})
    observed.start_web()
    observed.start_worker()

    webhook_id = post_github(observed.url, merged_pr_body(), "pull_request").json()["id"]

    def status_of() -> str:
        return str(api(observed, f"/api/events/{webhook_id}").json()["status"])

    assert wait_until(lambda: status_of() == "failed"), [p.output() for p in observed.processes]
    [letter] = api(observed, "/api/dead-letters").json()["dead_letters"]
    assert (letter["event_id"], letter["rule"], letter["error"]) == (webhook_id, "deploy", "HTTP 503")
    text = httpx.get(f"{observed.url}/metrics", timeout=10).text
    assert metric(text, "hookchain_action_retries_total", rule="deploy") == 1.0
    assert metric(text, "hookchain_dead_letters_total", rule="deploy") == 1.0
    assert metric(text, "hookchain_actions_total", outcome="failed", rule="deploy") == 1.0
    assert metric(text, "hookchain_dead_letters_waiting") == 1.0

    retried = api(observed, f"/api/dead-letters/{letter['id']}/retry", "POST")
    assert retried.status_code == 202, retried.text
    assert wait_until(lambda: status_of() == "succeeded"), [p.output() for p in observed.processes]
    [action] = api(observed, f"/api/events/{webhook_id}").json()["actions"]
    assert [a["status"] for a in action["attempts"]] == [503, 503, 200]
    assert api(observed, "/api/dead-letters").json()["dead_letters"] == []
    assert api(observed, f"/api/dead-letters/{letter['id']}/retry", "POST").status_code == 404
