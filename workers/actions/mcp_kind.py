"""The `mcp` action kind: call one tool on a remote MCP server (streamable HTTP) as a chain step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.actions import mcp
from workers.actions.http import Attempt
from workers.actions.templating import render_string, render_value

if TYPE_CHECKING:
    from workers.rules.schema import Action
    from workers.runtime import WorkerContext


def render(action: Action, context: dict[str, Any]) -> mcp.OutgoingToolCall:
    """The exact tool call for this context (RenderError when a template fails)."""
    spec = action.mcp
    assert spec is not None
    return mcp.OutgoingToolCall(
        url=str(render_string(spec.url, context)),
        tool=str(render_string(spec.tool, context)),
        arguments=render_value(spec.arguments, context),
        headers={str(k): str(v) for k, v in render_value(spec.headers, context).items()},
    )


def describe(call: mcp.OutgoingToolCall, secrets: set[str]) -> dict[str, Any]:
    return mcp.described_call(call, secrets)


def perform(
    ctx: WorkerContext,
    call: mcp.OutgoingToolCall,
    *,
    number: int,
    timeout: float | None,
    idempotency_key: str,
    secrets: set[str],
) -> Attempt:
    return mcp.call_tool(
        call,
        number=number,
        timeout=timeout,
        allowed=ctx.allowed,
        idempotency_key=idempotency_key,
        secrets=secrets,
        resolver=ctx.resolver,
    )
