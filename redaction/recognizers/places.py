"""Towns, villages, provinces and regions (LOCATION) and neighbourhoods (NEIGHBOURHOOD).

Known Dutch places from deduce's lists, in any case, weighed by how ordinary the word is; unknown
words after "woon in", "uit", "naar", and districts by their ending ("in de x-wijk").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import CALENDAR, PLATFORMS, PUBLIC_HELP, Lexicon, normalise
from redaction.recognizers.base import DutchRecognizer, Found, Token, tokenize

_PLACE_PREPOSITIONS = frozenset(
    ["in", "uit", "naar", "bij", "te", "rond", "vanuit", "richting", "nabij", "via", "omgeving", "buurt", "from", "to", "near", "at", "around"])
_LIVES_BEFORE = re.compile(
    r"(?:\bwoon|\bwoont|\bwonen|\bwoonde|\bwoonden|\bverhuisd|\bverhuizen|\bverhuis|\bkom|\bkomt"
    r"|\bkomen|\bgeboren|\blive|\blives|\bwoon nu|\bopgegroeid|\bvandaan|\bzit|\bzitten)"
    r"(?:\s+\w+){0,2}\s+(?:in|uit|naar|bij|te|op|van)\s*$"
)
# The same without "zit op/in", which is as often a school, a club or a class.
_LIVES_STRICT = re.compile(
    r"(?:\bwoon|\bwoont|\bwonen|\bwoonde|\bwoonden|\bverhuisd|\bverhuizen|\bverhuis|\bkom|\bkomt"
    r"|\bkomen|\bgeboren|\blive|\blives|\bopgegroeid|\bvandaan)"
    r"(?:\s+\w+){0,2}\s+(?:in|uit|naar|bij|te|van)\s*$"
)
# School levels, written in lower case and glued ("vmbo-t"): never a place.
_LEVELS = frozenset(["vwo", "havo", "vmbo", "mavo", "mbo", "hbo", "wo", "tl", "kb", "bb", "gt"])
_WHERE_I_LIVE = re.compile(r"(?:waar ik woon|mijn woonplaats|woonplaats|mijn dorp|mijn stad)"
                           r"\s*(?:is|:|,)?\s*$")
_NEIGHBOURHOOD_BEFORE = re.compile(r"\b(?:wijk|woonwijk|buurt|stadsdeel|stadswijk|dorpskern)"
                                   r"\s+(?:de\s+|het\s+|'t\s+)?$")
_ARTICLE_BEFORE = re.compile(r"\b(?:in|uit|naar)\s+(?:de|het|'t)\s+$")
# "ik woon in de x", "ze wonen in het x": a district named with an article.
_LIVES_IN_ARTICLE = re.compile(r"\b(?:woon|woont|wonen|woonde|woonden|verhuisd|verhuizen"
                               r"|opgegroeid|logeer|logeert|slaap|slapen)\w*(?:\s+\w+){0,2}"
                               r"\s+(?:in|naar|uit)\s+(?:de|het|'?t)\s+$")
# "in de kolenkitbuurt", "uit de x-wijk": a district by its ending, after any "in (de)".
_IN_BEFORE = re.compile(r"\b(?:in|uit|naar|vanuit|bij)\s+(?:de\s+|het\s+|'?t\s+)?$")
_LOWER_DISTRICT = re.compile(r"[a-z][\w-]{2,}(?:buurt|wijk|kwartier)")
_GENERIC_DISTRICTS = frozenset([
    "woonwijk", "nieuwbouwwijk", "achterbuurt", "volkswijk", "vinexwijk", "probleemwijk",
    "arbeiderswijk", "villawijk", "krachtwijk", "prachtwijk", "buitenwijk", "studentenwijk",
    "uitgaanswijk", "zakenwijk", "rosse", "jodenbuurt", "stadswijk", "woonbuurt", "stadsbuurt",
])
# What one lives "in de …" without it being a district's name.
_GENERIC_RESIDENCE = frozenset([
    "stad", "buurt", "wijk", "dorp", "straat", "flat", "polder", "randstad", "opvang", "instelling",
    "kelder", "zolder", "caravan", "bus", "auto", "buurtschap", "regio", "provincie", "omgeving",
    "bossen", "stad", "buurt", "woongroep", "gezinshuis", "crisisopvang", "blijf", "knoop",
])
_DISTRICT_WORDS = frozenset(["buiten", "centrum", "noord", "zuid", "oost", "west", "haven", "stad", "poort", "zuidoost", "noordwest", "noordoost", "zuidwest", "nieuw-west"])
_DISTRICT_SUFFIX = re.compile(r"(?:wijk|buurt|kwartier|veld|dorp|meer|park|hof|hoven|polder)$")


class PlaceRecognizer(DutchRecognizer):
    ENTITIES = ("LOCATION", "NEIGHBOURHOOD")
    CONTEXT = ("woon", "wonen", "woont", "stad", "dorp", "wijk", "buurt", "verhuisd", "uit")

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self._lex = lexicon

    def find(self, text: str) -> Iterator[Found]:
        tokens = tokenize(text)
        lowered = text.lower()
        i = 0
        while i < len(tokens):
            found, nxt = self._at(text, lowered, tokens, i)
            if found:
                yield found
            i = nxt

    def _known(self, text: str, tokens: list[Token], i: int) -> int:
        """The end index (exclusive) of the longest known place starting at token i, or i."""
        best = i
        for n in range(1, 6):
            j = i + n
            if j > len(tokens):
                break
            if n > 1 and text[tokens[j - 2].end:tokens[j - 1].start] not in (" ", "-", "'", "-'"):
                break
            if normalise(text[tokens[i].start:tokens[j - 1].end]) in self._lex.places:
                best = j
        return best

    def _at(self, text: str, lowered: str, tokens: list[Token], i: int) -> tuple[Found | None, int]:
        tok = tokens[i]
        start = tok.start - 1 if tok.start and text[tok.start - 1] in "'’" else tok.start
        prefix = lowered[max(0, start - 40):start]
        prev = tokens[i - 1].lower if i else ""
        prep = prev in _PLACE_PREPOSITIONS and text[tokens[i - 1].end:start].strip() == ""
        lives = bool(_LIVES_BEFORE.search(prefix)) or bool(_WHERE_I_LIVE.search(prefix))
        j = self._known(text, tokens, i)
        if j > i:
            key = normalise(text[tok.start:tokens[j - 1].end])
            single = j == i + 1
            parts = key.split()
            ambiguous = (single and (self._lex.ordinariness(key) >= 0.5
                                     or key in self._lex.first_names
                                     or (key in self._lex.surnames
                                         and self._lex.ordinariness(key) >= 0.2))) or (
                not single and not tok.capitalised and all(self._lex.is_word(p) for p in parts))
            if key in self._lex.major_places and not self._lex.is_common(key):
                ambiguous = ambiguous and tok.sentence_start
            score = 0.0
            if tok.capitalised:
                if prep or lives:
                    score = 0.8
                elif not ambiguous:
                    score = 0.7
                elif not tok.sentence_start and not self._lex.is_common(key):
                    score = 0.4
            else:
                # A known place opening with an article is a name ("in t gooi") though its words
                # are words.
                named = parts[0] in ("het", "de", "den") and not single
                if lives and not self._lex.is_common(key) and (single or not ambiguous or named):
                    score = 0.75
                elif prep and not ambiguous:
                    score = 0.7
                elif (prep and prev in ("in", "uit", "vanuit") and key in self._lex.major_places
                      and key not in self._lex.stop_words):
                    # "in leiden", "uit goes": after "in" without an article a municipality's
                    # name is meant, though it is also a word
                    score = 0.6
                elif not ambiguous and len(key) > 3 and not single:
                    score = 0.5
                elif (single and not ambiguous and len(key) > 4
                      and self._lex.ordinariness(key) < 0.5 and not self._lex.inflected(key)):
                    # "hoofddorp is saai": a known town, rare as a word (a surname too, often:
                    # identifying either way)
                    score = 0.5
            if key in self._lex.countries or key in PLATFORMS:
                score = 0.0
            if score:
                end_index = self._district_end(tokens, j, lower=not tok.capitalised)
                entity = "NEIGHBOURHOOD" if end_index > j else "LOCATION"
                return Found(entity, start, tokens[end_index - 1].end, score), end_index
            return None, j
        # Unknown words: districts and foreign towns, from context only.
        if (tok.capitalised and _NEIGHBOURHOOD_BEFORE.search(prefix)
                and self._context_name(tok.lower)):
            return Found("NEIGHBOURHOOD", start, tok.end, 0.8), i + 1
        w = tok.lower
        if (not tok.capitalised and _LOWER_DISTRICT.fullmatch(w) and w not in _GENERIC_DISTRICTS
                and _IN_BEFORE.search(prefix) and self._lex.ordinariness(w) < 0.5):
            return Found("NEIGHBOURHOOD", start, tok.end, 0.6), i + 1
        if not tok.capitalised and _LIVES_IN_ARTICLE.search(prefix) and self._district_word(w):
            return Found("NEIGHBOURHOOD", start, tok.end, 0.6), i + 1
        if (not tok.capitalised and _LIVES_STRICT.search(prefix) and self._rare_name(w, 0.5)
                and len(w) > 3):
            end_index = i + 1  # "leidsche rijn": further rare words or known places belong to it
            while (end_index < len(tokens) and end_index - i < 3
                   and text[tokens[end_index - 1].end:tokens[end_index].start] == " "
                   and not tokens[end_index].capitalised
                   and (self._rare_name(tokens[end_index].lower, 0.3)
                        or normalise(tokens[end_index].lower) in self._lex.places)
                   and tokens[end_index].lower not in self._lex.stop_words):
                end_index += 1
            return Found("LOCATION", start, tokens[end_index - 1].end, 0.6), end_index
        if (not tok.capitalised and prep and prev in ("in", "uit", "vanuit")
                and self._rare_name(w, 0.0) and self._lex.zipf(w) < 3.0 and len(w) > 3):
            return Found("LOCATION", start, tok.end, 0.55), i + 1  # "mn tante in berkane"
        if (tok.capitalised and not tok.sentence_start and (prep or lives)
                and not tok.text.isupper() and self._context_name(tok.lower)):
            end_index = i + 1
            while (end_index < len(tokens) and tokens[end_index].capitalised
                   and text[tokens[end_index - 1].end:tokens[end_index].start] in (" ", "-")
                   and self._context_name(tokens[end_index].lower)):
                end_index += 1
            entity = "NEIGHBOURHOOD" if _DISTRICT_SUFFIX.search(tok.lower) else "LOCATION"
            return Found(entity, start, tokens[end_index - 1].end, 0.7 if lives else 0.55), end_index
        if not tok.capitalised or tok.text.isupper() or not self._plausible_name(tok.lower):
            return None, i + 1
        end_index = i + 1
        while (end_index < len(tokens) and tokens[end_index].capitalised
               and text[tokens[end_index - 1].end:tokens[end_index].start] in (" ", "-")
               and self._plausible_name(tokens[end_index].lower)):
            end_index += 1
        end = tokens[end_index - 1].end
        if _NEIGHBOURHOOD_BEFORE.search(prefix):
            return Found("NEIGHBOURHOOD", start, end, 0.8), end_index
        if _ARTICLE_BEFORE.search(prefix):
            score = 0.7 if lives else 0.55
            return Found("NEIGHBOURHOOD", start, end, score), end_index
        if _DISTRICT_SUFFIX.search(tok.lower) and (prep or lives) and not tok.sentence_start:
            return Found("NEIGHBOURHOOD", start, end, 0.7), end_index
        if lives or _WHERE_I_LIVE.search(prefix):
            return Found("LOCATION", start, end, 0.7), end_index
        if prep and not tok.sentence_start:
            return Found("LOCATION", start, end, 0.55), end_index
        return None, end_index

    def _plausible_name(self, lower: str) -> bool:
        lex = self._lex
        return not (lex.is_word(lower) or lower in lex.countries or lower in PLATFORMS
                    or lower in PUBLIC_HELP or lower in lex.first_names or len(lower) < 3
                    or any(c.isdigit() for c in lower))

    def _rare_name(self, lower: str, ordinariness: float) -> bool:
        """No function word, country, platform or first name, and rare as a word."""
        lex = self._lex
        return not (lower in lex.stop_words or lower in lex.countries or lower in PLATFORMS
                    or lower in PUBLIC_HELP or lower in CALENDAR or lower in lex.first_names
                    or any(c.isdigit() for c in lower)
                    or any(part in _LEVELS for part in lower.split("-"))
                    or lex.ordinariness(lower) > ordinariness)

    def _district_word(self, lower: str) -> bool:
        """After "woon in de": a word that is no generic place to live ("stad", "flat")."""
        return (lower not in _GENERIC_RESIDENCE and len(lower) > 2
                and lower not in self._lex.stop_words and self._lex.ordinariness(lower) < 0.9)

    def _context_name(self, lower: str) -> bool:
        """After "woon in" or "naar", a capitalised word that is no function word is a place."""
        lex = self._lex
        return not (lex.is_common(lower) or lower in lex.countries or lower in PLATFORMS
                    or lower in PUBLIC_HELP or lower in CALENDAR or len(lower) < 3
                    or any(c.isdigit() for c in lower) or lower in lex.first_names)

    def _district_end(self, tokens: list[Token], j: int, lower: bool = False) -> int:
        if (j < len(tokens) and tokens[j].lower in _DISTRICT_WORDS
                and (tokens[j].capitalised or lower)):
            return j + 1
        return j
