"""Reading a request: headers capped, body capped while it streams in (not after), and a deadline.

A client that trickles its body in (slowloris) gets a 408 once `timeout` seconds have passed,
so it cannot hold a receiver slot for ever.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from router.errors import WebhookRejected

MAX_HEADER_BYTES = 64 * 1024
"""GitHub's own deliveries carry a few KB of headers; uvicorn's default parser sets no limit."""


def check_header_size(request: Request, limit: int = MAX_HEADER_BYTES) -> None:
    size = sum(len(name) + len(value) + 4 for name, value in request.headers.raw)
    if size > limit:
        raise WebhookRejected(431, f"request headers of {size} bytes are over the {limit}-byte limit")


async def read_capped(request: Request, limit: int, timeout: float = 30.0) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await _read(request, limit)
    except TimeoutError:
        raise WebhookRejected(408, f"body not received within {timeout:g}s") from None


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise WebhookRejected(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise WebhookRejected(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
