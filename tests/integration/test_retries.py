"""Retries, dead letters and action.failed on real Redis, a real worker and a real flaky target."""

from __future__ import annotations

from pathlib import Path

import orjson
import redis
from pytest_httpserver import HTTPServer

from tests.conftest import GITHUB_FIXTURES
from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import post_github
from workers.store import DEAD_LETTERS_KEY

RULES = """
rules:
  - name: deploy
    on: push
    do:
      - http:
          url: "{base}/deploy"
          json: {{sha: "{{{{ event.sha }}}}"}}
        retry: {{attempts: 3, backoff: 0.1}}
        emit: deploy.requested
  - name: alert-on-failure
    on: action.failed
    do:
      - http:
          url: "{base}/alert"
          json:
            text: "{{{{ event.data.rule }}}} failed for {{{{ event.sha }}}}: {{{{ event.data.error }}}}"
            status: "{{{{ event.data.response.status }}}}"
"""


def start(stack: Stack, rules_dir: Path, target: HTTPServer) -> None:
    (rules_dir / "rules.yaml").write_text(RULES.format(base=target.url_for("").rstrip("/")))
    target.expect_request("/alert").respond_with_json({"ok": True})
    stack.start_web()
    stack.start_worker()


def push(stack: Stack) -> str:
    answer = post_github(stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), "push")
    assert answer.status_code == 202
    return answer.json()["id"]


def calls(target: HTTPServer, path: str):
    return [request for request, _ in target.log if request.path == path]


def events_of_type(real_redis: redis.Redis, event_type: str) -> list[dict]:
    found = [orjson.loads(real_redis.get(k)) for k in real_redis.keys("hookchain:event:*")]
    return [e for e in found if e["type"] == event_type]


def test_a_5xx_is_retried_with_the_same_idempotency_key(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    target.expect_oneshot_request("/deploy").respond_with_json({"error": "busy"}, status=503)
    target.expect_request("/deploy").respond_with_json({"deployment": 9}, status=201)
    start(stack, rules_dir, target)
    event_id = push(stack)

    assert wait_until(lambda: len(events_of_type(real_redis, "deploy.requested")) == 1), stack.processes[
        1
    ].output()
    tries = calls(target, "/deploy")
    assert len(tries) == 2
    assert tries[0].headers["Idempotency-Key"] == tries[1].headers["Idempotency-Key"]
    record = orjson.loads(real_redis.hget(f"hookchain:actions:{event_id}", "deploy/0"))
    assert [a["status"] for a in record["attempts"]] == [503, 201]
    assert record["status"] == "succeeded"
    assert calls(target, "/alert") == []
    assert real_redis.llen(DEAD_LETTERS_KEY) == 0


def test_exhausted_retries_dead_letter_and_raise_one_alert(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    target.expect_request("/deploy").respond_with_json({"error": "down"}, status=500)
    start(stack, rules_dir, target)
    event_id = push(stack)

    assert wait_until(lambda: len(calls(target, "/alert")) == 1), stack.processes[1].output()
    assert len(calls(target, "/deploy")) == 3
    (alert,) = [orjson.loads(r.get_data()) for r in calls(target, "/alert")]
    sha = orjson.loads(real_redis.get(f"hookchain:event:{event_id}"))["sha"]
    assert alert == {"text": f"deploy failed for {sha}: HTTP 500", "status": 500}
    (failed,) = events_of_type(real_redis, "action.failed")
    assert failed["causation_id"] == event_id and failed["data"]["rule"] == "deploy"
    (dead,) = [orjson.loads(x) for x in real_redis.lrange(DEAD_LETTERS_KEY, 0, -1)]
    assert dead["event_id"] == event_id and dead["error"] == "HTTP 500"


def test_a_4xx_is_not_retried(stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis):
    target.expect_request("/deploy").respond_with_json({"error": "bad ref"}, status=422)
    start(stack, rules_dir, target)
    push(stack)
    assert wait_until(lambda: len(calls(target, "/alert")) == 1)
    assert len(calls(target, "/deploy")) == 1
    (failed,) = events_of_type(real_redis, "action.failed")
    assert failed["data"]["response"]["json"] == {"error": "bad ref"}
