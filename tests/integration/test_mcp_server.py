"""hookchain as an MCP server, driven by the SDK's own client: over stdio (`hookchain mcp`, a real
process) and over streamable HTTP (`/mcp` on a real `hookchain web`), with a real worker, the real
Redis and real HTTP targets on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import redis
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from pytest_httpserver import HTTPServer

from tests.conftest import REPO
from tests.integration.conftest import Stack, free_port, wait_until

ADMIN_TOKEN = "admin-token-for-tests"

RULES = """
rules:
  - name: deploy-prod-after-smoke
    on: smoke.passed
    match: {{branch: main}}
    do:
      - name: deploy
        http:
          url: "{base}/deploy"
          json: {{sha: "{{{{ event.sha }}}}", repo: "{{{{ event.repo }}}}", by: "{{{{ event.data.by }}}}"}}
        emit: deploy.requested
"""

TRY_RULE = """
name: page-on-failed-smoke
on: smoke.failed
match: {branch: main}
do:
  - http:
      url: "https://pager.example/alert"
      headers: {Authorization: "Bearer {{ secrets.PAGER_TOKEN }}"}
      json: {text: "smoke failed on {{ event.repo }}@{{ event.sha }}"}
"""

EXPECTED_TOOLS = {
    "emit_event",
    "get_chain",
    "list_events",
    "list_failures",
    "retry_failed",
    "replay_event",
    "list_rules",
    "test_rules",
}


def run(test: Callable[[], Any]) -> Any:
    return anyio.run(test)


@pytest.fixture
def chain(stack: Stack, rules_dir: Path, target: HTTPServer) -> Stack:
    (rules_dir / "deploy.yaml").write_text(RULES.format(base=target.url_for("").rstrip("/")))
    target.expect_request("/deploy", method="POST").respond_with_json({"deployment": "D-1"}, status=201)
    stack.env["HOOKCHAIN_ADMIN_TOKEN"] = ADMIN_TOKEN
    stack.env["PAGER_TOKEN"] = "pager-secret-value"
    stack.start_worker()
    return stack


@asynccontextmanager
async def stdio_client(stack: Stack) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "hookchain", "mcp"], env=stack.env, cwd=str(stack.tmp)
    )
    async with Client(params, cache=None) as client:
        yield client


@asynccontextmanager
async def http_client(stack: Stack, token: str | None = ADMIN_TOKEN) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"{stack.url}/mcp", http_client=http), cache=None) as client,
    ):
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def tool_error(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    text = result.content[0].text
    assert "Traceback" not in text
    return text


def deploy_calls(target: HTTPServer) -> list[dict[str, Any]]:
    return [request.get_json() for request, _ in target.log if request.path == "/deploy"]


async def drive_a_chain(client: Client, target: HTTPServer) -> None:
    """What an agent does: list the tools, emit an event, read back the chain it started, try a rule."""
    tools = await client.list_tools()
    assert {tool.name for tool in tools.tools} == EXPECTED_TOOLS
    emit_schema = next(tool for tool in tools.tools if tool.name == "emit_event").input_schema
    assert emit_schema["required"] == ["type"]
    assert {"idempotency_key", "caused_by", "data", "repo", "sha"} <= set(emit_schema["properties"])

    sha = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
    facts = {"type": "smoke.passed", "repo": "acme/api", "branch": "main", "sha": sha}
    emitted = await call(
        client, "emit_event", {**facts, "data": {"by": "agent-7"}, "idempotency_key": "smoke-1"}
    )
    assert emitted["duplicate"] is False
    event_id = emitted["id"]

    await anyio.to_thread.run_sync(lambda: wait_until(lambda: len(deploy_calls(target)) == 1))
    assert deploy_calls(target) == [{"sha": sha, "repo": "acme/api", "by": "agent-7"}]

    # The same idempotency key is the same event: nothing fires twice.
    again = await call(client, "emit_event", {**facts, "idempotency_key": "smoke-1"})
    assert again == {"id": event_id, "duplicate": True}

    async def chain_done() -> dict[str, Any]:
        with anyio.fail_after(20):
            while True:
                tree = await call(client, "get_chain", {"event_id": event_id})
                if tree["events"] >= 3:
                    return tree
                await anyio.sleep(0.1)

    tree = await chain_done()
    root = tree["tree"]
    assert root["event"]["id"] == event_id and root["event"]["source"] == "mcp"
    assert root["event"]["type"] == "smoke.passed" and root["status"] == "succeeded"
    assert root["matches"] == [{"rule": "deploy-prod-after-smoke", "matched": True, "reason": None}]
    (action,) = root["actions"]
    assert action["status"] == "succeeded"
    assert action["attempts"][0]["request"]["url"].endswith("/deploy")
    assert action["outcome"]["response"]["json"] == {"deployment": "D-1"}
    child_types = sorted(child["event"]["type"] for child in root["children"])
    assert child_types == ["action.succeeded", "deploy.requested"]
    assert all(child["event"]["causation_id"] == event_id for child in root["children"])
    assert deploy_calls(target) == [{"sha": sha, "repo": "acme/api", "by": "agent-7"}]

    listed = await call(client, "list_events", {"type": "smoke.*"})
    assert [event["id"] for event in listed["events"]] == [event_id]
    assert listed["events"][0]["status"] == "succeeded"

    # An agent writes a rule and tries it before anyone saves it: nothing is sent, secrets masked.
    dry = await call(
        client,
        "test_rules",
        {
            "event": {"type": "smoke.failed", "repo": "acme/api", "branch": "main", "sha": sha},
            "rules_yaml": TRY_RULE,
        },
    )
    assert dry["matched"] == ["page-on-failed-smoke"] and dry["sent"] is False
    (rendered,) = dry["rules"][0]["actions"]
    assert rendered["request"]["url"] == "https://pager.example/alert"
    assert rendered["request"]["headers"]["Authorization"] == "***"
    assert "pager-secret-value" not in str(dry)
    # The same event against the saved rules: why the deploy rule does not fire.
    saved = await call(client, "test_rules", {"event": {"type": "smoke.passed", "branch": "dev"}})
    assert saved["matched"] == []
    assert saved["rules"] == [
        {
            "rule": "deploy-prod-after-smoke",
            "matched": False,
            "origin": saved["rules"][0]["origin"],
            "reason": "match: branch is 'dev', not 'main'",
        }
    ]


def test_an_agent_drives_a_chain_over_stdio(chain: Stack, target: HTTPServer):
    async def scenario() -> None:
        async with stdio_client(chain) as client:
            await drive_a_chain(client, target)
            resources = await client.list_resources()
            assert [str(r.uri) for r in resources.resources] == ["hookchain://rules/deploy.yaml"]
            content = await client.read_resource("hookchain://rules/deploy.yaml")
            assert "deploy-prod-after-smoke" in content.contents[0].text
            bad = await tool_error(
                client, "test_rules", {"event": {"type": "x"}, "rules_yaml": "name: x\non: [y\n"}
            )
            assert "rules_yaml:3:1: YAML:" in bad
            reserved = await tool_error(client, "emit_event", {"type": "action.failed"})
            assert "emitted by hookchain itself: choose another type" in reserved
            orphan = await tool_error(client, "emit_event", {"type": "fix.pushed", "caused_by": "nope"})
            assert "no event 'nope'" in orphan
            missing = await tool_error(client, "get_chain", {"event_id": "no-such-event"})
            assert "no event 'no-such-event'" in missing and "list_events" in missing

    run(scenario)


def test_an_agent_drives_a_chain_over_http_with_the_admin_token(chain: Stack, target: HTTPServer):
    chain.start_web()

    async def scenario() -> None:
        async with http_client(chain) as client:
            await drive_a_chain(client, target)

    run(scenario)


def test_mcp_over_http_refuses_a_client_without_the_admin_token(chain: Stack, real_redis: redis.Redis):
    chain.start_web()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = httpx.post(
            f"{chain.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream", **headers},
        )
        assert answer.status_code == 401
        assert answer.json() == {"error": "send Authorization: Bearer <HOOKCHAIN_ADMIN_TOKEN>"}

    async def scenario() -> None:
        statuses: list[int] = []

        async def record(response: httpx2.Response) -> None:
            statuses.append(response.status_code)

        async with httpx2.AsyncClient(timeout=30, event_hooks={"response": [record]}) as http:
            with pytest.raises(ExceptionGroup) as refused:  # the SDK wraps the refusal in task groups
                async with Client(
                    streamable_http_client(f"{chain.url}/mcp", http_client=http), cache=None
                ) as c:
                    await c.list_tools()
        assert "error response" in repr(refused.value)
        assert statuses and set(statuses) == {401}

    run(scenario)
    assert real_redis.zcard("hookchain:log") == 0


def test_stdio_needs_redis_url(stack: Stack):
    stack.env.pop("REDIS_URL")
    result = subprocess.run(
        [sys.executable, "-m", "hookchain", "mcp"],
        env=stack.env,
        cwd=stack.tmp,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "REDIS_URL is not set" in result.stderr


def test_an_agent_continues_the_tutorial_chain_with_emit_event(stack: Stack, rules_dir: Path):
    """The README tutorial on `hookchain dev` with the shipped rules, then an agent's turn over /mcp."""
    for name in ("REDIS_URL", "HOOKCHAIN_GITHUB_SECRET", "HOOKCHAIN_ALLOWED_TARGETS"):
        stack.env.pop(name)
    port = free_port()
    for rule in (REPO / "rules").glob("*.yaml"):
        (rules_dir / rule.name).write_text(rule.read_text().replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    dev = stack.start("dev", "--port", str(port), name="dev-agent")
    stack.url = f"http://127.0.0.1:{port}"
    assert wait_until(
        lambda: "Authorization: Bearer dev-admin" in dev.output() or dev.popen.poll() is not None
    )
    sent = subprocess.run(
        [sys.executable, "-m", "hookchain", "send", "github", "--url", stack.url],
        env=stack.env,
        cwd=stack.tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert wait_until(lambda: "→ call arrived at /dev/inbox/chat" in dev.output()), dev.output()

    async def agent_turn() -> dict[str, Any]:
        async with http_client(stack, token="dev-admin") as client:
            found = await call(client, "list_events", {"type": "changelog.recorded"})
            (recorded,) = found["events"]
            emitted = await call(
                client,
                "emit_event",
                {
                    "type": "docs.updated",
                    "caused_by": recorded["id"],
                    "data": {"summary": "CHANGELOG.md linked"},
                },
            )
            assert emitted["chain"] == recorded["chain"] and emitted["depth"] == 2
            await anyio.to_thread.run_sync(
                lambda: wait_until(lambda: "docs updated by an agent" in dev.output())
            )
            return await call(client, "get_chain", {"event_id": emitted["id"]})

    tree = anyio.run(agent_turn)
    assert "Codertocat/Hello-World#2: docs updated by an agent: CHANGELOG.md linked" in dev.output()

    def types(node: dict[str, Any]) -> list[str]:
        return [node["event"]["type"], *[t for child in node["children"] for t in types(child)]]

    assert tree["tree"]["event"]["type"] == "pr.merged"
    assert "docs.updated" in types(tree["tree"]) and tree["events"] >= 5
