"""Where webhooks may point: public addresses only, unless an operator allows more.

A webhook URL is a request the server makes on an admin's behalf; pointed at
127.0.0.1, 169.254.169.254 or 10.x it reaches what only the server can reach
(a database's HTTP port, a cloud metadata service). The host is resolved at
registration and again at every delivery (DNS can change), every address it
resolves to must be public, and the delivery connects to the address that was
checked, so the name cannot be re-pointed between the check and the connect.
`MASTHEAD_WEBHOOK_ALLOW_PRIVATE` lists host names, addresses or networks
(CIDR) that may be private anyway (a receiver on the same host or VPC).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_SECONDS = 5.0


class TargetRefused(Exception):
    """The URL's host is not a public address and is not allowed."""


@dataclass(frozen=True)
class Target:
    url: str  # the URL with the checked address in place of the host name
    host_header: str  # what Host says: the URL's own host[:port]
    hostname: str  # for TLS: the certificate is checked against the name, not the address


def _embedded(ip: Address) -> list[Address]:
    """The address and any IPv4 address it carries (IPv4-mapped, 6to4, Teredo)."""
    found: list[Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if inner is not None:
                found.append(inner)
    return found


def is_public(ip: Address) -> bool:
    """Neither loopback, link-local, private, shared, reserved, unspecified nor multicast."""
    return all(a.is_global and not a.is_multicast for a in _embedded(ip))


def _allowed(host: str, ip: Address, allow: tuple[str, ...]) -> bool:
    for entry in allow:
        entry = entry.strip().lower()
        if entry == host:
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if any(a.version == network.version and a in network for a in _embedded(ip)):
            return True
    return False


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    except (OSError, TimeoutError):
        raise TargetRefused(f"The host {host!r} does not resolve.") from None
    # Scope ids (fe80::1%eth0) are dropped: a link-local address is refused anyway.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


async def check(url: str, allow: tuple[str, ...] = ()) -> Target:
    """The URL pinned to one checked address, or TargetRefused."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number from 0 to 65535.") from None
    if not host:
        raise TargetRefused("The URL has no host.")
    addresses = await _resolve(host, port)
    if not addresses:
        raise TargetRefused(f"The host {host!r} does not resolve.")
    for ip in addresses:
        if not is_public(ip) and not _allowed(host, ip, allow):
            raise TargetRefused(
                f"{host} is a private, loopback or link-local address ({ip}); "
                "list it in MASTHEAD_WEBHOOK_ALLOW_PRIVATE to allow it."
            )
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]
    return Target(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host_header, host)
