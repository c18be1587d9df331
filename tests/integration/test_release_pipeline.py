"""The flagship chain, rules/release-pipeline/ as shipped, on real Redis with real worker processes.

Each API it calls (deploy, smoke tests, Slack, Linear) is a loopback stand-in that records its calls.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest
import redis
from pytest_httpserver import HTTPServer

from router.queue import event_key
from tests.conftest import GITHUB_FIXTURES, REPO
from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import calls_to, post_github

PIPELINE = REPO / "rules" / "release-pipeline"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def green_main_body(
    message: str = "Merge pull request #42 from acme/login\n\nENG-123 Fix the login redirect",
) -> bytes:
    payload = json.loads((GITHUB_FIXTURES / "check_suite.completed.1.json").read_text())
    payload["check_suite"]["head_branch"] = "main"
    payload["check_suite"]["head_commit"]["message"] = message
    return json.dumps(payload).encode()


@pytest.fixture
def pipeline(stack: Stack, rules_dir: Path, target: HTTPServer) -> Stack:
    for rule in PIPELINE.glob("*.yaml"):
        shutil.copy(rule, rules_dir / rule.name)
    base = target.url_for("").rstrip("/")
    stack.env.update(
        DEPLOY_URL=f"{base}/deploy",
        DEPLOY_TOKEN="deploy-token-123",
        SMOKE_TESTS_URL=f"{base}/smoke",
        SLACK_WEBHOOK_URL=f"{base}/slack",
        LINEAR_API_URL=f"{base}/linear",
        LINEAR_API_KEY="lin_api_secret_456",
    )
    target.expect_request("/deploy", method="POST").respond_with_json({"id": "dep-17"}, status=201)
    target.expect_request("/slack", method="POST").respond_with_data("ok")
    target.expect_request("/linear", method="POST").respond_with_json(
        {"data": {"commentCreate": {"success": True, "comment": {"id": "c-1", "url": "https://linear/c-1"}}}}
    )
    stack.start_web()
    stack.start_worker("worker-a")
    stack.start_worker("worker-b")
    return stack


def recorded_events(real_redis: redis.Redis) -> list[dict]:
    ids = [m.decode() for m in real_redis.zrange("hookchain:log", 0, -1)]
    return [orjson.loads(raw) for raw in (real_redis.get(event_key(i)) for i in ids) if raw]


def test_green_main_deploys_runs_smoke_tests_announces_and_updates_the_ticket(
    pipeline: Stack, target: HTTPServer, real_redis: redis.Redis
):
    target.expect_request("/smoke", method="POST").respond_with_json(
        {"passed": True, "report_url": "https://ci.example/r/9"}
    )
    answer = post_github(pipeline.url, green_main_body(), "check_suite")
    assert answer.status_code == 202, answer.text
    logs = lambda: [p.output() for p in pipeline.processes]  # noqa: E731
    assert wait_until(lambda: len(calls_to(target, "/linear")) == 1, timeout=40), logs()

    assert calls_to(target, "/deploy") == [
        {"repository": "Codertocat/Hello-World", "ref": SHA, "environment": "staging"}
    ]
    deploy = next(request for request, _ in target.log if request.path == "/deploy")
    assert deploy.headers["Authorization"] == "Bearer deploy-token-123"
    # The smoke tests are called with the deployment the deploy step produced.
    assert calls_to(target, "/smoke") == [{"deployment_id": "dep-17", "environment": "staging", "sha": SHA}]
    (slack,) = calls_to(target, "/slack")
    assert slack == {
        "text": ":white_check_mark: Codertocat/Hello-World@ec26c3e is on staging (deployment dep-17); "
        "smoke tests passed. https://ci.example/r/9"
    }
    (linear,) = calls_to(target, "/linear")
    assert linear["variables"]["input"]["issueId"] == "ENG-123"
    assert "dep-17" in linear["variables"]["input"]["body"]
    assert "commentCreate" in linear["query"]
    linear_request = next(request for request, _ in target.log if request.path == "/linear")
    assert linear_request.headers["Authorization"] == "lin_api_secret_456"

    events = recorded_events(real_redis)
    deployed = next(e for e in events if e["type"] == "release.deployed")
    assert deployed["data"]["deployment_id"] == "dep-17" and deployed["data"]["ticket"] == "ENG-123"
    assert not [e for e in events if e["type"] == "action.failed"]
    everything = b"".join(real_redis.get(event_key(e["id"])) for e in events)
    assert b"deploy-token-123" not in everything and b"lin_api_secret_456" not in everything
    for process in pipeline.processes:
        assert "deploy-token-123" not in process.output() and "lin_api_secret_456" not in process.output()


def test_failing_smoke_tests_raise_one_alert_naming_step_commit_and_error(
    pipeline: Stack, target: HTTPServer, real_redis: redis.Redis
):
    target.expect_request("/smoke", method="POST").respond_with_json({"passed": False, "failures": ["login"]})
    answer = post_github(pipeline.url, green_main_body(), "check_suite")
    assert answer.status_code == 202, answer.text

    def alert_sent() -> bool:
        return any(
            e["type"] == "action.succeeded" and e["data"]["rule"] == "release-alert"
            for e in recorded_events(real_redis)
        )

    assert wait_until(alert_sent, timeout=40), [p.output() for p in pipeline.processes]
    (alert,) = calls_to(target, "/slack")
    text = alert["text"]
    assert "failed at step smoke-tests" in text
    assert "Codertocat/Hello-World@ec26c3e" in text
    assert "success_if" in text and "is false (HTTP 200)" in text
    assert calls_to(target, "/linear") == []


def test_a_failing_deploy_alerts_once_and_stops_the_chain(
    pipeline: Stack, target: HTTPServer, real_redis: redis.Redis
):
    target.clear()
    target.expect_request("/deploy", method="POST").respond_with_json({"error": "bad ref"}, status=422)
    target.expect_request("/slack", method="POST").respond_with_data("ok")
    answer = post_github(pipeline.url, green_main_body(), "check_suite")
    assert answer.status_code == 202
    assert wait_until(lambda: len(calls_to(target, "/slack")) == 1, timeout=40)
    assert "failed at step deploy" in calls_to(target, "/slack")[0]["text"]
    assert "HTTP 422" in calls_to(target, "/slack")[0]["text"]
    assert calls_to(target, "/smoke") == []
