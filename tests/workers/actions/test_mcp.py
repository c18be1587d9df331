"""The `mcp` action kind against a real MCP server (the SDK's) on loopback."""

from __future__ import annotations

import pytest

from tests.agent_server import AgentServer
from workers.actions.guard import AllowList
from workers.actions.mcp import OutgoingToolCall, call_tool
from workers.actions.mcp_kind import render as render_tool_call
from workers.rules.schema import Action

LOOPBACK = AllowList.parse(["127.0.0.1"])


def call(server: AgentServer, tool: str, arguments: dict, **options) -> object:
    return call_tool(
        OutgoingToolCall(url=server.url, tool=tool, arguments=arguments, headers=options.pop("headers", {})),
        number=options.pop("number", 1),
        timeout=options.pop("timeout", 10),
        allowed=options.pop("allowed", LOOPBACK),
        idempotency_key="idem-1",
        secrets=options.pop("secrets", set()),
        **options,
    )


def test_the_tool_gets_the_arguments_and_its_structured_result_is_the_json(agent_server: AgentServer):
    attempt = call(
        agent_server,
        "investigate_failure",
        {"repo": "acme/api", "sha": "c4295bd74fb0", "log_url": "https://ci.example/run/7"},
        headers={"Authorization": "Bearer agent-token"},
        secrets={"agent-token"},
    )
    assert attempt.succeeded, attempt.error
    assert attempt.status == 200
    assert attempt.json == {"summary": "test_payments is flaky on acme/api@c4295bd", "confidence": 0.8}
    assert agent_server.calls_to("investigate_failure") == [
        {"repo": "acme/api", "sha": "c4295bd74fb0", "log_url": "https://ci.example/run/7"}
    ]
    # Every HTTP request of the MCP exchange carries the key and the auth header; the record masks it.
    assert agent_server.headers and all(h["idempotency-key"] == "idem-1" for h in agent_server.headers)
    assert all(h["authorization"] == "Bearer agent-token" for h in agent_server.headers)
    assert attempt.request["headers"]["Authorization"] == "***"
    assert attempt.request["tool"] == "investigate_failure"
    assert attempt.request["arguments"]["repo"] == "acme/api"


def test_a_tool_error_is_a_retryable_failure_with_its_message(agent_server: AgentServer):
    attempt = call(agent_server, "broken", {"reason": "no logs"})
    assert not attempt.succeeded
    assert attempt.retryable
    assert attempt.error == "tool error: Error executing tool broken: cannot investigate: no logs"


def test_a_timeout_is_a_retryable_failure(agent_server: AgentServer):
    attempt = call(agent_server, "slow", {"seconds": 5}, timeout=0.5)
    assert not attempt.succeeded and attempt.retryable
    assert attempt.error == "timeout after 0.5s"
    assert attempt.duration_ms < 4000


def test_an_unreachable_server_is_a_retryable_connection_error(agent_server: AgentServer):
    attempt = call_tool(
        OutgoingToolCall(url="http://127.0.0.1:1/mcp", tool="x", arguments={}),
        number=1,
        timeout=5,
        allowed=LOOPBACK,
        idempotency_key="k",
        secrets=set(),
    )
    assert attempt.retryable and attempt.error.startswith("connection error: ConnectError")


def test_a_wrong_path_is_an_http_error_not_retried(agent_server: AgentServer):
    attempt = call_tool(
        OutgoingToolCall(url=agent_server.url.replace("/mcp", "/nothing"), tool="x", arguments={}),
        number=1,
        timeout=5,
        allowed=LOOPBACK,
        idempotency_key="k",
        secrets=set(),
    )
    assert attempt.status == 404 and attempt.error == "HTTP 404" and not attempt.retryable


@pytest.mark.parametrize("address", ["10.0.0.7", "169.254.169.254", "127.0.0.1"])
def test_an_internal_target_is_refused_before_any_connection(address: str):
    dialled: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        dialled.append(host)
        return [address]

    attempt = call_tool(
        OutgoingToolCall(url="http://agent.example/mcp", tool="investigate_failure", arguments={}),
        number=1,
        timeout=5,
        allowed=AllowList.parse([]),
        idempotency_key="k",
        secrets=set(),
        resolver=resolver,
    )
    assert dialled == ["agent.example"]
    assert attempt.error.startswith("refused: agent.example resolves to")
    assert not attempt.retryable and attempt.status is None


def test_the_checked_address_is_dialled_with_the_original_host_name(agent_server: AgentServer):
    port = agent_server.url.split(":")[2].split("/")[0]
    attempt = call_tool(
        OutgoingToolCall(url=f"http://agent.test:{port}/mcp", tool="broken", arguments={"reason": "x"}),
        number=1,
        timeout=10,
        allowed=AllowList.parse(["agent.test"]),
        idempotency_key="k",
        secrets=set(),
        resolver=lambda host, _port: ["127.0.0.1"],
    )
    assert attempt.status == 200, attempt.error
    assert agent_server.headers[-1]["host"] == f"agent.test:{port}"


def test_arguments_are_templates_and_secrets_are_masked_in_the_record(agent_server: AgentServer):
    action = Action.model_validate(
        {
            "mcp": {
                "url": agent_server.url,
                "tool": "investigate_failure",
                "arguments": {
                    "repo": "{{ event.repo }}",
                    "sha": "{{ event.sha }}",
                    "log_url": "https://ci.example/?token={{ secrets.CI_TOKEN }}",
                },
            }
        }
    )
    rendered = render_tool_call(
        action, {"event": {"repo": "acme/api", "sha": "abc123"}, "secrets": {"CI_TOKEN": "tok-9"}}
    )
    assert rendered.arguments == {
        "repo": "acme/api",
        "sha": "abc123",
        "log_url": "https://ci.example/?token=tok-9",
    }
    attempt = call(agent_server, rendered.tool, rendered.arguments, secrets={"tok-9"})
    assert attempt.succeeded
    assert attempt.request["arguments"]["log_url"] == "https://ci.example/?token=***"
    assert agent_server.calls_to("investigate_failure")[0]["log_url"].endswith("token=tok-9")
