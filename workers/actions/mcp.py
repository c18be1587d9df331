"""The `mcp` action kind: call one tool on a remote MCP server over streamable HTTP.

Same contract as an `http` action: the target is checked by the SSRF guard and the call dials
the checked address (Host header and TLS server name keep the original name); it has a
timeout; every try carries the same `Idempotency-Key` header; what came back is an `Attempt`,
never an exception. The tool's structured result becomes the attempt's `json`, so the outcome
event carries it as `event.data.response.json`.

A tool error (`isError`), a timeout, a connection error, a 429 or a 5xx are retryable; any
other HTTP error or a protocol error is not.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import orjson
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from router.events import utc_now
from workers.actions.guard import (
    AllowList,
    PinnedTarget,
    Resolver,
    TargetRefused,
    check_target,
    system_resolver,
)
from workers.actions.http import (
    CONNECT_TIMEOUT,
    RESPONSE_TEXT_CAP,
    TOTAL_TIMEOUT,
    Attempt,
    mask,
    mask_value,
    masked_headers,
    sent_headers,
)


@dataclass(frozen=True)
class OutgoingToolCall:
    url: str
    tool: str
    arguments: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def described_call(call: OutgoingToolCall, secrets: set[str]) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": mask(call.url, secrets),
        "headers": masked_headers(call.headers, secrets),
        "tool": call.tool,
        "arguments": mask_value(call.arguments, secrets),
    }


def tool_result_json(result: CallToolResult) -> Any:
    """The structured result; else the text content parsed as JSON when it is JSON; else None."""
    if result.structured_content is not None:
        return result.structured_content
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    if len(texts) == 1:
        try:
            return orjson.loads(texts[0])
        except orjson.JSONDecodeError:
            return None
    return None


def tool_result_text(result: CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    return "\n".join(texts)[:RESPONSE_TEXT_CAP]


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (nested) exception groups, which the SDK's task groups raise."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


class _StatusLog:
    """The HTTP status and headers of the last response the MCP client got."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}

    async def __call__(self, response: httpx2.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)


def call_tool(
    call: OutgoingToolCall,
    *,
    number: int,
    timeout: float | None,
    allowed: AllowList,
    idempotency_key: str,
    secrets: set[str],
    resolver: Resolver = system_resolver,
) -> Attempt:
    """Call the tool once; every failure comes back as a recorded Attempt, never an exception."""
    call = OutgoingToolCall(call.url, call.tool, call.arguments, sent_headers(call.headers, idempotency_key))
    attempt = Attempt(number=number, started_at=utc_now(), request=described_call(call, secrets))
    total = timeout or TOTAL_TIMEOUT
    started = time.perf_counter()
    statuses = _StatusLog()
    try:
        target = check_target(call.url, allowed, resolver)
    except TargetRefused as exc:
        attempt.error = f"refused: {exc}"
    else:
        try:
            result = anyio.run(_call, call, target, total, statuses)
        except Exception as exc:  # every failure becomes a recorded attempt (the SDK raises groups)
            _describe_failure(attempt, list(_leaves(exc)), total, statuses, secrets)
        else:
            attempt.status = statuses.status or 200
            attempt.headers = statuses.headers
            attempt.json = tool_result_json(result)
            attempt.text = tool_result_text(result)
            if result.is_error:
                attempt.error = f"tool error: {mask(attempt.text[:500], secrets) or 'no message'}"
                attempt.retryable = True
    attempt.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return attempt


async def _call(
    call: OutgoingToolCall, target: PinnedTarget, total: float, statuses: _StatusLog
) -> CallToolResult:
    async def pin_tls_name(request: httpx2.Request) -> None:
        request.extensions["sni_hostname"] = target.server_name

    http = httpx2.AsyncClient(
        headers={**call.headers, "Host": target.host_header},
        timeout=httpx2.Timeout(total, connect=min(CONNECT_TIMEOUT, total)),
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [pin_tls_name], "response": [statuses]},
    )
    with anyio.fail_after(total):
        async with (
            http,
            Client(
                streamable_http_client(str(target.url), http_client=http),
                mode="legacy",
                cache=None,
                read_timeout_seconds=total,
            ) as client,
        ):
            return await client.call_tool(call.tool, call.arguments, read_timeout_seconds=total)


def _describe_failure(
    attempt: Attempt, errors: Sequence[BaseException], total: float, statuses: _StatusLog, secrets: set[str]
) -> None:
    status = statuses.status
    if status is not None and status >= 300:
        attempt.status = status
        attempt.headers = statuses.headers
    if any(isinstance(e, TimeoutError | httpx2.TimeoutException) for e in errors):
        attempt.error = f"timeout after {total:g}s"
        attempt.retryable = True
        return
    transport = next((e for e in errors if isinstance(e, httpx2.TransportError)), None)
    if transport is not None and (status is None or status < 300):
        attempt.error = f"connection error: {type(transport).__name__}: {mask(str(transport), secrets)}"
        attempt.retryable = True
        return
    if status is not None and status >= 300:
        attempt.error = f"HTTP {status}"
        attempt.retryable = status == 429 or status >= 500
        return
    protocol = next((e for e in errors if isinstance(e, MCPError)), None)
    if protocol is not None:
        attempt.error = f"MCP error {protocol.code}: {mask(protocol.message, secrets)}"
        return
    first = errors[0] if errors else None
    attempt.error = f"MCP call failed: {type(first).__name__}: {mask(str(first), secrets)}"
