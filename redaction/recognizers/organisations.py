"""Organisations with a place: youth centres, churches, shops and employers where someone is.

A brand alone ("de jumbo") identifies nobody; a branch ("Albert Heijn in Zwolle") does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.names_pattern import NAME

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
_GENERIC = frozenset(["de", "het", "een", "ons", "onze", "mijn", "mn", "m'n", "zijn", "haar", "hun"])


class OrganisationRecognizer(DutchRecognizer):
    ENTITIES = ("ORGANIZATION",)
    CONTEXT = ("werk", "werken", "werkt", "bijbaan", "kerk", "moskee", "jongerencentrum")

    def find(self, text: str) -> Iterator[Found]:
        for m in _PREFIXED.finditer(text):
            yield Found("ORGANIZATION", m.start(), m.end(), 0.7)
        for m in _WORKS_AT.finditer(text):
            name = m.group("name")
            if name.lower() in _GENERIC:
                continue
            yield Found("ORGANIZATION", m.start("name"), m.end("name"), 0.65)
