"""E-mail addresses, school and work addresses included.

A plain pattern; the top-level domain must be letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")


class EmailRecognizer(DutchRecognizer):
    ENTITIES = ("EMAIL_ADDRESS",)
    CONTEXT = ("mail", "email", "e-mail", "mailadres")

    def find(self, text: str) -> Iterator[Found]:
        for m in _EMAIL.finditer(text):
            yield Found("EMAIL_ADDRESS", m.start(), m.end(), 0.95)
