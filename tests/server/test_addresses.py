"""The address rule: the socket peer, or the right-most untrusted X-Forwarded-For hop."""

from __future__ import annotations

import ipaddress

import pytest

from chatserver.privacy.addresses import client_address, hash_address, normalise

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "xff", "proxies", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),
        ("203.0.113.5", "1.2.3.4", (), "203.0.113.5"),  # no trusted proxies: XFF ignored
        ("203.0.113.5", "1.2.3.4", PROXIES, "203.0.113.5"),  # peer untrusted: XFF ignored
        ("10.0.0.2", "1.2.3.4", PROXIES, "1.2.3.4"),
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", PROXIES, "1.2.3.4"),  # spoofed left hop ignored
        ("10.0.0.2", "1.2.3.4, 10.0.0.7", PROXIES, "1.2.3.4"),  # chain of trusted proxies
        ("10.0.0.2", "10.0.0.8, 10.0.0.7", PROXIES, "10.0.0.8"),  # all trusted: left-most
        ("10.0.0.2", "", PROXIES, "10.0.0.2"),
        ("::ffff:10.0.0.2", "1.2.3.4", PROXIES, "1.2.3.4"),
    ],
)
def test_client_address(peer: str, xff: str | None, proxies: tuple, expected: str) -> None:
    assert client_address(peer, xff, proxies) == expected


def test_normalisation() -> None:
    assert normalise("::ffff:192.0.2.1") == "192.0.2.1"
    assert normalise("2001:db8:1:2:aaaa::1") == normalise("2001:db8:1:2:bbbb::9")
    assert normalise("2001:db8:1:2::1") != normalise("2001:db8:1:3::1")
    assert normalise("onzin") == "invalid"


def test_hash_is_keyed_and_stable() -> None:
    a = hash_address(b"k" * 32, "192.0.2.1")
    assert a == hash_address(b"k" * 32, "192.0.2.1")
    assert a != hash_address(b"l" * 32, "192.0.2.1")
    assert len(a) == 64 and "192" not in a
