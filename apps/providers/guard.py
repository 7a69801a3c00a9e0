"""SSRF guard for every request that carries a secret or a token to a platform (console
sends, token fetches, "test connection").

Only the credential's platform host is reachable. The name is resolved once; every address
it resolves to must be globally routable (no private, loopback, link-local, CGNAT, multicast,
reserved or unspecified address, also when wrapped as IPv4-mapped, 6to4, Teredo or NAT64);
the connection then goes to that validated address, so a second, different DNS answer cannot
redirect it. The caller names the internal targets allowed although not public
(`host:port`, or `host:*` for any port of that host; the sandbox), from its settings.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

# What is globally reachable follows the IANA special-purpose address registries
# (iana-ipv4-special-registry, iana-ipv6-special-registry, "Globally Reachable" column).
# Python's `is_global` reads the same registries but lags on some releases (3.11.7 takes
# 192.0.0.8, fec0::1 and 3fff::1 for global): these tables say it outright.
NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private use
        "100.64.0.0/10",  # shared address space (CGNAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local
        "172.16.0.0/12",  # private use
        "192.0.0.0/24",  # IETF protocol assignments (but for the two exceptions below)
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private use
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "240.0.0.0/4",  # reserved
        "255.255.255.255/32",  # limited broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped (judged by its IPv4 address)
        "64:ff9b:1::/48",  # IPv4-IPv6 translation, local use
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy IPv6 prefix
        "2001::/23",  # IETF protocol assignments (but for the exceptions below)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing (SRv6) SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link local
        "fec0::/10",  # site local (deprecated, RFC 3879)
    )
)
GLOBAL_EXCEPTIONS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.9/32",  # port control protocol anycast
        "192.0.0.10/32",  # traversal using relays around NAT anycast
        "2001:1::1/128",  # port control protocol anycast
        "2001:1::2/128",  # TURN anycast
        "2001:1::3/128",  # DNS-SD service registration protocol anycast
        "2001:3::/32",  # AMT
        "2001:4:112::/48",  # AS112-v6
        "2001:20::/28",  # ORCHIDv2
        "2001:30::/28",  # drone remote ID protocol entity tags
    )
)


def globally_reachable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The registries' word for one address (no unwrapping of embedded IPv4)."""
    if any(ip in net for net in GLOBAL_EXCEPTIONS if net.version == ip.version):
        return True
    if any(ip in net for net in NOT_GLOBAL if net.version == ip.version):
        return False
    return ip.is_global


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
    return globally_reachable(ip) and not ip.is_multicast and not ip.is_reserved


def parse_targets(entries: Iterable[str]) -> set[tuple[str, int | None]]:
    """(host, port) pairs from `host:port` entries; port None for `host:*`."""
    targets: set[tuple[str, int | None]] = set()
    for entry in entries:
        host, _, port = entry.strip().rpartition(":")
        if host:
            targets.add((host.strip("[]").lower(), None if port == "*" else int(port)))
    return targets


def check(url: str, *, allowed_hosts: set[str], internal: Iterable[str] = ()) -> Target:
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
    targets = parse_targets(internal)
    internal = (host, port) in targets or (host, None) in targets
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


def validate_base_url(url: str, *, internal: Iterable[str] = ()) -> None:
    """A credential's base URL, checked when it is saved: https to a public address, or one
    of the named internal targets (then http may be used). Names are resolved at every send
    (`check`); here a literal address or a loopback name is refused at once."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("give an http(s) URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise Refused("a base URL has no query, fragment or user info")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("invalid port") from None
    targets = parse_targets(internal)
    if (host, port) in targets or (host, None) in targets:
        return
    if parts.scheme != "https":
        raise Refused("platforms are reached over https")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise Refused(f"{host} is not a public host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not is_public(literal):
        raise Refused(f"{host} is not a public address")
