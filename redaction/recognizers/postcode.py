"""Dutch postcodes: four digits (not starting with 0) and two letters, any spacing or case.

Lower-case letters after a space are only taken when they are no Dutch word ("2012 en ik").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found, before

_POSTCODE = re.compile(r"(?<![\w.,-])([1-9]\d{3})(\s?)((?!SA|SD|SS)[A-Za-z]{2})(?![\w-])")

# Two-letter Dutch and English words that follow a number often; never postcode letters.
_TWO_LETTER_WORDS = frozenset(["aa", "al", "am", "an", "as", "at", "be", "bv", "by", "da", "de", "do", "dr", "en", "er", "ex", "ge", "go", "ha", "he", "hi", "ho", "id", "ie", "if", "ik", "in", "is", "it", "je", "jl", "ja", "ka", "ma", "me", "mn", "mr", "na", "ne", "no", "nu", "of", "oh", "ok", "om", "on", "op", "or", "os", "pm", "so", "te", "to", "tm", "uk", "up", "us", "vs", "we", "wc", "xl", "xs", "ze", "zo"])


class PostcodeRecognizer(DutchRecognizer):
    ENTITIES = ("POSTCODE",)
    CONTEXT = ("postcode", "adres", "woon", "wonen", "woont")

    def find(self, text: str) -> Iterator[Found]:
        for m in _POSTCODE.finditer(text):
            letters, space = m.group(3), m.group(2)
            context = "postcode" in before(text, m.start(), 30)
            if letters.isupper() or (not space and letters.islower()) or context:
                yield Found("POSTCODE", m.start(), m.end(), 0.7)
            elif letters.lower() not in _TWO_LETTER_WORDS:
                yield Found("POSTCODE", m.start(), m.end(), 0.5)
