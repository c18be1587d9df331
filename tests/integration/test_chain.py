"""The whole chain on real parts: signed webhook → web → Redis → worker → HTTP target → next hop."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
import redis
from pytest_httpserver import HTTPServer

from router.queue import EVENTS_QUEUE, event_key, queue_key
from tests.conftest import GITHUB_FIXTURES, github_signature
from tests.integration.conftest import SECRET, Stack, wait_until

TWO_HOP_RULES = """
rules:
  - name: record-merged-pr
    on: pr.merged
    match: {{branch: master}}
    do:
      - name: changelog
        http:
          url: "{base}/changelog"
          headers: {{Authorization: "Bearer {{{{ secrets.CHANGELOG_TOKEN }}}}"}}
          json:
            repo: "{{{{ event.repo }}}}"
            pr: "{{{{ event.pr }}}}"
            sha: "{{{{ event.sha }}}}"
            merged_by: "{{{{ event.data.pull_request.merged_by.login | default('nobody') }}}}"
        emit: changelog.recorded
  - name: announce-entry
    on: changelog.recorded
    do:
      - http:
          url: "{base}/chat"
          json:
            text: >-
              {{{{ event.repo }}}}#{{{{ event.pr }}}} recorded as {{{{ event.data.response.json.entry }}}}
            depth: "{{{{ event.depth }}}}"
"""


def merged_pr_body() -> bytes:
    payload = json.loads((GITHUB_FIXTURES / "pull_request.closed.2.json").read_text())
    payload["pull_request"]["merged"] = True
    return json.dumps(payload).encode()


def post_github(
    url: str, body: bytes, event: str, delivery: str | None = None, secret: str = SECRET
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": github_signature(secret, body),
    }
    return httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=10)


def calls_to(target: HTTPServer, path: str) -> list[dict]:
    return [orjson.loads(request.get_data()) for request, _ in target.log if request.path == path]


def write_two_hop_rules(rules_dir: Path, target: HTTPServer) -> None:
    (rules_dir / "chain.yaml").write_text(TWO_HOP_RULES.format(base=target.url_for("").rstrip("/")))


@pytest.fixture
def two_hop(stack: Stack, rules_dir: Path, target: HTTPServer) -> Stack:
    write_two_hop_rules(rules_dir, target)
    target.expect_request("/changelog", method="POST").respond_with_json({"entry": "CL-7"}, status=201)
    target.expect_request("/chat", method="POST").respond_with_json({"ok": True})
    stack.env["CHANGELOG_TOKEN"] = "s3cr3t-token"
    stack.start_web()
    stack.start_worker()
    return stack


def test_merged_pull_request_drives_a_two_hop_chain(
    two_hop: Stack, target: HTTPServer, real_redis: redis.Redis
):
    answer = post_github(two_hop.url, merged_pr_body(), "pull_request")
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["id"]

    assert wait_until(lambda: len(calls_to(target, "/chat")) == 1), [p.output() for p in two_hop.processes]
    assert calls_to(target, "/changelog") == [
        {
            "repo": "Codertocat/Hello-World",
            "pr": 2,
            "sha": "c4295bd74fb0f4fda03689c3df3f2803b658fd85",
            "merged_by": "nobody",
        }
    ]
    assert calls_to(target, "/chat") == [{"text": "Codertocat/Hello-World#2 recorded as CL-7", "depth": 1}]

    first_call = next(request for request, _ in target.log if request.path == "/changelog")
    assert first_call.headers["Authorization"] == "Bearer s3cr3t-token"
    assert len(first_call.headers["Idempotency-Key"]) == 32

    # The outcome event of hop 1 carries the chain, the facts and the response; the secret is masked.
    # The last outcome is recorded just after the last call arrives: wait for all four events.
    assert wait_until(lambda: real_redis.zcard("hookchain:log") == 4)
    outcome_ids = [m.decode() for m in real_redis.zrange("hookchain:log", 0, -1)]
    outcomes = [orjson.loads(real_redis.get(event_key(i))) for i in outcome_ids]
    recorded = next(e for e in outcomes if e["type"] == "changelog.recorded")
    assert recorded["correlation_id"] == event_id
    assert recorded["causation_id"] == event_id
    assert recorded["depth"] == 1
    assert recorded["repo"] == "Codertocat/Hello-World" and recorded["pr"] == 2
    assert recorded["data"]["response"]["status"] == 201
    assert recorded["data"]["response"]["json"] == {"entry": "CL-7"}
    assert recorded["data"]["request"]["headers"]["Authorization"] == "***"
    assert "s3cr3t-token" not in real_redis.get(event_key(recorded["id"])).decode()
    types = sorted(e["type"] for e in outcomes)
    assert types == ["action.succeeded", "action.succeeded", "changelog.recorded", "pr.merged"]


def test_wrong_signature_is_refused_and_enqueues_nothing(
    two_hop: Stack, target: HTTPServer, real_redis: redis.Redis
):
    body = merged_pr_body()
    answer = post_github(two_hop.url, body, "pull_request", secret="not-the-secret")
    assert answer.status_code == 401
    assert "X-Hub-Signature-256" in answer.json()["error"]
    assert real_redis.llen(queue_key(EVENTS_QUEUE)) == 0
    assert real_redis.zcard("hookchain:log") == 0
    assert real_redis.keys("hookchain:event:*") == []
    assert target.log == []


def test_redelivery_is_a_duplicate_and_fires_nothing_twice(two_hop: Stack, target: HTTPServer):
    body = merged_pr_body()
    delivery = str(uuid.uuid4())
    first = post_github(two_hop.url, body, "pull_request", delivery)
    assert first.status_code == 202
    assert wait_until(lambda: len(calls_to(target, "/chat")) == 1)
    again = post_github(two_hop.url, body, "pull_request", delivery)
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    # A second, different delivery proves the worker is still consuming; the duplicate never ran.
    third = post_github(two_hop.url, body, "pull_request")
    assert third.status_code == 202
    assert wait_until(lambda: len(calls_to(target, "/chat")) == 2)
    assert len(calls_to(target, "/changelog")) == 2


def test_every_github_fixture_is_accepted_as_a_valid_envelope(stack: Stack, real_redis: redis.Redis):
    stack.start_web()
    fixtures = sorted(GITHUB_FIXTURES.glob("*.json"))
    assert len(fixtures) > 100
    for fixture in fixtures:
        event_name = fixture.name.split(".", 1)[0]
        answer = post_github(stack.url, fixture.read_bytes(), event_name)
        assert answer.status_code in (200, 202), (fixture.name, answer.text)
        stored = orjson.loads(real_redis.get(event_key(answer.json()["id"])))
        payload = json.loads(fixture.read_text())
        assert stored["source"] == "github"
        assert stored["provider_type"].startswith(f"github.{event_name}")
        assert stored["data"] == payload
        assert stored["depth"] == 0 and stored["causation_id"] is None
        assert stored["correlation_id"] == stored["id"]
        if "repository" in payload:
            assert stored["repo"] == payload["repository"]["full_name"]
        assert stored["actor"] == (payload.get("sender") or {}).get("login")
        expected_status = 200 if event_name == "ping" else 202
        assert answer.status_code == expected_status, fixture.name
    assert real_redis.llen(queue_key(EVENTS_QUEUE)) == len(fixtures)


def test_a_long_chain_stops_at_the_depth_limit(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    # A chain of distinct rules (a rule revisited is a loop, stopped earlier: tests/faults/test_loops.py).
    hops = ["push", *[f"hop{n}.done" for n in range(1, 8)]]
    (rules_dir / "chain.yaml").write_text(
        "rules:\n"
        + "".join(
            f"""
  - name: hop-{n}
    on: {trigger}
    do:
      - http:
          url: "{target.url_for("/tick")}"
          json: {{depth: "{{{{ event.depth }}}}"}}
        emit: hop{n + 1}.done
"""
            for n, trigger in enumerate(hops)
        )
    )
    target.expect_request("/tick").respond_with_json({"ok": True})
    stack.env["HOOKCHAIN_MAX_DEPTH"] = "4"
    stack.start_web()
    stack.start_worker()
    answer = post_github(stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), "push")
    assert answer.status_code == 202

    def stopped() -> bool:
        return any(
            orjson.loads(real_redis.get(k))["type"] == "chain.stopped"
            for k in real_redis.keys("hookchain:event:*")
        )

    assert wait_until(stopped), [p.output() for p in stack.processes]
    assert [call["depth"] for call in calls_to(target, "/tick")] == [0, 1, 2, 3]
    stop = next(
        orjson.loads(real_redis.get(k))
        for k in real_redis.keys("hookchain:event:*")
        if orjson.loads(real_redis.get(k))["type"] == "chain.stopped"
    )
    assert "depth limit 4" in stop["data"]["reason"]
    assert stop["correlation_id"] == answer.json()["id"]
    assert "chain stopped" in stack.processes[1].output()
