"""The outbound-request guard (SSRF): which addresses the server may call.

Used by everything that makes a request to a URL someone else chose: the agent's
OpenAI-compatible provider and the webhook dispatcher. A host is resolved and every
address it resolves to is checked; a private (RFC 1918, unique-local), shared
(100.64.0.0/10), link-local, multicast, reserved or unspecified address is refused
unless private addresses are allowed, and a loopback address is refused unless
loopback is allowed. IPv6 transition prefixes that tunnel to an arbitrary IPv4 host
(6to4 ``2002::/16``, Teredo ``2001::/32``) are refused; NAT64 (``64:ff9b::/96``) is
judged by the IPv4 address it embeds.

:func:`parse_url` reads a URL once, with the parser of the client that sends it
(httpx), and refuses what that client could not send or what hides a destination
(credentials in the URL, a non-canonical numeric host such as ``0110.0.0.1``);
everything stored and sent is the normalised text it returns.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Any

__all__ = [
    "DestinationRefused",
    "Resolver",
    "resolve_host",
    "is_restricted",
    "check_host",
    "literal_address",
    "parse_url",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class DestinationRefused(ValueError):
    """The host cannot be resolved, or resolves to an address the caller may not reach."""


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for ``host`` (sorted, deduplicated)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_restricted(ip: Address) -> bool:
    """True for a private, shared, link-local, loopback, multicast, reserved or unspecified address."""
    ip = _unmapped(ip)
    if isinstance(ip, ipaddress.IPv6Address) and (ip.sixtofour is not None or ip.teredo is not None):
        return True  # a tunnel to any IPv4 host, private ones included
    return bool(
        ip.is_private or ip.is_link_local or ip.is_loopback or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED)
    )


def literal_address(host: str) -> Address | None:
    """The address when ``host`` is an IP literal (``[::1]`` included), else None."""
    try:
        return _unmapped(ipaddress.ip_address(host.strip("[]").split("%")[0]))
    except ValueError:
        return None


def check_host(
    host: str,
    *,
    allow_private: bool = False,
    allow_loopback: bool = False,
    resolver: Resolver | None = None,
    what: str = "the host",
    loopback_hint: str = "",
) -> list[Address]:
    """Resolves ``host`` and returns its addresses, or raises :class:`DestinationRefused`.

    Args:
        host: a host name or IP literal.
        allow_private: allow every restricted address (loopback included).
        allow_loopback: allow 127.0.0.0/8 and ::1.
        resolver: host name → addresses (tests); the system resolver by default.
        what: how messages name the host (``"the provider host"``).
        loopback_hint: appended to the loopback refusal (what setting allows it).
    """
    literal = literal_address(host)
    if literal is not None:
        addrs: list[Address] = [literal]
    else:
        try:
            addrs = [_unmapped(ipaddress.ip_address(a.split("%")[0])) for a in (resolver or resolve_host)(host)]
        except (OSError, ValueError, UnicodeError) as exc:
            raise DestinationRefused(f"{what} {host!r} cannot be resolved ({exc})") from None
    if not addrs:
        raise DestinationRefused(f"{what} {host!r} resolves to no address")
    for ip in addrs:
        if ip.is_loopback:
            if allow_loopback or allow_private:
                continue
            hint = f"; {loopback_hint}" if loopback_hint else ""
            raise DestinationRefused(f"{what} {host!r} is a loopback address{hint}")
        if is_restricted(ip) and not allow_private:
            raise DestinationRefused(f"{what} {host!r} resolves to a private or reserved address ({ip}); refused")
    return addrs


def parse_url(url: str, *, what: str = "the URL") -> Any:
    """The URL as the sending client (httpx) reads it, or :class:`DestinationRefused`.

    Refused: what httpx cannot send (``InvalidURL``), a scheme other than http(s),
    credentials (``user:pass@``), a fragment, a port outside 1-65535, a host that is
    not a DNS name of letters, digits, ``-`` and ``_`` (after IDNA), and a numeric host
    that is not a canonical dotted quad (``0110.0.0.1``, ``0x7f.1``, ``2130706433``:
    resolvers read those as addresses other than they look). Returns an ``httpx.URL``;
    ``str()`` of it is the normalised text to store and send.
    """
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise DestinationRefused(f"{what} cannot be sent ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise DestinationRefused(f"{what} is not http(s)://host/…")
    if parsed.userinfo:
        raise DestinationRefused(f"{what} carries credentials (user:pass@); refused")
    if parsed.fragment:
        raise DestinationRefused(f"{what} has a fragment (#…); refused")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DestinationRefused(f"{what} has a port outside 1-65535")
    try:
        host = parsed.raw_host.decode("ascii").lower()
    except UnicodeDecodeError:
        raise DestinationRefused(f"{what} has a host that is not ASCII after IDNA") from None
    if not host:
        raise DestinationRefused(f"{what} has no host")
    if literal_address(host) is not None and ":" in host:
        return parsed  # an IPv6 literal, parsed by ipaddress
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise DestinationRefused(f"{what} has a host that is not a DNS name or an address")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise DestinationRefused(
                f"{what} has a numeric host that is not a canonical dotted-quad address ({host!r})"
            ) from None
    return parsed
