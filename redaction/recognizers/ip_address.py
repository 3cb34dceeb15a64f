"""IP addresses, IPv4 and IPv6, validated by the standard library.

Version numbers with fewer than four parts never match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])")


class IpAddressRecognizer(DutchRecognizer):
    ENTITIES = ("IP_ADDRESS",)
    CONTEXT = ("ip", "ip-adres", "adres", "router", "ddos")

    def find(self, text: str) -> Iterator[Found]:
        for m in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            yield Found("IP_ADDRESS", m.start(), m.end(), 0.8)
        for m in _IPV6.finditer(text):
            candidate = m.group()
            if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            yield Found("IP_ADDRESS", m.start(), m.end(), 0.8)
