"""Reading a request body with a size cap enforced while it streams in, not after."""

from __future__ import annotations

from starlette.requests import Request

from router.errors import WebhookRejected


async def read_capped(request: Request, limit: int) -> bytes:
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
