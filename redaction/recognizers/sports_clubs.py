"""Sports clubs and teams someone is a member of: "vv Hercules", "hockeyclub X", "bij Lions Y".

Famous clubs someone is only a fan of are left alone: membership words are required.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import Lexicon
from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.names_pattern import NAME, YEAR_SUFFIX
from redaction.recognizers.phrases import name_phrase

_CLUB_PREFIX = (
    r"(?i:v\.v\.|s\.v\.|f\.c\.|vv|sv|sc|fc|hc|mhc|hv|bc|kv|kc|vc|zv|zc|rkvv|rksv|vvv|tc|ltc|ttv|av"
    r"|gv|wsv|zwc|hbc|rkc|korfbalclub|hockeyclub|voetbalclub|voetbalvereniging|zwemvereniging"
    r"|zwemclub|turnvereniging|turnclub|gymvereniging|gymnastiekvereniging|judoschool|judoclub"
    r"|judovereniging|dansschool|balletschool|korfbalvereniging|tennisclub|tennisvereniging"
    r"|atletiekvereniging|atletiekclub|basketbalclub|basketbalvereniging|handbalvereniging"
    r"|handbalclub|volleybalvereniging|volleybalclub|hockeyvereniging|schaakclub|schaakvereniging"
    r"|roeivereniging|ijsclub|kickboksschool|boksschool|boksclub|vechtsportschool|karateschool"
    r"|taekwondoschool|rijvereniging|schaatsvereniging|wielervereniging|zeilvereniging"
    r"|waterpolovereniging|reddingsbrigade|sportvereniging|sportclub|sportschool|rugbyclub"
    r"|honkbalvereniging|softbalvereniging|badmintonclub|tafeltennisvereniging|cheerleadingteam"
    r"|dansgroep|majorettes|voetbalschool)"
)
_PREFIXED = re.compile(rf"(?<![\w.])(?<!\d\s){_CLUB_PREFIX}\s+(?:{NAME}){YEAR_SUFFIX}")
_MEMBER_AT = re.compile(
    r"\b(?i:voetbal|hockey|basketbal|korfbal|handbal|volleybal|tennis|zwem|turn|dans|judo|train"
    r"|sport|speel|rugby|honkbal|softbal|atletiek|schaak|roei|boks|kickboks|karate|turnen|zit"
    r"|lid|keep|keeper)\w*\s+(?:\w+\s+){0,2}?(?:bij|voor)\s+(?:de\s+|het\s+)?"
    rf"(?P<name>(?-i:[A-Z][\w'’&]*(?:[\s-][A-Z][\w'’&]*){{0,2}}){YEAR_SUFFIX})"
)


# The same two cues, for names written in lower case ("sv spakenburg", "voetbal bij zwaluwen 30").
_PREFIX_LOWER = re.compile(rf"(?<![\w.])(?<!\d\s){_CLUB_PREFIX}\b")
_MEMBER_AT_LOWER = re.compile(
    r"\b(?i:voetbal|hockey|basketbal|korfbal|handbal|volleybal|tennis|zwem|turn|dans|judo|train"
    r"|sport|speel|rugby|honkbal|softbal|atletiek|schaak|roei|boks|kickboks|karate|turnen"
    r"|lid|keep|keeper)\w*\s+(?:\w+\s+){0,2}?(?:bij|voor)\s+"
)


class SportsClubRecognizer(DutchRecognizer):
    ENTITIES = ("SPORTS_CLUB",)
    CONTEXT = ("club", "vereniging", "trainer", "training", "team", "elftal", "wedstrijd", "lid")

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self._lex = lexicon

    def find(self, text: str) -> Iterator[Found]:
        for m in _PREFIX_LOWER.finditer(text):
            span = name_phrase(text, m.end(), self._lex, limit=2, after_article=1.0,
                               numbers=True)
            if span:
                yield Found("SPORTS_CLUB", m.start(), span[1], 0.7)
        for m in _MEMBER_AT_LOWER.finditer(text):
            span = name_phrase(text, m.end(), self._lex, limit=2, after_article=0.5, numbers=True)
            if span:
                yield Found("SPORTS_CLUB", span[0], span[1], 0.6)
        for m in _PREFIXED.finditer(text):
            yield Found("SPORTS_CLUB", m.start(), m.end(), 0.75)
        for m in _MEMBER_AT.finditer(text):
            yield Found("SPORTS_CLUB", m.start("name"), m.end("name"), 0.6)
