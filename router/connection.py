"""Redis clients for the receiver and the workers: the real server, or the embedded one for dev."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

from router.errors import ConfigError

SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
"""`redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`; rediss+ for TLS.
The credentials are Redis's; the sentinels themselves are asked without a password."""
SENTINEL_PORT = 26379


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


@dataclass(frozen=True)
class SentinelTarget:
    """Where a Sentinel-managed Redis is: the sentinels to ask, the service (master) name, the db."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"db": self.db}
        if self.username:
            options["username"] = self.username
        if self.password:
            options["password"] = self.password
        if self.ssl:
            options["ssl"] = True
        return options


def sentinel_target(url: str) -> SentinelTarget | None:
    """The Sentinel settings in a `redis+sentinel://` URL; None for any other URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SENTINEL_SCHEMES:
        return None
    credentials, _, location = rest.rpartition("@")
    hosts, _, path = location.partition("/")
    parts = [part for part in path.split("/") if part]
    example = "redis+sentinel://host1:26379,host2:26379/mymaster[/db]"
    if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise ConfigError(f"Sentinel URL needs the service name (and may give a db number): {example}")
    sentinels = tuple(_host_port(host, example) for host in hosts.split(",") if host)
    if not sentinels:
        raise ConfigError(f"Sentinel URL names no sentinel: {example}")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    return SentinelTarget(
        sentinels=sentinels,
        service=unquote(parts[0]),
        db=int(parts[1]) if len(parts) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=SENTINEL_SCHEMES[scheme],
    )


def _host_port(text: str, example: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":") if "]" not in text.rpartition(":")[2] else ("", "", "")
    if not colon:
        host, port = text, str(SENTINEL_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ConfigError(f"bad sentinel address {text!r}: {example}")
    return host, int(port)


def async_client(url: str, timeout: float) -> redis.asyncio.Redis:
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    target = sentinel_target(url)
    if target is not None:
        sentinel = redis.asyncio.sentinel.Sentinel(list(target.sentinels), sentinel_kwargs=options, **options)
        return sentinel.master_for(target.service, **target.client_options())
    return redis.asyncio.Redis.from_url(url, **options)


def sync_client(url: str, timeout: float | None = None) -> redis.Redis:
    options: dict[str, Any] = {"socket_connect_timeout": timeout or 5.0, "health_check_interval": 30}
    target = sentinel_target(url)
    if target is not None:
        sentinel = redis.sentinel.Sentinel(
            list(target.sentinels),
            sentinel_kwargs={"socket_connect_timeout": timeout or 5.0, "socket_timeout": timeout or 5.0},
            **options,
        )
        return sentinel.master_for(target.service, **target.client_options())
    return redis.Redis.from_url(url, **options)


def redacted(url: str) -> str:
    """The URL without its credentials, for logs and banners."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else url.rsplit("@", 1)[-1]
