"""The receiver's Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from router import admin, durability
from router.connection import async_client
from router.endpoints import health, http_error, receive_hook, server_error
from router.errors import ConfigError
from router.metrics import metrics_endpoint
from router.operations import RETRY_SCRIPT
from router.queue import ACCEPT_SCRIPT
from router.settings import Settings
from router.sources import build_sources

UI_DIR = Path(__file__).parent / "ui"
DASHBOARD_HEADERS = {
    # The dashboard shows data from the internet: only its own files may run, nothing is framed.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class DashboardFiles(StaticFiles):
    """The dashboard's static files, with headers that keep it to its own code."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(DASHBOARD_HEADERS)
        return response


def create_app(settings: Settings, redis_client: redis.asyncio.Redis | None = None) -> Starlette:
    """The receiver. Pass `redis_client` to share one (the embedded Redis of `dev`, tests)."""
    if redis_client is None and settings.redis_url is None:
        raise ConfigError("REDIS_URL is not set: the receiver needs Redis (or run `hookchain dev`)")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = redis_client or async_client(settings.redis_url or "", settings.redis_timeout)
        app.state.redis = client
        app.state.accept_script = client.register_script(ACCEPT_SCRIPT)
        app.state.retry_script = client.register_script(RETRY_SCRIPT)
        if redis_client is None:  # the embedded Redis of `dev` keeps nothing on disk by design
            durability.warn(await durability.check_async(client))
        try:
            yield
        finally:
            if redis_client is None:
                await client.aclose()

    app = Starlette(
        exception_handlers={HTTPException: http_error, Exception: server_error},
        routes=[
            Route("/hooks/{source}", receive_hook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *admin.routes(),
            Route("/ui", to_dashboard, methods=["GET"]),
            Mount("/ui", app=DashboardFiles(directory=UI_DIR, html=True), name="ui"),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sources = build_sources(settings)
    return app


async def to_dashboard(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)
