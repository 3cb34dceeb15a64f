"""Streets and house numbers: Dutch street-name endings (-straat, -laan, -weg …) and numbers.

Also any capitalised words with a house number after "ik woon op" / "adres is".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.names_pattern import CAP

_SUFFIX = (r"(?:straat|laan|weg|plein|gracht|singel|kade|dijk|hof|pad|steeg|dreef|park|erf|markt"
           r"|baan|ring|plantsoen|wal|allee|boulevard|hoven|promenade|passage|vliet|straatje"
           r"|pleintje|hofje|wetering|brink|akker|dwarsstraat|gaarde)")
_NUMBER = r"(?:\s+\d{1,5}(?:\s?[a-zA-Z](?![\w'’])|-(?:[IVX]{1,3}|\d{1,4}|[a-zA-Z]{1,3})(?![\w])|\s(?:bis|hs|huis|I{1,3})(?![\w]))?(?![\w-]))"
_PRE = rf"(?:(?:van\s+(?:de[rn]?\s+|het\s+|'t\s+)?)|(?:{CAP}\s+)){{0,3}}"
_CAPITAL_STREET = re.compile(rf"(?<![\w@])(?:{_PRE})[A-Z][\w'’-]+?{_SUFFIX}(?![\w-]){_NUMBER}?")
_LOWER_STREET = re.compile(rf"(?i)(?<![\w@])[a-z][a-z'’-]+?{_SUFFIX}(?![\w-]){_NUMBER}")
_LIVES_AT = re.compile(
    rf"(?i:\b(?:woon|woont|wonen|woonde|woonden|adres\s+is|adres:|wonen\s+op|zit|slaap)\s+"
    rf"(?:op|aan|in|:)?\s*(?:de\s+|het\s+|'t\s+)?)(?P<street>{CAP}(?:\s+{CAP}){{0,2}}{_NUMBER})"
)
# The same in lower case ("ik woon op brink 12", "adres is markt 5"): any words and a number.
_LIVES_AT_LOWER = re.compile(
    r"(?i:\b(?:woon|woont|wonen|woonde|woonden|adres\s+is|adres:)\s+(?:op|aan|:)?\s*"
    r"(?:de\s+|het\s+|'t\s+)?)(?P<street>(?P<first>[a-z][\w'’-]+)(?:\s+[a-z][\w'’-]+)?"
    r"\s+\d{1,5}(?:\s?[a-z](?![\w'’])|-\d{1,4})?)(?![\w-])"
)
# Words before a number that are no street: "woon op nummer 5", "op kamer 12".
_NOT_STREETS = frozenset(["nummer", "huisnummer", "kamer", "etage", "verdieping", "nr", "no",
                          "groep", "klas", "jaar", "bus", "flat", "een", "mijn", "mn", "ons"])
_STREET_TYPE_FIRST = re.compile(rf"\b(?:[Ss]traat|[Ll]aan|[Pp]lein)\s+(?:van\s+)?{CAP}{_NUMBER}?")


class StreetRecognizer(DutchRecognizer):
    ENTITIES = ("ADDRESS",)
    CONTEXT = ("adres", "woon", "woont", "wonen", "straat", "huisnummer")

    def find(self, text: str) -> Iterator[Found]:
        for m in _CAPITAL_STREET.finditer(text):
            first = m.group().split()[0]
            start = m.start()
            if first in ("Ik", "Hij", "Zij", "We", "Mijn", "In", "Op", "De", "Het"):
                start += len(first) + 1  # a capital at the start of a sentence, not the street
            has_number = bool(re.search(r"\d", m.group()))
            yield Found("ADDRESS", start, m.end(), 0.8 if has_number else 0.6)
        for m in _LOWER_STREET.finditer(text):
            yield Found("ADDRESS", m.start(), m.end(), 0.7)
        for m in _LIVES_AT.finditer(text):
            yield Found("ADDRESS", m.start("street"), m.end("street"), 0.75)
        for m in _LIVES_AT_LOWER.finditer(text):
            if m.group("first").lower() not in _NOT_STREETS:
                yield Found("ADDRESS", m.start("street"), m.end("street"), 0.7)
