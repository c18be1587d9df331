"""HTTP endpoints of the receiver: verify, normalise, store and queue, then answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from router.body import check_header_size, read_capped
from router.errors import QueueUnavailable, WebhookRejected
from router.events import Event, new_event_id, utc_now
from router.providers import PROVIDERS
from router.queue import accept_call, duplicate_of
from router.settings import Settings

log = logging.getLogger("hookchain.router")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def receive_hook(request: Request) -> Response:
    source: str = request.path_params["source"]
    try:
        return await _receive(request, source)
    except WebhookRejected as exc:
        log.warning("refused %s webhook: %s %s", source, exc.status, exc.reason)
        return error(exc.status, exc.reason)
    except QueueUnavailable as exc:
        log.error("queue unavailable, %s webhook not acknowledged: %s", source, exc)
        return error(503, "queue unavailable: nothing was accepted, send again later")


async def _receive(request: Request, source: str) -> Response:
    settings: Settings = request.app.state.settings
    provider = PROVIDERS.get(source)
    if provider is None:
        raise WebhookRejected(404, f"unknown source {source!r}; known: {', '.join(sorted(PROVIDERS))}")
    secret = settings.secret_for(provider.name)
    if secret is None:
        raise WebhookRejected(
            404, f"source {source!r} is not configured: set HOOKCHAIN_{provider.name.upper()}_SECRET"
        )
    check_header_size(request)
    body = await read_capped(request, settings.max_body_bytes, settings.body_timeout)
    headers = request.headers
    provider.verify(headers, body, [secret])
    payload = provider.parse(headers, body)
    delivery_id = provider.delivery_id(headers, payload)
    event = provider.to_event(
        headers, payload, event_id=delivery_id or new_event_id(), received_at=utc_now(), source=source
    )
    reply = provider.handshake(event)
    duplicate = await _accept(request, event, source, delivery_id or event.id)
    if duplicate is not None:
        log.info("duplicate %s delivery %s (first accepted as %s)", source, event.id, duplicate)
        return JSONResponse({"id": duplicate, "duplicate": True}, status_code=200)
    log.debug("accepted %s %s as %s", source, event.provider_type, event.id)
    if reply is not None:
        return JSONResponse(reply, status_code=200)
    return JSONResponse({"id": event.id}, status_code=202)


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
