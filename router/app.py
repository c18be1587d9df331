"""The receiver's Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from starlette.applications import Starlette
from starlette.routing import Route

from router import durability
from router.connection import async_client
from router.endpoints import health, receive_hook
from router.errors import ConfigError
from router.queue import ACCEPT_SCRIPT
from router.settings import Settings


def create_app(settings: Settings, redis_client: redis.asyncio.Redis | None = None) -> Starlette:
    """The receiver. Pass `redis_client` to share one (the embedded Redis of `dev`, tests)."""
    if redis_client is None and settings.redis_url is None:
        raise ConfigError("REDIS_URL is not set: the receiver needs Redis (or run `hookchain dev`)")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = redis_client or async_client(settings.redis_url or "", settings.redis_timeout)
        app.state.redis = client
        app.state.accept_script = client.register_script(ACCEPT_SCRIPT)
        if redis_client is None:  # the embedded Redis of `dev` keeps nothing on disk by design
            durability.warn(await durability.check_async(client))
        try:
            yield
        finally:
            if redis_client is None:
                await client.aclose()

    app = Starlette(
        routes=[
            Route("/hooks/{source}", receive_hook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
