"""The MCP server on the web app: streamable HTTP at `/mcp`, behind the admin token.

`router` never imports this (it imports `workers`); the commands that build the web app
(`hookchain web`, `hookchain dev`) add it. The transport is stateless, so any receiver process
of `hookchain web --processes N` can answer any request.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import redis.asyncio
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from agents.server import build_server
from router.settings import Settings

MCP_PATH = "/mcp"


class AdminOnly:
    """An ASGI app that lets a request through only with `Authorization: Bearer <admin token>`."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None:
            return await _refuse(
                send, 404, "/mcp is off: set HOOKCHAIN_ADMIN_TOKEN on the server to turn it on"
            )
        given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip(), self.token):
            return await _refuse(send, 401, "send Authorization: Bearer <HOOKCHAIN_ADMIN_TOKEN>")
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = orjson.dumps({"error": reason})
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="hookchain"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def mount_mcp(app: Starlette, settings: Settings) -> None:
    """Serve the MCP server at /mcp of `app`, sharing its Redis client; run its sessions in app's lifespan."""

    def redis_client() -> redis.asyncio.Redis:
        client: redis.asyncio.Redis = app.state.redis
        return client

    server = build_server(settings, redis_client)
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        # The bearer token is the protection: a page in a browser cannot send it.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    token = settings.admin_token.get_secret_value() if settings.admin_token is not None else None

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        await manager.handle_request(scope, receive, send)

    app.router.routes.append(
        Route(MCP_PATH, endpoint=AdminOnly(handle, token), methods=["GET", "POST", "DELETE"])
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state, manager.run():
            yield state

    app.router.lifespan_context = lifespan
