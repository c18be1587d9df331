"""Redis clients for the receiver and the workers: the real server, or the embedded one for dev."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio


class EmbeddedRedis:
    """An in-process Redis (fakeredis) shared by the receiver and the worker of `hookchain dev`."""

    def __init__(self) -> None:
        import fakeredis

        self.server = fakeredis.FakeServer()

    def sync_client(self) -> redis.Redis:
        import fakeredis

        return fakeredis.FakeRedis(server=self.server)

    def async_client(self) -> redis.asyncio.Redis:
        import fakeredis

        return fakeredis.FakeAsyncRedis(server=self.server)


def async_client(url: str, timeout: float) -> redis.asyncio.Redis:
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return redis.asyncio.Redis.from_url(url, **options)


def sync_client(url: str, timeout: float | None = None) -> redis.Redis:
    options: dict[str, Any] = {"socket_connect_timeout": timeout or 5.0, "health_check_interval": 30}
    return redis.Redis.from_url(url, **options)


def redacted(url: str) -> str:
    """The URL without its credentials, for logs and banners."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else url.rsplit("@", 1)[-1]
