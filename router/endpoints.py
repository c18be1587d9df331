"""HTTP endpoints of the receiver: verify, normalise, store and queue, then answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from router.body import check_header_size, read_capped
from router.errors import QueueUnavailable, WebhookRejected
from router.events import Event, new_event_id, utc_now
from router.metrics import WEBHOOKS
from router.queue import accept_call, duplicate_of
from router.settings import Settings
from router.sources import Source, unknown_source

log = logging.getLogger("hookchain.router")

INLINE_DECODE_BYTES = 256 * 1024


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def receive_hook(request: Request) -> Response:
    source: str = request.path_params["source"]
    try:
        response = await _receive(request, source)
    except WebhookRejected as exc:
        log.warning("refused %s webhook: %s %s", source, exc.status, exc.reason, extra={"status": exc.status})
        response = error(exc.status, exc.reason)
    except QueueUnavailable as exc:
        log.error("queue unavailable, %s webhook not acknowledged: %s", source, exc)
        response = error(503, "queue unavailable: nothing was accepted, send again later")
    known = source if source in request.app.state.sources else "unknown"
    event_type = getattr(request.state, "event_type", "unknown")
    WEBHOOKS.labels(known, event_type, str(response.status_code)).inc()
    return response


async def _receive(request: Request, source: str) -> Response:
    settings: Settings = request.app.state.settings
    sources: dict[str, Source] = request.app.state.sources
    if source not in sources:
        raise unknown_source(source, sources)
    check_header_size(request)
    body = await read_capped(request, settings.max_body_bytes, settings.body_timeout)
    if len(body) > INLINE_DECODE_BYTES:  # hashing and parsing megabytes would stall other requests
        event, reply, delivery_id = await run_in_threadpool(_decode, sources[source], request.headers, body)
    else:
        event, reply, delivery_id = _decode(sources[source], request.headers, body)
    request.state.event_type = event.type
    duplicate = await _accept(request, event, source, delivery_id or event.id)
    if duplicate is not None:
        log.info(
            "duplicate %s delivery %s (first accepted as %s)",
            source,
            event.id,
            duplicate,
            extra={"event_id": duplicate, "correlation_id": duplicate},
        )
        return JSONResponse({"id": duplicate, "duplicate": True}, status_code=200)
    log.info(
        "accepted %s %s as %s",
        source,
        event.provider_type,
        event.id,
        extra={"event_id": event.id, "correlation_id": event.correlation_id, "type": event.type},
    )
    if reply is not None:
        return JSONResponse(reply, status_code=200)
    return JSONResponse({"id": event.id}, status_code=202)


def _decode(source: Source, headers: Headers, body: bytes) -> tuple[Event, dict[str, Any] | None, str | None]:
    """Verify the raw body, then parse and normalise it: CPU only, no I/O."""
    source.verify(headers, body)
    provider = source.provider
    payload = provider.parse(headers, body)
    delivery_id = provider.delivery_id(headers, payload)
    event = provider.to_event(
        headers, payload, event_id=delivery_id or new_event_id(), received_at=utc_now(), source=source.name
    )
    return event, provider.handshake(event), delivery_id


async def _accept(request: Request, event: Event, source: str, delivery_id: str) -> str | None:
    """Dedupe mark, event record and RQ job in one atomic round trip; None when the event is new."""
    settings: Settings = request.app.state.settings
    keys, args = accept_call(
        event,
        dedupe_source=source,
        delivery_id=delivery_id,
        dedupe_ttl=settings.dedupe_ttl,
        event_ttl=settings.event_ttl,
        enqueue=True,
    )
    try:
        async with asyncio.timeout(settings.redis_timeout):
            result = await request.app.state.accept_script(keys=keys, args=args)
    except (RedisError, OSError, TimeoutError) as exc:
        raise QueueUnavailable(f"{type(exc).__name__}: {exc}") from None
    return duplicate_of(result)


async def health(request: Request) -> Response:
    try:
        async with asyncio.timeout(request.app.state.settings.redis_timeout):
            await request.app.state.redis.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return JSONResponse({"status": "unavailable", "redis": f"{type(exc).__name__}"}, status_code=503)
    return JSONResponse({"status": "ok", "redis": "ok"})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path, wrong method) as JSON like every other error."""
    assert isinstance(exc, HTTPException)
    reason = exc.detail if exc.detail else "error"
    if exc.status_code == 404:
        reason = f"no such endpoint: {request.url.path} (webhooks go to POST /hooks/<source>)"
    elif exc.status_code == 405:
        reason = f"method {request.method} is not allowed on {request.url.path}"
    return JSONResponse({"error": reason}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, "internal error: nothing was accepted, send again later")
