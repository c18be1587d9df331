"""`hookchain dev`: the receiver and a worker in one process, on an embedded Redis by default."""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agents.http import mount_mcp
from hookchain.admin_client import DEV_ADMIN_TOKEN
from router.app import create_app
from router.connection import EmbeddedRedis, async_client, redacted, sync_client
from router.settings import Settings
from workers import runtime
from workers.rules import RuleSet
from workers.worker import run_worker

log = logging.getLogger("hookchain.dev")

DEV_SECRET = "dev-secret"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


async def inbox(request: Request) -> Response:
    """A stand-in API for the tutorial: prints every call it gets and answers 200 with what it got."""
    body = await request.body()
    try:
        parsed: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = body.decode("utf-8", "replace")
    name = request.path_params["name"]
    log.info("→ call arrived at /dev/inbox/%s: %s %s", name, request.method, orjson.dumps(parsed).decode())
    answer = {"received": parsed, "inbox": name, "id": f"{name}-{abs(hash(body)) % 100000}"}
    return Response(orjson.dumps(answer), media_type="application/json")


def dev_settings(settings: Settings) -> Settings:
    """Local conveniences: a known GitHub secret and loopback targets, unless set otherwise."""
    changes: dict[str, Any] = {}
    if settings.secret_for("github") is None:
        changes["provider_secrets"] = {**settings.provider_secrets, "github": DEV_SECRET}
    if settings.admin_token is None:
        changes["admin_token"] = DEV_ADMIN_TOKEN
    if not settings.allowed_targets:
        changes["allowed_targets"] = LOOPBACK
    return Settings.model_validate({**settings.model_dump(), **changes}) if changes else settings


def serve(settings: Settings, rules: RuleSet, host: str, port: int) -> None:
    settings = dev_settings(settings)
    if settings.redis_url is None:
        embedded = EmbeddedRedis()
        worker_redis, receiver_redis = embedded.sync_client(), embedded.async_client()
        where = "embedded Redis (in memory: events are gone when dev stops)"
    else:
        worker_redis = sync_client(settings.redis_url)
        receiver_redis = async_client(settings.redis_url, settings.redis_timeout)
        where = f"Redis at {redacted(settings.redis_url)}"
    context = runtime.WorkerContext.build(settings, redis=worker_redis, rules=rules)
    context.watch_rules()
    runtime.install(context)
    app = create_app(settings, redis_client=receiver_redis)
    mount_mcp(app, settings)
    app.router.routes.append(Route("/dev/inbox/{name}", inbox, methods=["GET", "POST", "PUT", "PATCH"]))

    threading.Thread(target=run_worker, args=(worker_redis,), name="hookchain-worker", daemon=True).start()
    print(f"hookchain dev: listening on http://{host}:{port}  ({where})")
    for source in settings.all_sources():
        print(f"  webhooks:  POST http://{host}:{port}/hooks/{source.name}  ({source.provider})")
    if settings.provider_secrets["github"].get_secret_value() == DEV_SECRET:
        print(f"  secret:    HOOKCHAIN_GITHUB_SECRET is unset, dev uses {DEV_SECRET!r}")
    print(f"  rules:     {len(rules)} from {settings.rules_dir}/")
    print(f"  dashboard: http://{host}:{port}/ui/   (hookchain events / trace / status in a terminal)")
    if settings.admin_token is not None and settings.admin_token.get_secret_value() == DEV_ADMIN_TOKEN:
        print(f"  admin:     HOOKCHAIN_ADMIN_TOKEN is unset, dev uses {DEV_ADMIN_TOKEN!r}")
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    shown = f"Bearer {DEV_ADMIN_TOKEN}" if token == DEV_ADMIN_TOKEN else "Bearer $HOOKCHAIN_ADMIN_TOKEN"
    print(f"  mcp:       http://{host}:{port}/mcp  (Authorization: {shown})")
    print(f"  inbox:     http://{host}:{port}/dev/inbox/<name> prints the calls it gets")
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
