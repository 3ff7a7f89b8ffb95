"""The outbound-request guard (SSRF): which addresses the server may call.

Used by everything that makes a request to a URL someone else chose: the agent's
OpenAI-compatible provider and the webhook dispatcher. A host is resolved and every
address it resolves to is checked; a private (RFC 1918, unique-local), shared
(100.64.0.0/10), link-local, multicast, reserved or unspecified address is refused
unless private addresses are allowed, and a loopback address is refused unless
loopback is allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

__all__ = ["DestinationRefused", "Resolver", "resolve_host", "is_restricted", "check_host", "literal_address"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

_SHARED = ipaddress.ip_network("100.64.0.0/10")


class DestinationRefused(ValueError):
    """The host cannot be resolved, or resolves to an address the caller may not reach."""


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for ``host`` (sorted, deduplicated)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_restricted(ip: Address) -> bool:
    """True for a private, shared, link-local, loopback, multicast, reserved or unspecified address."""
    ip = _unmapped(ip)
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
