"""The `mcp` action on real parts: signed webhook → web → Redis → worker → an MCP server built with
the SDK on loopback → outcome event → next hop. Tool errors and timeouts end in action.failed."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import orjson
import redis
import redis.asyncio
from mcp import Client
from pytest_httpserver import HTTPServer

from agents.server import build_server
from router.settings import Settings
from tests.agent_server import AgentServer
from tests.conftest import GITHUB_FIXTURES, REPO, test_redis_url
from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import post_github
from workers.store import DEAD_LETTERS_KEY


def failed_check_suite_on_pr(pr: int) -> bytes:
    payload = json.loads((GITHUB_FIXTURES / "check_suite.completed.1.json").read_text())
    payload["check_suite"]["conclusion"] = "failure"
    payload["check_suite"]["pull_requests"] = [{"number": pr}]
    return json.dumps(payload).encode()


def events_of_type(real_redis: redis.Redis, event_type: str) -> list[dict]:
    found = [orjson.loads(real_redis.get(k)) for k in real_redis.keys("hookchain:event:*")]
    return [e for e in found if e["type"] == event_type]


def test_the_example_rule_asks_the_agent_and_posts_its_answer_to_the_pr(
    stack: Stack, rules_dir: Path, target: HTTPServer, agent_server: AgentServer, real_redis: redis.Redis
):
    (rules_dir / "investigate.yaml").write_text((REPO / "rules" / "investigate-ci-failure.yaml").read_text())
    target.expect_request("/repos/Codertocat/Hello-World/issues/42/comments").respond_with_json(
        {"id": 1001}, status=201
    )
    stack.env.update(
        AGENT_MCP_URL=agent_server.url,
        AGENT_TOKEN="agent-secret-token",
        GITHUB_API_URL=target.url_for("").rstrip("/"),
        GITHUB_TOKEN="gh-secret-token",
    )
    stack.start_web()
    stack.start_worker()
    answer = post_github(stack.url, failed_check_suite_on_pr(42), "check_suite")
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["id"]

    def commented() -> bool:
        return any(r.path.endswith("/issues/42/comments") for r, _ in target.log)

    assert wait_until(commented), [p.output() for p in stack.processes]
    failed = orjson.loads(real_redis.get(f"hookchain:event:{event_id}"))
    assert failed["type"] == "ci.failed" and failed["pr"] == 42
    assert agent_server.calls_to("investigate_failure") == [
        {"repo": failed["repo"], "sha": failed["sha"], "log_url": failed["url"]}
    ]
    assert {h["authorization"] for h in agent_server.headers} == {"Bearer agent-secret-token"}
    assert len({h["idempotency-key"] for h in agent_server.headers}) == 1

    (comment,) = [request for request, _ in target.log if request.path.endswith("/comments")]
    assert comment.headers["Authorization"] == "Bearer gh-secret-token"
    assert comment.get_json() == {
        "body": f"CI failed at {failed['sha'][:7]}. The agent looked into it: "
        f"test_payments is flaky on {failed['repo']}@{failed['sha'][:7]}"
    }
    # The tool's structured result is the outcome event's response.json; the token is masked.
    (investigated,) = events_of_type(real_redis, "ci.investigated")
    assert investigated["data"]["response"]["json"] == {
        "summary": f"test_payments is flaky on {failed['repo']}@{failed['sha'][:7]}",
        "confidence": 0.8,
    }
    assert investigated["data"]["request"]["tool"] == "investigate_failure"
    assert investigated["data"]["request"]["headers"]["Authorization"] == "***"
    assert investigated["causation_id"] == event_id and investigated["pr"] == 42
    assert b"agent-secret-token" not in real_redis.get(f"hookchain:event:{investigated['id']}")


FAILING_RULES = """
rules:
  - name: ask-broken-agent
    on: push
    do:
      - mcp:
          url: "{agent}"
          tool: broken
          arguments: {{reason: "no logs for {{{{ event.sha[:7] }}}}"}}
        retry: {{attempts: 3, backoff: 0.1}}
  - name: ask-slow-agent
    on: push
    do:
      - mcp:
          url: "{agent}"
          tool: slow
          arguments: {{seconds: 30}}
        timeout: 1
        retry: {{attempts: 2, backoff: 0.1}}
  - name: alert
    on: action.failed
    do:
      - http:
          url: "{base}/alert"
          json: {{rule: "{{{{ event.data.rule }}}}", error: "{{{{ event.data.error }}}}"}}
"""


def test_a_tool_error_and_a_timeout_become_action_failed_after_retries(
    stack: Stack, rules_dir: Path, target: HTTPServer, agent_server: AgentServer, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(
        FAILING_RULES.format(agent=agent_server.url, base=target.url_for("").rstrip("/"))
    )
    target.expect_request("/alert").respond_with_json({"ok": True})
    stack.start_web()
    stack.start_worker()
    answer = post_github(stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), "push")
    assert answer.status_code == 202
    event_id = answer.json()["id"]

    def alerts() -> list[dict]:
        return [request.get_json() for request, _ in target.log if request.path == "/alert"]

    assert wait_until(lambda: len(alerts()) == 2, timeout=60), [p.output() for p in stack.processes]
    sha = orjson.loads(real_redis.get(f"hookchain:event:{event_id}"))["sha"]
    assert sorted(alerts(), key=lambda a: a["rule"]) == [
        {
            "rule": "ask-broken-agent",
            "error": f"tool error: Error executing tool broken: cannot investigate: no logs for {sha[:7]}",
        },
        {"rule": "ask-slow-agent", "error": "timeout after 1s"},
    ]
    assert agent_server.calls_to("broken") == [{"reason": f"no logs for {sha[:7]}"}] * 3
    assert len(agent_server.calls_to("slow")) == 2
    records = {
        key.decode(): orjson.loads(value)
        for key, value in real_redis.hgetall(f"hookchain:actions:{event_id}").items()
    }
    assert [a["error"] is not None for a in records["ask-broken-agent/0"]["attempts"]] == [True] * 3
    assert len(records["ask-slow-agent/0"]["attempts"]) == 2
    assert {r["status"] for r in records.values()} == {"failed"}
    dead = [orjson.loads(raw) for raw in real_redis.lrange(DEAD_LETTERS_KEY, 0, -1)]
    assert sorted(d["rule"] for d in dead) == ["ask-broken-agent", "ask-slow-agent"]
    assert len(events_of_type(real_redis, "action.failed")) == 2


RETRYABLE_RULES = """
rules:
  - name: deploy
    on: push
    do:
      - name: call
        http:
          url: "{base}/deploy"
          json: {{sha: "{{{{ event.sha }}}}"}}
        retry: {{attempts: 1}}
"""


def test_an_agent_lists_failures_retries_them_and_replays_an_event(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    """retry_failed, list_failures and replay_event through the SDK's client (in process) on a real worker."""
    (rules_dir / "rules.yaml").write_text(RETRYABLE_RULES.format(base=target.url_for("").rstrip("/")))
    target.expect_oneshot_request("/deploy").respond_with_json({"error": "down"}, status=500)
    target.expect_request("/deploy").respond_with_json({"deployment": 2}, status=201)
    stack.start_web()
    stack.start_worker()
    answer = post_github(stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), "push")
    event_id = answer.json()["id"]
    assert wait_until(lambda: real_redis.llen(DEAD_LETTERS_KEY) == 1), stack.processes[1].output()

    settings = Settings.load({"redis_url": test_redis_url(), "rules_dir": rules_dir})

    async def scenario() -> None:
        client_redis = redis.asyncio.Redis.from_url(test_redis_url())
        try:
            async with Client(build_server(settings, lambda: client_redis), cache=None) as client:
                failures = (await client.call_tool("list_failures", {})).structured_content
                assert [(f["event_id"], f["rule"], f["error"]) for f in failures["failures"]] == [
                    (event_id, "deploy", "HTTP 500")
                ]
                wrong = await client.call_tool("retry_failed", {"event_id": event_id, "rule": "other"})
                assert wrong.is_error and "list_failures shows what can be retried" in wrong.content[0].text
                retried = await client.call_tool("retry_failed", {"event_id": event_id})
                assert retried.structured_content == {
                    "event_id": event_id,
                    "queued": [{"rule": "deploy", "action": "call"}],
                }
                await anyio.to_thread.run_sync(lambda: wait_until(lambda: len(calls()) == 2))
                replay = (await client.call_tool("replay_event", {"event_id": event_id})).structured_content
                assert replay["replay_of"] == event_id and replay["id"] != event_id
                await anyio.to_thread.run_sync(lambda: wait_until(lambda: len(calls()) == 3))
                tree = (await client.call_tool("get_chain", {"event_id": replay["id"]})).structured_content
                assert tree["tree"]["event"]["id"] == event_id
                assert replay["id"] in [child["event"]["id"] for child in tree["tree"]["children"]]
        finally:
            await client_redis.aclose()

    def calls() -> list:
        return [request for request, _ in target.log if request.path == "/deploy"]

    anyio.run(scenario)
    assert real_redis.llen(DEAD_LETTERS_KEY) == 0
    record = orjson.loads(real_redis.hget(f"hookchain:actions:{event_id}", "deploy/0"))
    assert record["status"] == "succeeded"
    assert [a["status"] for a in record["earlier_attempts"]] == [500]
    assert [a["status"] for a in record["attempts"]] == [201]
    # Retry and replay: the retry keeps the Idempotency-Key, the replay (a new event) has its own.
    keys = [request.headers["Idempotency-Key"] for request in calls()]
    assert keys[0] == keys[1] != keys[2]
