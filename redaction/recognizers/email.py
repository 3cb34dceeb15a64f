"""E-mail addresses, school and work addresses included, also written to dodge filters.

"naam@x.nl", "naam[at]gmail.com", "naam (at) hotmail dot com"; the top-level domain is letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")
_AT = r"(?:\s*[\[({<]\s*(?:at|a|apenstaartje)\s*[\])}>]\s*|\s+(?:at|apenstaartje)\s+|\s+@\s+)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|punt)\s*[\])}>]\s*|\s+(?:dot|punt)\s+|\s?\.\s?)"
# Written out, the domain must end in a common top-level domain, so "kijk at home" is no address.
_TLD = r"(?:com|nl|be|net|org|de|eu|info|me|io|fr|uk|co)"
_OBFUSCATED = re.compile(
    rf"(?i)(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}{_TLD}(?![\w-])")


class EmailRecognizer(DutchRecognizer):
    ENTITIES = ("EMAIL_ADDRESS",)
    CONTEXT = ("mail", "email", "e-mail", "mailadres")

    def find(self, text: str) -> Iterator[Found]:
        for m in _EMAIL.finditer(text):
            yield Found("EMAIL_ADDRESS", m.start(), m.end(), 0.95)
        for m in _OBFUSCATED.finditer(text):
            yield Found("EMAIL_ADDRESS", m.start(), m.end(), 0.85)
