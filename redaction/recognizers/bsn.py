"""BSN (burgerservicenummer): nine digits passing the 11-check, in any common grouping.

A valid number alone is likely enough; "bsn" nearby makes it certain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found, before

_BSN = re.compile(
    r"(?<![\w.,+-])(?:\d{9}|\d{4}[ .-]\d{2}[ .-]\d{3}|\d{3}[ .-]\d{3}[ .-]\d{3}|\d{3}[ .-]\d{2}[ .-]\d{4}|\d{2}[ .-]\d{3}[ .-]\d{4})(?![\w-]|[.,]\d)"
)


def eleven_check(digits: str) -> bool:
    """The BSN 11-check: 9*d1 + 8*d2 + … + 2*d8 - d9 is a multiple of 11 (and not zero)."""
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0


class BsnRecognizer(DutchRecognizer):
    ENTITIES = ("BSN",)
    CONTEXT = ("bsn", "burgerservicenummer", "sofinummer", "sofi", "id-kaart", "paspoort")

    def find(self, text: str) -> Iterator[Found]:
        for m in _BSN.finditer(text):
            if eleven_check(re.sub(r"\D", "", m.group())):
                near = before(text, m.start(), 40)
                score = 0.9 if "bsn" in near or "burgerservice" in near else 0.6
                yield Found("BSN", m.start(), m.end(), score)
