"""The SSRF guard: an outgoing call may only dial a public address, or one allow-listed.

The check is on the addresses the host name resolves to, and the call then dials the checked
address itself (Host header and TLS server name keep the original name), so a DNS answer that
changes between check and connect cannot slip a private address in.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15")]


class TargetRefused(Exception):
    """The call's destination is not allowed; nothing was sent."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal(address: IPAddress) -> bool:
    """Loopback, private, link-local (cloud metadata), reserved, multicast or unspecified."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_internal(embedded)
    return (
        not address.is_global
        or address.is_multicast
        or any(address in net for net in _EXTRA_BLOCKED if net.version == address.version)
    )


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks = []
        for entry in entries:
            entry = entry.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        candidates = [address]
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
        return any(c in net for c in candidates for net in self.networks if net.version == c.version)


@dataclass(frozen=True)
class PinnedTarget:
    url: httpx.URL
    """The URL with its host replaced by the checked address."""
    host_header: str
    server_name: str


def check_target(url: str, allowed: AllowList, resolver: Resolver = system_resolver) -> PinnedTarget:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused(f"invalid URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise TargetRefused(f"URL scheme {parsed.scheme!r} is not allowed: use http or https")
    host = parsed.host
    if not host:
        raise TargetRefused(f"URL {url!r} has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = list(resolver(host, port))
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host!r}: {exc}") from None
    if not addresses:
        raise TargetRefused(f"{host!r} resolves to no address")
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if is_internal(address) and not allowed.allows(host, address):
            raise TargetRefused(
                f"{host} resolves to {address}, an internal address; allow-list it in "
                "HOOKCHAIN_ALLOWED_TARGETS if this call is meant to reach it"
            )
    chosen = addresses[0].split("%", 1)[0]
    default_port = parsed.port is None
    host_header = host if default_port else f"{host}:{parsed.port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if default_port else f"[{host}]:{parsed.port}"
    return PinnedTarget(url=parsed.copy_with(host=chosen), host_header=host_header, server_name=host)
