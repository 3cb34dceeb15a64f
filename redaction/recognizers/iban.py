"""IBAN bank account numbers, validated with mod-97, in any spacing or case.

The match is shortened group by group until it validates, so trailing words are not swallowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found

_CANDIDATE = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![\w])")
# Known lengths; other countries are accepted between 15 and 34 characters.
_LENGTHS = {"NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "ES": 24, "IT": 27, "PL": 28,
            "TR": 26, "LU": 20, "AT": 20, "CH": 21, "PT": 25, "IE": 22, "DK": 18, "SE": 24}


def mod97(iban: str) -> bool:
    """The ISO 13616 check on a compact IBAN."""
    iban = iban.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", iban):
        return False
    expected = _LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


class IbanRecognizer(DutchRecognizer):
    ENTITIES = ("IBAN",)
    CONTEXT = ("iban", "rekening", "rekeningnummer", "bankrekening", "overmaken", "tikkie")

    def find(self, text: str) -> Iterator[Found]:
        for m in _CANDIDATE.finditer(text):
            raw = m.group()
            # Try the longest prefix first, cutting at the ends of characters.
            for cut in range(len(raw), 14, -1):
                if raw[cut - 1] == " ":
                    continue
                if cut < len(raw) and raw[cut].isalnum() and raw[cut - 1].isalnum():
                    continue  # only cut where a space separates groups
                if mod97(raw[:cut].replace(" ", "")):
                    yield Found("IBAN", m.start(), m.start() + cut, 0.95)
                    break
