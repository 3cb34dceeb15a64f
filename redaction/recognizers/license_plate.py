"""Dutch licence plates in all sidecodes (1–14), hyphenated or, with context, without.

Lower case is accepted: chatters type "tx-492-k".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found, before

L, D = "[A-Za-z]", r"\d"
_SIDECODES = [
    (L * 2, D * 2, D * 2), (D * 2, D * 2, L * 2), (D * 2, L * 2, D * 2), (L * 2, D * 2, L * 2),
    (L * 2, L * 2, D * 2), (D * 2, L * 2, L * 2), (D * 2, L * 3, D), (D, L * 3, D * 2),
    (L * 2, D * 3, L), (L, D * 3, L * 2), (L * 3, D * 2, L), (L, D * 2, L * 3),
    (D, L * 2, D * 3), (D * 3, L * 2, D),
]
_HYPHENATED = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"{a}-{b}-{c}" for a, b, c in _SIDECODES) + r")(?![\w-])"
)
_COMPACT = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"{a}[ ]?{b}[ ]?{c}" for a, b, c in _SIDECODES) + r")(?![\w-])"
)
_CONTEXT_WORDS = ("kenteken", "nummerbord", "nummerplaat", "auto", "scooter", "busje", "bus ")


class LicensePlateRecognizer(DutchRecognizer):
    ENTITIES = ("LICENSE_PLATE",)
    CONTEXT = ("kenteken", "nummerbord", "auto", "scooter", "bus", "busje", "wagen")

    def find(self, text: str) -> Iterator[Found]:
        seen: set[int] = set()
        for m in _HYPHENATED.finditer(text):
            if any(c.isalpha() for c in m.group()) and any(c.isdigit() for c in m.group()):
                seen.add(m.start())
                yield Found("LICENSE_PLATE", m.start(), m.end(), 0.7)
        for m in _COMPACT.finditer(text):
            if m.start() in seen:
                continue
            near = before(text, m.start(), 40)
            if any(w in near for w in _CONTEXT_WORDS):
                yield Found("LICENSE_PLATE", m.start(), m.end(), 0.7)
