"""The admin API under /api: the event log, chains, replay, dead letters, rules and status.

Every endpoint but the OpenAPI document needs `Authorization: Bearer $HOOKCHAIN_ADMIN_TOKEN`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router import eventlog, operations
from router.endpoints import JSONResponse, error
from router.events import Event
from router.openapi import OPENAPI
from router.settings import Settings

log = logging.getLogger("hookchain.api")

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_PAGE = 200
DEFAULT_PAGE = 50


class BadRequest(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def admin_only(endpoint: Endpoint) -> Endpoint:
    """401 without the right bearer token; 403 when no token is configured at all."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        if settings.admin_token is None:
            return error(403, "the admin API is off: set HOOKCHAIN_ADMIN_TOKEN to use it")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = settings.admin_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            return error(
                401, "missing or wrong admin token: send Authorization: Bearer <HOOKCHAIN_ADMIN_TOKEN>"
            )
        try:
            async with asyncio.timeout(settings.redis_timeout * 5):
                return await endpoint(request)
        except BadRequest as exc:
            return error(400, exc.reason)
        except (RedisError, OSError, TimeoutError) as exc:
            log.error("admin API: Redis unavailable: %s", type(exc).__name__)
            return error(503, f"Redis unavailable: {type(exc).__name__}")

    return guarded


def _time_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is neither an RFC 3339 time nor epoch seconds") from None


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


@admin_only
async def list_events(request: Request) -> Response:
    query = request.query_params
    status = query.get("status") or None
    if status is not None and status not in eventlog.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(eventlog.STATUSES)}, not {status!r}")
    wanted = eventlog.EventFilter(
        type=query.get("type") or None,
        source=query.get("source") or None,
        subject=query.get("subject") or None,
        status=status,
        chain=query.get("chain") or None,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
    )
    limit = _int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    before = _time_param(request, "cursor")
    events, cursor = await eventlog.list_events(request.app.state.redis, wanted, limit=limit, before=before)
    return JSONResponse({"events": events, "next_cursor": None if cursor is None else f"{cursor:.6f}"})


@admin_only
async def get_event(request: Request) -> Response:
    client = request.app.state.redis
    event_id = request.path_params["event_id"]
    record = await eventlog.load_one(client, event_id)
    if record is None:
        return error(404, f"no event {event_id!r} in the log (unknown, or older than the retention)")
    chain = await eventlog.chain_of(client, record)
    by_id = {r.envelope["id"]: r for r in chain}
    parent = by_id.get(record.envelope.get("causation_id") or "")
    children = [r.summary() for r in chain if r.envelope.get("causation_id") == event_id]
    body = {
        **record.summary(),
        "event": record.envelope,
        "matches": record.matches or [],
        "actions": record.action_list(),
        "parent": parent.summary() if parent else None,
        "children": children,
        "chain": {
            "correlation_id": record.envelope.get("correlation_id"),
            "size": len(chain),
            "roots": eventlog.chain_tree(chain),
        },
        "related": await eventlog.related_to(client, record),
    }
    return JSONResponse(body)


@admin_only
async def replay(request: Request) -> Response:
    client = request.app.state.redis
    settings: Settings = request.app.state.settings
    event_id = request.path_params["event_id"]
    record = await eventlog.load_one(client, event_id)
    if record is None:
        return error(404, f"no event {event_id!r} in the log: nothing to replay")
    new, keys, args = operations.replay_call(
        Event.from_dict(record.envelope), dedupe_ttl=settings.dedupe_ttl, event_ttl=settings.event_ttl
    )
    await request.app.state.accept_script(keys=keys, args=args)
    log.info(
        "replayed %s %s as %s",
        new.type,
        event_id,
        new.id,
        extra={"event_id": new.id, "correlation_id": new.correlation_id, "replay_of": event_id},
    )
    return JSONResponse(
        {"id": new.id, "replay_of": event_id, "correlation_id": new.correlation_id}, status_code=202
    )


@admin_only
async def list_dead_letters(request: Request) -> Response:
    limit = _int_param(request, "limit", 100, 1, 10_000)
    letters = await operations.dead_letters(request.app.state.redis, limit)
    return JSONResponse({"dead_letters": [letter for _, letter in letters]})


@admin_only
async def retry_dead_letter(request: Request) -> Response:
    client = request.app.state.redis
    letter_id = request.path_params["letter_id"]
    for raw, letter in await operations.dead_letters(client):
        if letter["id"] != letter_id:
            continue
        if not await operations.event_exists(client, letter["event_id"]):
            return error(409, f"event {letter['event_id']} has expired: the action cannot run again")
        job_id = await operations.retry_dead_letter(client, request.app.state.retry_script, raw, letter)
        if job_id is None:
            break
        log.info(
            "dead letter %s/%s for %s queued again",
            letter["rule"],
            letter["action"],
            letter["event_id"],
            extra={"event_id": letter["event_id"], "correlation_id": letter.get("correlation_id")},
        )
        return JSONResponse({"queued": job_id, **letter}, status_code=202)
    return error(404, f"no dead letter {letter_id!r} (already retried?)")


@admin_only
async def list_rules(request: Request) -> Response:
    return JSONResponse({"rules": await operations.rules_with_firings(request.app.state.redis)})


@admin_only
async def status(request: Request) -> Response:
    return JSONResponse(await operations.system_status(request.app.state.redis))


async def openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


def routes() -> list[Route]:
    return [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/events", list_events, methods=["GET"]),
        Route("/api/events/{event_id}", get_event, methods=["GET"]),
        Route("/api/events/{event_id}/replay", replay, methods=["POST"]),
        Route("/api/dead-letters", list_dead_letters, methods=["GET"]),
        Route("/api/dead-letters/{letter_id}/retry", retry_dead_letter, methods=["POST"]),
        Route("/api/rules", list_rules, methods=["GET"]),
        Route("/api/status", status, methods=["GET"]),
    ]
