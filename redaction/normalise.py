"""Normalisation before matching: text typed in capitals is read as lower case.

The normalised text has the same length as the original, so every offset found stays valid.
"""

from __future__ import annotations

# A message counts as shouted when it has this many letters and this share of them in capitals.
SHOUT_LETTERS = 6
SHOUT_SHARE = 0.7


def shouted(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < SHOUT_LETTERS:
        return False
    return sum(c.isupper() for c in letters) >= SHOUT_SHARE * len(letters)


def for_matching(text: str) -> str:
    """`text`, lower-cased when it is shouted (ALL CAPS), with the same length and offsets."""
    if not shouted(text):
        return text
    return "".join(low if len(low := c.lower()) == 1 else c for c in text)
