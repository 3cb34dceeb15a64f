"""The strict profile for research copies: which words may stay once every detail is removed.

A word stays only when it cannot point to a person: an ordinary Dutch or English word by
wordfreq's frequencies that is no name or place, a small number, or a word on the safe list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import CALENDAR, PLATFORMS, PUBLIC_HELP, Lexicon, normalise

# The evaluation's tokens: maximal runs of \w ("m'n" is two, "el-amin" is two).
_TOKEN = re.compile(r"\w+")
_ORDINAL = re.compile(r"\d{1,2}(?:e|de|ste|st|nd|rd|th)")
_REPEATED = re.compile(r"(\w)\1{2,}")
# Numbers joined by dots, dashes or slashes (dates, codes) and days next to a month name.
_NUMBER_GROUP = re.compile(r"\d+(?:[./-]\d+)+")
_DAY_MONTH = re.compile(
    r"(?i)\b\d{1,2}(?:e|de|ste|st|nd|rd|th)?\s+(?:van\s+|of\s+)?(?:jan|feb|mrt|maa|apr|mei|may"
    r"|jun|jul|aug|sep|okt|oct|nov|dec)[a-z]*\.?(?:\s+\d{2,4})?"
    r"|\b(?:jan|feb|mrt|maart|apr|mei|may|jun|jul|aug|sep|okt|oct|nov|dec)[a-z]*\.?\s+\d{1,2}"
    r"(?:e|de|ste|st|nd|rd|th)?(?:,?\s+\d{4})?")
# Particles of surnames: before a suppressed word they would give the name away ("van der [WOORD]").
PARTICLES = frozenset(["van", "der", "den", "ter", "ten", "el", "al", "von", "bin", "ibn", "abu",
                       "ait", "ou", "di", "da", "del", "dos", "du"])

# A word of the lemma tables or a frequent English word stays from this Zipf frequency on; an
# unlisted word only from the higher one (web frequency alone also counts names and brands).
LISTED_ZIPF = 3.5
UNLISTED_ZIPF = 4.0
# A word that is also a first name or a place stays only when it is a very common word ("bank",
# "winter"): its everyday meaning is then far more likely than the name. Surnames that are words
# ("bel", "kok", "visser") are mostly meant as words.
NAME_WORD_ZIPF = 4.5
SURNAME_WORD_ZIPF = 4.0

# Words a research reader needs and that identify nobody: feelings, school levels and years,
# help services, chat abbreviations. Generic knowledge, not taken from any annotated message.
SAFE_WORDS = frozenset([
    "mn", "zn", "dr", "ff", "wss", "idk", "brb", "lol", "omg", "btw", "pls", "plz", "fr", "ngl",
    "tbh", "wtf", "hvj", "hou", "iig", "ofz", "aub", "kzal", "kweet", "kben", "kheb", "kga",
    "kan", "kwil", "kmoet", "kvind", "kdenk", "ikke", "jij", "jou", "jullie", "mama", "papa",
    "mam", "pap", "oma", "opa", "broer", "zus", "bang", "boos", "verdrietig", "eenzaam", "moe",
    "depressief", "somber", "angstig", "paniek", "stress", "gestrest", "blij", "gelukkig",
    "schaam", "schuldig", "suïcidaal", "zelfmoord", "zelfbeschadiging", "snijden",
    "automutilatie", "pesten", "gepest", "vmbo", "mavo", "havo", "vwo", "mbo", "hbo", "wo", "tl",
    "kb", "bb", "gt", "bbl", "bol", "gymnasium", "atheneum", "brugklas", "groep", "klas",
    "basisschool", "middelbare", "stage", "stagebegeleider", "mentor", "mentrix", "docent",
    "leraar", "lerares", "juf", "meester", "kindertelefoon", "jeugdzorg", "ggd", "huisarts",
    "politie", "veilig", "thuis", "113", "112", "supportlijn", "helpwanted", "psycholoog",
    "psychiater", "therapeut", "maatschappelijk", "werker", "jeugdarts", "vertrouwenspersoon",
    "chillen", "chill", "gamen", "appen", "appt", "appte", "snappen", "facetimen", "ghosten",
    "dm", "dms", "gwn", "thx", "ofzo", "sws", "gister", "bsn", "iban", "nudes", "sexting",
    "sextortion", "gepest", "grooming", "lhbti", "lhbtiq", "queer", "non-binair", "trans",
    "bff", "bday", "bijbaan", "bijbaantje", "zwem", "zwemmen", "hang", "blowen", "blowt",
    "pleeggezin", "pleegouders", "pleegzorg", "voogd", "gezinshuis", "crisisopvang",
    "verzorgingstehuis", "voedselbank", "conciërge", "bestie", "geblokt", "blokkeren",
    "uitgehuwelijkt", "lyceum", "college", "turnen",
]) | CALENDAR | PLATFORMS | PUBLIC_HELP


class WordJudge:
    """Decides for each remaining token whether the research copy may keep it."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lex = lexicon

    def keeps(self, token: str) -> bool:
        lower = token.lower()
        if _REPEATED.search(lower):  # "heyyy", "zooo": the word typed long
            return any(self._keeps(form) for form in (
                _REPEATED.sub(r"\1\1", lower), _REPEATED.sub(r"\1", lower),
                re.sub(r"(\w)\1+", r"\1", lower)))
        if re.search(r"(\w)\1$", lower) and not self._keeps(lower):
            return self._keeps(lower[:-1])  # "heyy"
        return self._keeps(lower)

    def _keeps(self, lower: str) -> bool:
        if lower.isdigit():
            return len(lower) <= 4  # ages, classes, house numbers are kept; long numbers not
        if any(c.isdigit() for c in lower):
            return bool(_ORDINAL.fullmatch(lower))
        if len(lower) == 1 or lower in SAFE_WORDS:
            return True
        lex = self._lex
        if lower in lex.stop_words or lower in lex.common_words or lower in lex.english_words:
            return True
        if lower in lex.countries:
            return True  # below country level is identifying, a country is not
        nl, en = lex.zipf_nl.get(lower, 0.0), lex.zipf_en.get(lower, 0.0)
        if lower in lex.first_names or normalise(lower) in lex.places:
            return lower in lex.dutch_words and nl >= NAME_WORD_ZIPF
        if lower in lex.surnames:
            return lower in lex.dutch_words and nl >= SURNAME_WORD_ZIPF
        if lower in lex.dutch_words:
            return nl >= LISTED_ZIPF or en >= UNLISTED_ZIPF
        return nl >= UNLISTED_ZIPF or en >= UNLISTED_ZIPF

    def suppressed(self, text: str, taken: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """The tokens of `text` outside `taken` that the research copy must not keep.

        Besides the words themselves: surname particles just before a removed word, numbers that
        are part of a date or a code, and a day with its month ("7 februari").
        """
        numbers = [(m.start(), m.end()) for pattern in (_NUMBER_GROUP, _DAY_MONTH)
                   for m in pattern.finditer(text)]
        tokens = list(_TOKEN.finditer(text))
        gone = [any(s < m.end() and m.start() < e for s, e in taken) for m in tokens]
        out = [False] * len(tokens)
        for i, m in enumerate(tokens):
            if gone[i]:
                continue
            in_number = any(s <= m.start() and m.end() <= e for s, e in numbers)
            out[i] = in_number or not self.keeps(m.group())
        # Only before a suppressed word: the live profile's names already take their particles,
        # and "centrum van [PLAATS]" keeps its "van".
        for i in range(len(tokens) - 1, 0, -1):
            j = i - 1
            while (out[i] and j >= 0 and not gone[j] and not out[j]
                   and tokens[j].group().lower() in PARTICLES
                   and text[tokens[j].end():tokens[j + 1].start()] == " "):
                out[j] = True
                j -= 1
        for i, m in enumerate(tokens):
            if out[i]:
                yield m.start(), m.end()
