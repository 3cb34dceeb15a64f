"""Person names: first names and surnames from Dutch name lists, read with case, context and
how ordinary a word is; unlisted names by the trained name model with a weak cue.

Lower-case names count in chat ("ik ben daan", "mijn vriendin noor", "amira el haddouchi");
words that only look like names ("roos" the flower, "ben") need a context that says a person
is meant ("winter is mijn beste vriendin").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import PLATFORMS, PUBLIC_HELP, Lexicon, normalise
from redaction.name_model import NameModel
from redaction.recognizers.base import DutchRecognizer, Found, Token, tokenize

_RELATIONS = (
    "vriend|vriendin|vriendinnetje|vriendje|vriendinnen|vrienden|bff|beste|broer|broertje|zus|zusje"
    "|neef|neefje|nicht|nichtje|opa|oma|oom|tante|stiefvader|stiefmoeder|stiefbroer|stiefzus"
    "|halfbroer|halfzus|pleegvader|pleegmoeder|pleegbroer|pleegzus|ex|crush|buurman|buurvrouw"
    "|buurjongen|buurmeisje|klasgenoot|klasgenote|teamgenoot|teamgenote|collega|baas|leidinggevende"
    "|manager|leraar|lerares|docent|docente|mentor|mentrix|trainer|trainster|coach|juf|meester"
    "|date|lief|liefje|partner|vader|moeder|papa|mama|pap|mam|stiefpa|stiefma|zoon|dochter"
    "|vriendinnetje|verkering|vpk|begeleider|begeleidster|voogd|jeugdwerker|stiefopa|stiefoma"
    "|schoonzus|zwager|oppas|bro|sis|maatje|maat|gast|jongen|meisje|man|vrouw"
    "|bestie|friend|best friend|boyfriend|girlfriend|bf|gf|brother|sister|mom|mum|dad|cousin"
    "|stepdad|stepmom|uncle|aunt|teacher|ex-vriend|ex-vriendin"
)
_POSSESSIVE = r"(?:mijn|mn|m'n|me|zijn|z'n|haar|d'r|onze|ons|jouw|je|die|dat|een|de|het|his|her|my)"
_RELATION_BEFORE = re.compile(
    rf"\b{_POSSESSIVE}\s+(?:[a-z]+\s+)?(?:{_RELATIONS})(?:\s*,)?\s*$"
)
_INTRODUCTION_BEFORE = re.compile(
    r"(?:\bik ben|\bik heet|\bheet|\bheten|\bhete|\bnaam is|\bnaam:|\bnoem(?:t|en)? (?:me|mij|hem"
    r"|haar|ons)|\bmy name is|\bname is|\bi'?m|\bi am|\bcall me|\bhoi|\bhey|\bhee|\bhallo|\bhi"
    r"|\bhoii+|\bdoei|\bdag|\bbedankt|\bdank je(?:wel)?|\bdankjewel|\bthanks|\bthx|\bsorry"
    r"|\bgroetjes|\bliefs|\bxx)\s*,?\s*$"
)
# Only these introductions are strong enough for a word that could also be ordinary.
_STRONG_INTRODUCTION = re.compile(
    r"(?:\bik heet|\bheet|\bheten|\bgenaamd|\bheette|\bnaam is|\bnaam:|\bnoem(?:t|en)? (?:me|mij|hem|haar)"
    r"|\bmy name is|\bname is|\bcall me|\bik ben|\bi'?m|\bhoi|\bhey|\bhallo)\s*,?\s*$"
)
# Pets and things that "heet" something: their names are no person's.
_THING_NAMED_BEFORE = re.compile(
    r"\b(?:kat|poes|hond|hondje|konijn|cavia|hamster|paard|pony|vis|parkiet|vogel|knuffel|pop"
    r"|auto|fiets|school|basisschool|middelbare|club|vereniging|team|klas|groep|wijk|buurt"
    r"|straat|dorp|stad|app|account|server|game|groepsapp|band|serie)\s+(?:heet|heette|noem)")
_TITLE_BEFORE = re.compile(
    r"(?i)\b(?:meneer|mevrouw|mevr|mw|dhr|juf|juffrouw|meester|mr|mrs|ms|miss|dokter|dr|dominee"
    r"|pastoor|imam|ds|coach|mentor|trainer|trainster|docent|docente|leraar|lerares|agent"
    r"|familie|fam|gezin|achternaam is|achternaam:|surname is|last name is)\.?\s+$"
)
_PERSON_AFTER = re.compile(
    r"^\s*(?:\(\d{1,2}\)|,?\s*\d{1,2}\s*(?:jaar|jr)\b|uit (?:mijn|mn|m'n|de|onze) (?:klas|groep|straat"
    r"|buurt|team)|van \d{1,2}\b|en ik\b|(?:zegt|zei|zeggen|heeft|had|hebben|doet|deed|stuurt"
    r"|stuurde|vindt|vond|lacht|lachen|pest|pesten|pestte|noemt|noemde|appt|appte|slaat|sloeg"
    r"|blijft|dreigt|dreigde|bedreigt|chat|chatte|belt|belde|volgt|zit|woont"
    r"|haalt|schreeuwt|scheldt|duwt|liegt|plaagt)\b)"
)
# After a candidate, a phrase that says a person is meant: "X is mn beste vriendin", "X uit mn klas".
_PERSON_AFTER_STRONG = re.compile(
    rf"^\s*,?\s*(?:is|was|werd|wordt)\s+{_POSSESSIVE}\s+(?:\w+\s+)?(?:{_RELATIONS})\b"
)
# Weaker cues around a word no list knows; enough only when the name model says it looks like a
# name: "gister zag ik x", "ik was met x", "x zei dat".
_WEAK_PERSON_BEFORE = re.compile(
    r"\b(?:met|tegen|door|naast|samen met|zag(?:\s+ik)?|ken(?:\s+ik)?|sprak(?:\s+ik)?"
    r"|belde(?:\s+ik)?|appte(?:\s+ik)?|vroeg(?:\s+ik)?|haat(?:\s+ik)?|mis(?:\s+ik)?)\s+$")
_LAUGH = re.compile(r"(?:ha|he|hi|ho|hu|xo|lo){2,}\w?")
# From this probability on, the name model's word counts as a name (held-out precision is 0.94
# already from 0.85).
NAME_MODEL_THRESHOLD = 0.9
_HAS_DIGIT = re.compile(r"\d")
# Surname particles written before a surname, beyond the Dutch interfixes of the name lists.
_PARTICLES = frozenset(["el", "al", "ben", "bin", "ibn", "abu", "ait", "ou", "oulad", "da", "de",
                        "di", "del", "dos", "du", "van", "von", "ter", "ten", "te", "la", "le"])
# Celebrities and characters are talked about, not identified: "kijk naar X", "fan van X".
_MEDIA_BEFORE = re.compile(r"(?:\bfan van|\bkijk\w*(?:\s+\w+){0,3}\s+naar|\bluister\w*\s+naar"
                           r"|\bles(?:sen)? over|\bfilm|\bserie|\bboek|\bidool|\bvideo'?s? van"
                           r"|\bfilmpjes? van|\bmuziek van|\bliedjes? van|\bconcert van)\s*$")
_MEDIA_AFTER = re.compile(r"^(?:\s+\w+)?\s+(?:gekeken|gelezen|geluisterd|kijken|gezien)\b")


class PersonRecognizer(DutchRecognizer):
    ENTITIES = ("PERSON",)
    CONTEXT = ("heet", "heten", "naam", "vriend", "vriendin", "broer", "zus", "meneer", "mevrouw",
               "juf", "meester", "neef", "nicht", "opa", "oma")

    def __init__(self, lexicon: Lexicon, name_model: NameModel | None = None) -> None:
        super().__init__()
        self._lex = lexicon
        self._model = name_model

    def find(self, text: str) -> Iterator[Found]:
        tokens = tokenize(text)
        lowered = text.lower()
        accepted: dict[int, float] = {}
        for tok in tokens:
            score = self._score(text, lowered, tokens, tok)
            if score:
                accepted[tok.index] = score
        self._coordinated(text, tokens, accepted)
        for i in sorted(accepted):
            tok = tokens[i]
            end = self._surname_end(text, tokens, i)
            yield Found("PERSON", tok.start, end, accepted[i])
        yield from self._titled(text, tokens)

    def _score(self, text: str, lowered: str, tokens: list[Token], tok: Token) -> float:
        lex = self._lex
        w = lex.known_name(tok.lower)  # "saraaa" is "sara"
        if len(w) < 2 or _HAS_DIGIT.search(w) or "_" in w or w in PLATFORMS or w in PUBLIC_HELP:
            return 0.0
        if tok.start > 0 and text[tok.start - 1] in "@#/.":
            return 0.0
        if not tok.capitalised and w in lex.stop_words:
            return 0.0  # a lower-case function or everyday word is never a name (the fast path)
        if tok.text.isupper() and len(w) > 1:
            return 0.0  # abbreviations (CLZ, GGD) are not names
        prefix = lowered[max(0, tok.start - 45):tok.start]
        after = lowered[tok.end:tok.end + 40]
        relation = bool(_RELATION_BEFORE.search(prefix))
        introduced = bool(_INTRODUCTION_BEFORE.search(prefix))
        named = bool(_STRONG_INTRODUCTION.search(prefix))
        strong = relation or named
        if _THING_NAMED_BEFORE.search(prefix) or _MEDIA_BEFORE.search(prefix):
            return 0.0
        if tok.index and tokens[tok.index - 1].capitalised:
            prev = tokens[tok.index - 1]
            if _MEDIA_BEFORE.search(lowered[max(0, prev.start - 45):prev.start]):
                return 0.0
        if _MEDIA_AFTER.match(after):
            return 0.0
        first = w in lex.first_names
        word = lex.is_word(w)
        common = lex.is_common(w)
        place = normalise(w) in lex.places or w in lex.countries
        full_end = self._surname_end(text, tokens, tok.index)
        if full_end > tok.end:  # judge what follows the whole name ("tim de graaf zegt")
            after = lowered[full_end:full_end + 40]
        person_after = bool(_PERSON_AFTER.match(after))
        if (_PERSON_AFTER_STRONG.match(after) and w not in lex.stop_words and not place
                and w not in lex.countries and w not in PUBLIC_HELP
                and (first or lex.ordinariness(w) < 0.6)):
            return 0.7  # "winter is mijn beste vriendin": the context outweighs the word
        if tok.capitalised and not tok.sentence_start:
            if first and not common:
                return 0.75 if (strong or not place) else 0.45
            if strong and not word and not place and w not in lex.countries:
                return 0.75
            if not word and not place and not first and (person_after or introduced):
                return 0.6
            if first and common and strong and w not in lex.stop_words:
                return 0.6
            return 0.0
        if tok.capitalised:  # first word of a sentence: could be any word
            if common:
                return 0.0
            if first and not word and not place:
                return 0.65
            if (first or not word) and not place and person_after:
                return 0.6
            return 0.0
        # lower case
        if common or w in lex.countries:
            return 0.0
        after_ben = prefix.rstrip(" ,").endswith("ben")
        # "ik ben fan van", "ik ben lid van": a noun that is also a name, followed by "van".
        noun_use = (after_ben and (w in lex.name_like_nouns or lex.zipf(w) >= 4.0)
                    and bool(re.match(r"\s+(?:van|voor)\b", lowered[tok.end:tok.end + 10])))
        if strong and first and not place and not noun_use:
            return 0.75
        if named and not word and not place and not after_ben:
            return 0.7  # "ik heet x": but "ik ben x" may be an adjective or an identity
        if first and not word and not place and w not in lex.name_like_nouns and len(w) > 2:
            return 0.55
        if first and not place and full_end > tok.end and not common and not noun_use:
            return 0.6  # a first name with a surname after it: "noah van der meulen"
        if first and person_after and not place:
            return 0.6
        if (relation and not place and not noun_use and len(w) > 2 and lex.ordinariness(w) < 0.3
                and (w not in lex.dutch_words or self._looks_like_name(w))):
            return 0.7  # "mijn halfzus x": a word that is no ordinary word, after a relation
        if tok.sentence_start and not word and not place and person_after and len(w) > 2:
            return 0.55
        if (self._model is not None and not place and len(w) > 2 and not first
                and (person_after or _WEAK_PERSON_BEFORE.search(prefix))
                and lex.ordinariness(w) == 0 and lex.zipf(w) < 3.0
                and lex.zipf_en.get(w, 0.0) < 3.0 and not _LAUGH.fullmatch(w)
                and self._model.probability(w) >= NAME_MODEL_THRESHOLD):
            return 0.55  # "gister zag ik weronika": a name by its look, with a weak cue
        return 0.0

    def _coordinated(self, text: str, tokens: list[Token], accepted: dict[int, float]) -> None:
        """A name-like word joined by "en" or a comma to an accepted name is a name too."""
        changed = True
        while changed:
            changed = False
            for i in list(accepted):
                for j, gap_ok in ((i - 2, True), (i + 2, True)):
                    if not 0 <= j < len(tokens) or j in accepted or not gap_ok:
                        continue
                    lo, hi = sorted((i, j))
                    between = text[tokens[lo].end:tokens[hi].start].strip().lower()
                    if tokens[lo + 1].lower not in ("en", "of", "&") or between not in (
                            "en", "of", "&"):
                        continue
                    w = tokens[j].lower
                    if w in self._lex.first_names and not self._lex.is_common(w):
                        accepted[j] = 0.6
                        changed = True

    def _looks_like_name(self, word: str) -> bool:
        """The name model's view of a rare listed word ("poetst" is a verb form, no name)."""
        return self._model is None or self._model.probability(word) >= 0.5

    def _surname_like(self, word: str, after_particle: bool) -> bool:
        """A lower-case word that may be a surname: listed and rare as a word, or unknown.

        After a particle ("van der x", "el x") a listed surname or a rare word is enough.
        """
        lex = self._lex
        if word in lex.stop_words or _HAS_DIGIT.search(word) or word in PLATFORMS:
            return False
        parts = [p for p in re.split(r"['’-]", word) if p]
        if after_particle:
            return any(p in lex.surnames or lex.ordinariness(p) < 0.3 for p in parts)
        if normalise(word) in lex.places and word not in lex.surnames:
            return False
        return all((p in lex.surnames and lex.ordinariness(p) < 0.5)
                   or (lex.ordinariness(p) == 0 and p not in lex.first_names) for p in parts)

    def _particles(self, tokens: list[Token], text: str, j: int) -> int:
        """The index after the interfixes or particles starting at j ("van der", "el")."""
        k = j
        parts: list[str] = []
        while k < len(tokens) and k - j < 3 and text[tokens[k - 1].end:tokens[k].start] == " ":
            candidate = " ".join(parts + [tokens[k].lower])
            if candidate in self._lex.interfixes or (not parts and tokens[k].lower in _PARTICLES):
                parts.append(tokens[k].lower)
                k += 1
            else:
                break
        return k

    def _surname_end(self, text: str, tokens: list[Token], i: int) -> int:
        """Extend a first name over particles and a surname ("Bram de Wit", "yara el haddouchi")."""
        end = tokens[i].end
        lower_name = not tokens[i].capitalised
        j = i + 1
        while j < len(tokens) and text[tokens[j - 1].end:tokens[j].start] == " ":
            k = self._particles(tokens, text, j)
            if k >= len(tokens) or text[tokens[k - 1].end:tokens[k].start] != " ":
                break
            tok = tokens[k]
            w = tok.lower
            if lower_name and not tok.capitalised:
                if self._surname_like(w, after_particle=k > j):
                    end = tok.end
                    j = k + 1
                    continue
                break
            if not tok.capitalised or tok.text.isupper() or _HAS_DIGIT.search(w):
                break
            if w in self._lex.surnames or not (self._lex.is_word(w)
                                               or normalise(w) in self._lex.places):
                end = tok.end
                j = k + 1
                continue
            break
        return end

    def _titled(self, text: str, tokens: list[Token]) -> Iterator[Found]:
        """"meneer de Vries", "juf Priya": the name after a title, without the title."""
        for tok in tokens:
            if not _TITLE_BEFORE.search(text[max(0, tok.start - 20):tok.start]):
                continue
            k = tok.index
            parts: list[str] = []
            while k < len(tokens) and " ".join(parts + [tokens[k].lower]) in self._lex.interfixes:
                parts.append(tokens[k].lower)
                k += 1
            if k >= len(tokens):
                continue
            name = tokens[k]
            w = name.lower
            if name.text.isupper() or _HAS_DIGIT.search(w):
                continue
            lex = self._lex
            if not (name.capitalised and not lex.is_common(w)
                    or w in lex.first_names and not lex.is_word(w)
                    or not name.capitalised and self._surname_like(w, after_particle=bool(parts))
                    or not name.capitalised and w in lex.surnames and not lex.is_common(w)):
                continue
            end = self._surname_end(text, tokens, k)
            yield Found("PERSON", tok.start, end, 0.8)
