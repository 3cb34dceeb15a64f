"""Organisations with a place: youth centres, churches, shops and employers where someone is.

A brand alone ("de jumbo") identifies nobody; a branch ("Albert Heijn in Zwolle", "de kruidvat in
tiel") does. Lower-case names count after a type word ("jongerencentrum het honk").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import Lexicon, normalise
from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.names_pattern import NAME
from redaction.recognizers.phrases import name_phrase

_ORG_PREFIX = (
    r"(?i:jongerencentrum|jongerenwerk|jongerenhuis|jongerenpunt|buurthuis|buurtcentrum|wijkcentrum"
    r"|jeugdhonk|jeugdhuis|jongerenhonk|kerk|moskee|synagoge|tempel|parochie|pinkstergemeente"
    r"|evangeliegemeente|baptistengemeente|gemeente|snackbar|cafetaria|restaurant|café|eetcafé"
    r"|lunchroom|bakkerij|slagerij|kapsalon|kapper|supermarkt|garage|hotel|kinderboerderij"
    r"|zwembad|bibliotheek|opvang|wooncentrum|woongroep|instelling|kliniek|zorgboerderij|fabriek"
    r"|camping|pizzeria|shoarmazaak|kebabzaak|bioscoop|theater|koranschool|scouting"
    r"|scoutinggroep|speeltuin|winkel|boerderij|kinderopvang|bso|gezinshuis|leefgroep"
    r"|crisisopvang|jeugdinstelling|azc|moskeevereniging|kerkgenootschap|stichting|bedrijf"
    r"|manege|speelhal|ijssalon|sportschool|fitness|tankstation|hotel|horeca|bezorgdienst)"
)
_PREFIXED = re.compile(rf"(?<![\w]){_ORG_PREFIX}\s+(?:{NAME})")
_WORKS_AT = re.compile(
    r"\b(?i:werk|werkt|werken|werkte|werkten|bijbaan|bijbaantje|baan|baantje|stage|stageplek"
    r"|vakkenvuller|sollicit\w*|stagiair|krantenwijk|kassa|kassière|kassamedewerker"
    r"|afwasser|bezorger|bezorg|sta)\b[^.!?\n]{0,25}?\bbij\s+(?:de\s+|het\s+|'t\s+|een\s+)?"
    r"(?P<name>[\w'’&.-]+(?:\s+[A-Z][\w'’&.-]*){0,2})"
    r"(?=\s*,?\s+(?:in|op|aan|te|bij|van|vlakbij|naast)\s+(?:de\s+|het\s+)?"
    r"(?:[A-Z]|[a-z]+(?:straat|laan|weg|plein|markt|dijk|kade)\b))"
)
_PREFIX_LOWER = re.compile(rf"(?<![\w]){_ORG_PREFIX}\b")
# The same "works at", for names in lower case: the place after it is checked against the lists.
_WORKS_AT_LOWER = re.compile(
    r"\b(?i:werk|werkt|werken|werkte|werkten|bijbaan|bijbaantje|baan|baantje|stage|stageplek"
    r"|vakkenvuller|stagiair|kassa|kassière|kassamedewerker|afwasser|bezorger|bezorg)\b"
    r"[^.!?\n]{0,25}?\bbij\s+"
)
_PLACE_AFTER = re.compile(r"\s*,?\s+(?:in|op|aan|te|bij|vlakbij|naast)\s+(?:de\s+|het\s+)?"
                          r"(?P<place>[\w'’-]+(?:\s[\w'’-]+)?)")
# Type words written after the name: "het gelre ziekenhuis", "de al-fath moskee".
_TYPE_AFTER = re.compile(
    r"(?i)(?<![\w'])(?:het|de|'t)\s+(?P<name>(?:[^\W\d_][\w'’-]*\s+){1,2})"
    r"(?P<type>ziekenhuis|kliniek|moskee|kerk|jongerencentrum|buurthuis|opvang|bibliotheek"
    r"|zwembad|apotheek|kinderopvang|manege|camping)\b"
)
_GENERIC = frozenset(["de", "het", "een", "ons", "onze", "mijn", "mn", "m'n", "zijn", "haar", "hun"])


class OrganisationRecognizer(DutchRecognizer):
    ENTITIES = ("ORGANIZATION",)
    CONTEXT = ("werk", "werken", "werkt", "bijbaan", "kerk", "moskee", "jongerencentrum")

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self._lex = lexicon

    def _place_follows(self, text: str, end: int) -> bool:
        m = _PLACE_AFTER.match(text, end)
        if not m:
            return False
        place = m.group("place")
        words = place.split()
        return (place[:1].isupper() or normalise(words[0]) in self._lex.places
                or normalise(place) in self._lex.places
                or bool(re.search(r"(?:straat|laan|weg|plein|markt|dijk|kade)$", words[0])))

    def find(self, text: str) -> Iterator[Found]:
        for m in _PREFIX_LOWER.finditer(text):
            span = name_phrase(text, m.end(), self._lex, limit=3)
            if span:
                yield Found("ORGANIZATION", m.start(), span[1], 0.65)
        for m in _WORKS_AT_LOWER.finditer(text):
            # The place after it confirms: the name may hold fairly ordinary words ("x steel").
            span = name_phrase(text, m.end(), self._lex, limit=3, max_ordinariness=0.7,
                               after_article=0.7)
            if span and self._place_follows(text, span[1]):
                yield Found("ORGANIZATION", span[0], span[1], 0.65)
        for m in _TYPE_AFTER.finditer(text):
            words = m.group("name").split()
            if all(w.lower() not in self._lex.stop_words and self._lex.ordinariness(w.lower()) < 0.8
                   for w in words):
                yield Found("ORGANIZATION", m.start("name"), m.end("type"), 0.6)
        for m in _PREFIXED.finditer(text):
            yield Found("ORGANIZATION", m.start(), m.end(), 0.7)
        for m in _WORKS_AT.finditer(text):
            name = m.group("name")
            if name.lower() in _GENERIC:
                continue
            yield Found("ORGANIZATION", m.start("name"), m.end("name"), 0.65)
