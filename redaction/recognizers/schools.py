"""Schools: a type word and a name ("basisschool De Regenboog", "Nova College", "roc x").

Names without a type word ("op het CLZ", "zit op het comenius") only where school is clearly meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import Lexicon
from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.names_pattern import CAP, NAME
from redaction.recognizers.phrases import name_phrase

_TYPE_FIRST = re.compile(
    r"\b(?i:basisschool|cbs|obs|pcbs|rkbs|kbs|ikc|sbo|vso|scholengemeenschap|sg|csg|rsg|osg|roc"
    r"|hogeschool|universiteit|praktijkschool|montessorischool|daltonschool|jenaplanschool"
    r"|vrije school|middelbare school|islamitische school|christelijke school|school|mbo|vmbo"
    rf"|lyceum|gymnasium|college|kindcentrum|brede school)\s+(?P<name>{NAME})"
)
_TYPE_WORDS = (r"(?:College|Lyceum|Gymnasium|Mavo|Havo|Atheneum|Scholengemeenschap|Campus"
               r"|Academie|Hogeschool|Universiteit|Vakcollege|Praktijkschool|Basisschool|School"
               r"|Scholengroep|Montessorischool|Daltonschool|Kindcentrum)")
_NAME_FIRST = re.compile(
    rf"(?<![\w])(?:{CAP}\s+){{1,3}}{_TYPE_WORDS}(?:\s+(?:(?:De|Het)\s+)?{CAP}(?!\s+[a-z]+\s+[A-Z]))?"
)
_LOWER_NAME_FIRST = re.compile(
    r"(?i)\b(?:op|van|naar|bij|in|aan)\s+(?:(?:het|de|'?t)\s+)?(?P<name>(?:(?!(?:het|de|een|mijn|mn"
    r"|ons|onze|dat|dit|die|je|jouw|zijn|haar|hun|nieuwe|oude|andere)\s)[a-z][\w-]{2,}\s+){1,3}"
    r"(?:college|lyceum|gymnasium|mavo|atheneum|scholengemeenschap|campus))\b"
)
# Type words that are followed by a name even in lower case ("roc da vinci", "obs de klimop").
_LOWER_TYPE_FIRST = re.compile(
    r"(?i)\b(?:basisschool|cbs|obs|pcbs|rkbs|kbs|ikc|sbo|vso|scholengemeenschap|csg|rsg|osg|roc"
    r"|hogeschool|universiteit|praktijkschool|montessorischool|daltonschool|jenaplanschool"
    r"|kindcentrum|islamitische school|christelijke school|vrije school)\b"
)
# Going to or studying at a school: "zit op het x", "ik studeer aan de x", "ga naar het x".
_ATTENDS = re.compile(
    r"(?i)\b(?:zit|zat|zitten|zaten|ga|gaat|ging|gaan|kom|kwam|studeer|studeert|studeerde|studeren"
    r"|stage|leer|loop|doe|doet|deed)\b")
# "op"/"aan" within a few words after the verb: "zit in 5 havo op het x", "zit op havo 4 op t x".
_AT_SCHOOL = re.compile(r"\s(?P<prep>op|aan|bij)\s+(?P<article>(?:het|de|'?t)\s+)?",
                        re.IGNORECASE)
# "ik doe mbo bij het x": "bij" names a school only after a school level.
_LEVEL = re.compile(r"(?i)\b(?:vwo|havo|vmbo|mavo|mbo|hbo|tl|kb|bb|gt|brugklas|klas|groep)\b")
# Studying is a stronger cue: after "studeer aan de" even an ordinary word is a name ("de rug").
_STUDIES = re.compile(r"(?i)\bstude(?:er|ert|erde|ren)\b")
# "mijn school heet x", "onze basisschool heet de x".
_SCHOOL_CALLED = re.compile(
    r"(?i)\b(?:school|basisschool|middelbare(?:\s+school)?|mbo|hogeschool|uni|universiteit)"
    r"\s+(?P<verb>heet|heette|is|was)\s+(?=(?:de|het|'?t)\s|[a-z])")
# Clubs and other places one "zit op": their own recognizers type them.
_OTHER_TYPE = re.compile(r"(?:vereniging|club|team|groep|centrum|buurthuis|clubhuis|jongerenhuis"
                         r"|kerk|moskee|sportschool|dansschool|judoschool|rijschool|zwemschool"
                         r"|muziekschool|les)$")
# Levels and school words after "zit op het": what someone is in, not which school.
_NOT_SCHOOL_WORDS = frozenset([
    "vwo", "havo", "vmbo", "mavo", "mbo", "hbo", "wo", "tl", "kb", "bb", "gt", "gymnasium",
    "atheneum", "school", "basisschool", "middelbare", "lyceum", "college", "universiteit", "uni",
    "hogeschool", "praktijkschool", "internaat", "speciaal", "onderwijs", "brugklas", "klas",
])
_ABBREVIATION = re.compile(
    r"\b(?:zit|zat|zitten|zaten|ga|gaat|ging|gaan|kom|kwam|zit nu)\s+(?:nu\s+|al\s+)?op\s+"
    r"(?:het|de|'t)?\s*(?P<abbr>[A-Z][A-Z&]{1,5})\b"
    r"|\b(?i:school|klas|mentor|mentrix|docent|leraar|lerares|rector|conrector)\b[^.?!]{0,25}?"
    r"\b(?:het|de)\s+(?P<abbr2>[A-Z][A-Z&]{1,5})\b"
)
# The same written in lower case ("wellantcollege"): the part before the type word must be no
# ordinary word ("dansschool", "basisschool" and "rijschool" are no school's name).
_LOWER_COMPOUND = re.compile(
    r"(?<![\w])(?P<stem>[a-zà-ÿ]{3,})(?:school|college|lyceum|gymnasium|mavo)(?![\w])")
_COMPOUND = re.compile(r"(?<![\w])[A-Z][a-zà-ÿ]{2,}(?:school|college|lyceum|gymnasium|mavo)(?![\w])")
# Levels and public services written in capitals; not a school's name.
_NOT_SCHOOLS = frozenset(["VWO", "HAVO", "VMBO", "MAVO", "MBO", "HBO", "WO", "TL", "KB", "BB", "GT", "PO", "VO", "BSO", "GGD", "AZC", "ID", "OK"])


class SchoolRecognizer(DutchRecognizer):
    """Type word + name, name + type word, and names after "zit op (het)" or "studeer aan de".
    """
    ENTITIES = ("SCHOOL",)
    CONTEXT = ("school", "klas", "mentor", "docent", "leraar", "zit", "brugklas", "havo", "vwo")

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self._lex = lexicon

    def find(self, text: str) -> Iterator[Found]:
        for m in _COMPOUND.finditer(text):
            if not self._lex.is_word(m.group().lower()):  # "Jozefschool", not "Basisschool"
                yield Found("SCHOOL", m.start(), m.end(), 0.65)
        for m in _LOWER_COMPOUND.finditer(text):
            stem = m.group("stem")
            if (self._lex.ordinariness(m.group()) < 0.3 and self._lex.ordinariness(stem) < 0.5
                    and not self._lex.inflected(stem) and stem not in self._lex.stop_words):
                yield Found("SCHOOL", m.start(), m.end(), 0.6)
        for m in _TYPE_FIRST.finditer(text):
            yield Found("SCHOOL", m.start(), m.end(), 0.75)
        for m in _NAME_FIRST.finditer(text):
            start = m.start()
            first = m.group().split()[0]
            if first in ("Ik", "Op", "Het", "De", "Mijn", "Bij", "Naar", "Van", "Wij", "We"):
                start += len(first) + 1
            yield Found("SCHOOL", start, m.end(), 0.75)
        for m in _LOWER_NAME_FIRST.finditer(text):
            yield Found("SCHOOL", m.start("name"), m.end("name"), 0.65)
        for m in _ABBREVIATION.finditer(text):
            group = "abbr" if m.group("abbr") else "abbr2"
            if m.group(group) not in _NOT_SCHOOLS:
                yield Found("SCHOOL", m.start(group), m.end(group), 0.7)
        for m in _LOWER_TYPE_FIRST.finditer(text):
            span = name_phrase(text, m.end(), self._lex, after_article=1.0)
            if span:
                yield Found("SCHOOL", m.start(), span[1], 0.7)
        for verb in _ATTENDS.finditer(text):
            studies = bool(_STUDIES.fullmatch(verb.group()))
            window = text[verb.end():verb.end() + 30]
            for m in _AT_SCHOOL.finditer(window):
                if m.group("prep").lower() == "bij" and not _LEVEL.search(window[:m.start()]):
                    continue
                if verb.group().lower().startswith(("doe", "deed")) and not _LEVEL.search(
                        window[:m.start()]):
                    continue
                found = self._attended(text, verb.end() + m.end(), m.group("article"), studies)
                if found:
                    yield found
                    break
        for m in _SCHOOL_CALLED.finditer(text):
            # "heet" names it, whatever the words; after "is" only a rare word is a name
            called = m.group("verb").lower().startswith("heet")
            span = name_phrase(text, m.end(), self._lex, max_ordinariness=0.5 if called else 0.3,
                               after_article=1.0 if called else 0.5)
            if span and text[span[0]:span[1]].split()[0].lower() not in _NOT_SCHOOL_WORDS:
                yield Found("SCHOOL", span[0], span[1], 0.7)

    def _attended(self, text: str, end: int, article: str | None,
                  studies: bool) -> Found | None:
        """The school named after "zit … op (het)" ending at `end`, if a name follows."""
        # After an article an ordinary-looking word may be a name ("het baken"); without
        # one, only a word that is rare as a word ("zit op vechtdal").
        start = end - len(article) if article else end
        span = name_phrase(text, start, self._lex, max_ordinariness=0.5,
                           after_article=1.0 if studies else 0.8)
        if span is None:
            return None
        first = text[span[0]:span[1]].split()[0].lower()
        if (first in _NOT_SCHOOL_WORDS or _OTHER_TYPE.search(first)
                or (not article and self._lex.ordinariness(first) > 0.3)):
            return None
        tail = re.match(r"\s+(?i:college|lyceum|gymnasium|school|campus)\b", text[span[1]:])
        return Found("SCHOOL", span[0], span[1] + (tail.end() if tail else 0), 0.6)
