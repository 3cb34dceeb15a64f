"""The strict profile for research copies: which words may stay once every detail is removed.

A word stays only when it cannot point to a person: an ordinary Dutch or English word by
wordfreq's frequencies that is no name or place, a small number, or a word on the safe list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import CALENDAR, PLATFORMS, PUBLIC_HELP, Lexicon, normalise

# The evaluation's tokens: maximal runs of \w ("m'n" is two, "heuvel-kok" is two).
_TOKEN = re.compile(r"\w+")
_ORDINAL = re.compile(r"\d{1,2}(?:e|de|ste|st|nd|rd|th)")

# A word of the lemma tables or a frequent English word stays from this Zipf frequency on; an
# unlisted word only from the higher one (web frequency alone also counts names and brands).
LISTED_ZIPF = 3.5
UNLISTED_ZIPF = 4.0
# A word that is also a first name, surname or place stays only when it is a very common word
# ("bank", "jong", "dak"): its everyday meaning is then far more likely than the name.
NAME_WORD_ZIPF = 5.0

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
]) | CALENDAR | PLATFORMS | PUBLIC_HELP


class WordJudge:
    """Decides for each remaining token whether the research copy may keep it."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lex = lexicon

    def keeps(self, token: str) -> bool:
        lower = token.lower()
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
        if (lower in lex.first_names or lower in lex.surnames
                or normalise(lower) in lex.places):
            return lower in lex.dutch_words and nl >= NAME_WORD_ZIPF
        if lower in lex.dutch_words:
            return nl >= LISTED_ZIPF or en >= UNLISTED_ZIPF
        return nl >= UNLISTED_ZIPF or en >= UNLISTED_ZIPF

    def suppressed(self, text: str, taken: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """The tokens of `text` outside `taken` that the research copy must not keep."""
        for m in _TOKEN.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if not self.keeps(m.group()):
                yield m.start(), m.end()
