"""Dates of birth: full dates (numeric or with a Dutch month), or day and month of a birthday.

A full date with a plausible birth year counts; a day and month only next to birthday words.
Forms: 7-4-2010, 2009.06.15, 7 april, 7e van april, 19th of april 2010, april 19 2010.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from redaction.recognizers.base import DutchRecognizer, Found, before

_MONTHS = (r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november"
           r"|december|jan|feb|febr|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec|january|february"
           r"|march|may|june|july|october)\.?")
_YEAR = r"(?:19|20)\d{2}|'\d{2}"
_NUMERIC = re.compile(
    r"(?<![\w./-])(?:(\d{1,2})[-/.](\d{1,2})[-/.]((?:19|20)\d{2}|\d{2})"
    r"|((?:19|20)\d{2})([-/.])(\d{1,2})\5(\d{1,2}))(?![\w/-]|\.\d)"
)
_ORDINAL = r"(?:e|ste|de|st|nd|rd|th)"
# Day and month in digits without a year ("12/09"): only next to birthday words.
_DAY_MONTH_DIGITS = re.compile(r"(?<![\w./-])(\d{1,2})[-/.](\d{1,2})(?![\w/-]|[.-]\d)")
_WRITTEN = re.compile(
    rf"(?i)(?<!\w)(\d{{1,2}}){_ORDINAL}?\s+(?:van\s+|of\s+)?{_MONTHS}(?:,?\s+({_YEAR}))?(?![\w])")
_MONTH_FIRST = re.compile(
    rf"(?i)(?<!\w){_MONTHS}\s+(\d{{1,2}}){_ORDINAL}?(?:,?\s+({_YEAR}))?(?![\w])")
# Birthday words, and "ik word 13 op …", "she turns 14 on …": a day and month then is a birthday.
_BIRTH_WORDS = re.compile(
    r"(?i)\b(?:geboren|geb\.|geboortedatum|geboortedag|jarig|verjaardag|verjaar\w*|bday|b-day"
    r"|birthday|born|dob|d\.o\.b|geboorte\w*|word\s+ik|wordt\s+(?:ze|hij|die)"
    r"|(?:word|wordt|worden|turn|turns|turning)\s+\d{1,2}(?:\s+jaar)?\s+(?:op|on))\b")


def _plausible(day: int, month: int, year: int) -> bool:
    try:
        when = date(year, month, day)
    except ValueError:
        return False
    return 1930 <= when.year <= date.today().year


class DateOfBirthRecognizer(DutchRecognizer):
    ENTITIES = ("DATE_OF_BIRTH",)
    CONTEXT = ("geboren", "geboortedatum", "jarig", "verjaardag", "birthday", "bday")

    def find(self, text: str) -> Iterator[Found]:
        for m in _NUMERIC.finditer(text):
            if m.group(1):
                day, month, year_s = int(m.group(1)), int(m.group(2)), m.group(3)
                year = int(year_s) if len(year_s) == 4 else 2000 + int(year_s)
                if year > date.today().year:
                    year -= 100
            else:
                year, month, day = int(m.group(4)), int(m.group(6)), int(m.group(7))
            if _plausible(day, month, year):
                yield Found("DATE_OF_BIRTH", m.start(), m.end(), self._score(text, m, year))
        for m in _WRITTEN.finditer(text):
            if not 1 <= int(m.group(1)) <= 31:
                continue
            birthday = self._near_birth_words(text, m)
            if m.group(2):
                year_s = m.group(2).lstrip("'")
                year = int(year_s) if len(year_s) == 4 else 2000 + int(year_s)
                if year > date.today().year:
                    year -= 100
                yield Found("DATE_OF_BIRTH", m.start(), m.end(), self._score(text, m, year))
            elif birthday:
                yield Found("DATE_OF_BIRTH", m.start(), m.end(), 0.8)
        for m in _DAY_MONTH_DIGITS.finditer(text):
            day, month = int(m.group(1)), int(m.group(2))
            if 1 <= day <= 31 and 1 <= month <= 12 and self._near_birth_words(text, m):
                yield Found("DATE_OF_BIRTH", m.start(), m.end(), 0.75)
        for m in _MONTH_FIRST.finditer(text):  # "april 19th 2010", "born march 3"
            if not 1 <= int(m.group(1)) <= 31:
                continue
            if m.group(2) or self._near_birth_words(text, m):
                yield Found("DATE_OF_BIRTH", m.start(), m.end(), 0.8)

    def _score(self, text: str, m: re.Match[str], year: int) -> float:
        if self._near_birth_words(text, m):
            return 0.9
        # A date years back is almost always a birth date in this chat; a recent one is an event.
        return 0.6 if year <= date.today().year - 6 else 0.3

    @staticmethod
    def _near_birth_words(text: str, m: re.Match[str]) -> bool:
        around = before(text, m.start(), 45) + " " + text[m.end():m.end() + 30].lower()
        return bool(_BIRTH_WORDS.search(around))
