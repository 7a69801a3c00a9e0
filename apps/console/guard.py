"""SSRF guard for requests the console sends on a user's behalf.

Only the credential's platform host is reachable. The name is resolved once; every address
it resolves to must be globally routable (no private, loopback, link-local, CGNAT, multicast,
reserved or unspecified address, also when wrapped as IPv4-mapped, 6to4, Teredo or NAT64);
the connection then goes to that validated address, so a second, different DNS answer cannot
redirect it. Hosts in CONSOLE_INTERNAL_TARGETS (the sandbox) are the explicit exception.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Refused(Exception):
    """The target is not allowed; nothing was sent."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    ip: str


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public(ip.sixtofour)
        if ip.teredo is not None:
            return all(is_public(inner) for inner in ip.teredo)
        if any(ip in net for net in NAT64):
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def internal_targets() -> set[tuple[str, int]]:
    """(host, port) pairs allowed although not public: the sandbox of this Zhongkong."""
    targets = set()
    for entry in getattr(settings, "CONSOLE_INTERNAL_TARGETS", []):
        host, _, port = entry.rpartition(":")
        targets.add((host.strip("[]").lower(), int(port)))
    return targets


def check(url: str, *, allowed_hosts: set[str]) -> Target:
    """Validate `url` and resolve it once; raise Refused before any connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(f"scheme {parts.scheme!r} is not allowed")
    if parts.username or parts.password:
        raise Refused("user info in the URL is not allowed")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("invalid port") from None
    if not host or host not in {h.lower() for h in allowed_hosts}:
        raise Refused(f"{host or 'this address'} is not the credential's platform host")
    internal = (host, port) in internal_targets()
    if parts.scheme == "http" and not internal:
        raise Refused("platforms are reached over https")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not internal and not is_public(address):
            raise Refused(f"{host} resolves to a non-public address ({address})")
        addresses.append(str(address))
    if not addresses:
        raise Refused(f"{host} does not resolve")
    return Target(parts.scheme, host, port, addresses[0])
