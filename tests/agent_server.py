"""A small MCP server built with the SDK, served by a real uvicorn on loopback: the agent a rule calls."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AgentServer:
    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Every tool call: tool name and the arguments it got."""
    headers: list[dict[str, str]] = field(default_factory=list)
    """The HTTP headers of every POST to /mcp."""

    def calls_to(self, tool: str) -> list[dict[str, Any]]:
        return [call["arguments"] for call in self.calls if call["tool"] == tool]


class _HeaderLog:
    def __init__(self, app: ASGIApp, log: list[dict[str, str]]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            self.log.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


def build_agent(record: AgentServer) -> MCPServer:
    agent = MCPServer("test-agent")

    @agent.tool(description="Look into a failed CI run and say what broke.")
    def investigate_failure(repo: str, sha: str, log_url: str) -> dict[str, Any]:
        record.calls.append(
            {"tool": "investigate_failure", "arguments": {"repo": repo, "sha": sha, "log_url": log_url}}
        )
        return {"summary": f"test_payments is flaky on {repo}@{sha[:7]}", "confidence": 0.8}

    @agent.tool(description="Always fails.")
    def broken(reason: str) -> str:
        record.calls.append({"tool": "broken", "arguments": {"reason": reason}})
        raise ToolError(f"cannot investigate: {reason}")

    @agent.tool(description="Takes longer than any caller waits.")
    async def slow(seconds: float) -> str:
        record.calls.append({"tool": "slow", "arguments": {"seconds": seconds}})
        await asyncio.sleep(seconds)
        return "late"

    return agent


@pytest.fixture
def agent_server() -> Iterator[AgentServer]:
    port = _free_port()
    record = AgentServer(url=f"http://127.0.0.1:{port}/mcp")
    agent = build_agent(record)
    app = agent.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    server = uvicorn.Server(
        uvicorn.Config(_HeaderLog(app, record.headers), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="agent-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test MCP server did not start"
    yield record
    server.should_exit = True
    thread.join(timeout=10)
