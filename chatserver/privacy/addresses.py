"""The client's address, found and turned into a keyed hash at once.

The raw address never leaves this module: callers only ever see `address_hash`."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from chatserver.config import Network


def normalise(address: str) -> str:
    """IPv4-mapped IPv6 to IPv4; other IPv6 to its /64 (one household or phone per /64)."""
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)


def hash_address(key: bytes, address: str) -> str:
    """HMAC-SHA-256 of the normalised address; hex. Irreversible without the key."""
    return hmac.new(key, normalise(address).encode(), hashlib.sha256).hexdigest()


def is_trusted(address: str, proxies: Iterable[Network]) -> bool:
    """Whether `address` is one of the configured trusted proxies."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The socket peer, or the right-most untrusted hop of X-Forwarded-For behind a trusted proxy."""
    address = peer or "unknown"
    if not proxies or not is_trusted(address, proxies) or not forwarded_for:
        return address
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, proxies):
            return hop
        address = hop
    return address


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def scope_address_hash(scope: Mapping[str, Any], key: bytes, proxies: tuple[Network, ...]) -> str:
    """The keyed hash of the client behind an ASGI scope (HTTP or WebSocket)."""
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded = _header(scope.get("headers") or (), b"x-forwarded-for")
    return hash_address(key, client_address(peer, forwarded, proxies))
