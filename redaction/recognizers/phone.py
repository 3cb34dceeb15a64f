"""Phone numbers: Dutch mobile and landline (0…, +31, 0031) and foreign, in any spacing.

Help lines and 0800/0900 service numbers are public and left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.public_help import is_public_number

_SEP = r"(?:[ ]?[.\-/][ ]?|[ \t])?"
_NATIONAL = re.compile(rf"(?<![\w+/.,-])(?:\(0\d{{1,3}}\)|0)(?:{_SEP}\d){{8,9}}(?![\w-])")
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])(?:\+|00)[1-9]\d{{0,2}}{_SEP}(?:\(0\){_SEP})?\d(?:{_SEP}\d){{5,13}}(?![\w-])"
)


def national_digits(raw: str) -> str:
    """The number in national Dutch form (0…) when it is Dutch, else its bare digits."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+31") or digits.startswith("0031"):
        rest = digits[2:] if raw.strip().startswith("+") else digits[4:]
        return "0" + rest.removeprefix("0")
    return digits


class PhoneRecognizer(DutchRecognizer):
    ENTITIES = ("PHONE_NUMBER",)
    CONTEXT = ("nummer", "telefoonnummer", "tel", "bel", "bellen", "app", "appen", "whatsapp",
               "sms", "mobiel", "06")

    def find(self, text: str) -> Iterator[Found]:
        for m in _INTERNATIONAL.finditer(text):
            found = self._international(m.group(), m.start(), m.end())
            if found:
                yield found
        for m in _NATIONAL.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if len(digits) == 10 and not is_public_number(digits):
                yield Found("PHONE_NUMBER", m.start(), m.end(), 0.75)

    @staticmethod
    def _international(raw: str, start: int, end: int) -> Found | None:
        national = national_digits(raw)
        if national.startswith("0") and len(national) == 10:
            if is_public_number(national):
                return None
            return Found("PHONE_NUMBER", start, end, 0.8)
        try:
            parsed = phonenumbers.parse("+" + re.sub(r"\D", "", raw).removeprefix("00"))
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_possible_number(parsed):
            return Found("PHONE_NUMBER", start, end, 0.7)
        return None
