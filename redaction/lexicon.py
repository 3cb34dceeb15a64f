"""The word lists behind the name and place recognizers, read from real sources and cached.

Dutch names, places and common words come from deduce's bundled lists (read as plain files, its
engine is never imported), spaCy's stop words, spacy-lookups-data, phonenumbers' country names and
wordfreq's Dutch and English frequencies (how ordinary a word is, rather than yes or no).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import logging
import math
import os
import pickle
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from redaction.errors import RedactionError
from redaction.pipeline.cache import versioned

logger = logging.getLogger(__name__)

# Colloquial names of Dutch towns that the official lists spell differently.
TOWN_ALIASES = (
    "den bosch", "den haag", "dordt", "mokum", "a'dam", "r'dam", "adam", "rdam", "s-hertogenbosch",
    "den helder", "bergen op zoom", "alphen", "capelle", "hengelo", "krimpen",
)

# Months and weekdays, capitalised by some writers; never places or names.
CALENDAR = frozenset(["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "kerst", "pasen", "sinterklaas"])

# Apps, platforms and brands that chatters name all the time; alone they identify nobody.
PLATFORMS = frozenset(["snapchat", "snap", "insta", "instagram", "ig", "tiktok", "whatsapp", "app", "discord", "roblox", "fortnite", "minecraft", "youtube", "twitch", "twitter", "x", "facebook", "fb", "messenger", "telegram", "signal", "google", "netflix", "spotify", "playstation", "ps4", "ps5", "xbox", "nintendo", "switch", "steam", "reddit", "pinterest", "bereal", "threads", "tinder", "grindr", "omegle", "yubo", "wattpad"])

# Function words as chat spells them: never a name or a school's name.
CHAT_FUNCTION_WORDS = frozenset(["mn", "m'n", "zn", "z'n", "dr", "d'r", "ff", "wss", "gwn", "ofzo",
                                 "nie", "ni", "kzal", "kheb", "kben", "kga", "kweet", "kwil",
                                 "kan", "tis", "tzijn", "ge", "gij", "u", "wa", "iets",
                                 "ma", "maarja", "ok", "oke", "oké", "jwz", "idk", "btw", "lol"])

# Public help services; GUIDELINES.md says naming them identifies nobody.
PUBLIC_HELP = frozenset(["kindertelefoon", "113", "veilig", "thuis", "jeugdzorg", "ggd", "politie", "huisarts", "helpwanted", "alles", "oké", "supportlijn"])


# Below this Zipf frequency a word of the lemma tables is taken for a name rather than a word;
# English words count as words from a higher frequency (chat mixes in English, names too).
WORD_ZIPF = 3.0
ENGLISH_ZIPF = 4.8
# A first name counts as a word only from here ("roos" 4.2 does; "jesse" and "noud" do not).
FIRST_NAME_WORD_ZIPF = 4.0


@dataclass(frozen=True)
class Lexicon:
    """Lower-cased word sets; place and street keys are normalised by `normalise`."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    interfixes: frozenset[str]
    places: frozenset[str]
    provinces: frozenset[str]
    countries: frozenset[str]
    dutch_words: frozenset[str]
    stop_words: frozenset[str]
    common_words: frozenset[str]
    english_words: frozenset[str]
    major_places: frozenset[str]
    name_like_nouns: frozenset[str]
    zipf_nl: dict[str, float]
    zipf_en: dict[str, float]

    def zipf(self, lower: str) -> float:
        """How often a word occurs in Dutch text, on wordfreq's Zipf scale (0 unknown, 7 "ik")."""
        return self.zipf_nl.get(lower, 0.0)

    def ordinariness(self, lower: str) -> float:
        """0 (never an ordinary word) … 1 (a function or everyday word).

        The lemma tables also hold proper names ("hoogvliet", "hoofddorp"), so being listed
        counts only as far as the word is frequent too; names and places are frequent on the web
        as well, which is why the lists and the context decide, and this only weighs.
        """
        if lower in self.stop_words or lower in self.common_words or lower in self.english_words:
            return 1.0
        nl = self.zipf_nl.get(lower, 0.0)
        en = self.zipf_en.get(lower, 0.0)
        # Unlisted words (slang, inflections the tables lack) need more frequency to count, and
        # so do first names, which are frequent on the web as names ("daan", "sanne").
        floor = WORD_ZIPF if lower in self.dutch_words else WORD_ZIPF + 1.0
        if lower in self.first_names:
            floor = max(floor, FIRST_NAME_WORD_ZIPF)
            en = 0.0 if en < FIRST_NAME_WORD_ZIPF + 0.5 else en
        return max(0.0, min(1.0, max((nl - floor) / 1.5, (en - ENGLISH_ZIPF) / 1.5)))

    def known_name(self, lower: str) -> str:
        """The first name meant by a word typed with repeated letters ("saraaa", "liesbethhh"),
        or the word itself."""
        if lower in self.first_names or not re.search(r"(\w)\1\1", lower):
            return lower
        for form in (re.sub(r"(\w)\1{2,}", r"\1\1", lower), re.sub(r"(\w)\1{2,}", r"\1", lower)):
            if form in self.first_names:
                return form
        return lower

    def inflected(self, lower: str) -> bool:
        """A plural or verb form of an ordinary word ("appen" of "app", "kussens"), by its stem."""
        for suffix in ("en", "s", "e", "t"):
            if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
                stem = lower[:-len(suffix)]
                stems = {stem, stem[:-1]} if len(stem) > 3 and stem[-1] == stem[-2] else {stem}
                if any(self.ordinariness(s) >= 0.5 for s in stems):
                    return True
        return False

    def is_word(self, lower: str) -> bool:
        """A Dutch or English word that is not only a name: listed and frequent enough."""
        if lower in self.stop_words or lower in self.common_words or lower in self.english_words:
            return True
        if lower in self.first_names:
            return (lower in self.dutch_words
                    and self.zipf_nl.get(lower, 0.0) >= FIRST_NAME_WORD_ZIPF)
        return ((lower in self.dutch_words and self.zipf_nl.get(lower, 0.0) >= WORD_ZIPF)
                or self.zipf_en.get(lower, 0.0) >= ENGLISH_ZIPF)

    def is_common(self, lower: str) -> bool:
        """A frequent function or everyday word (much stronger than `is_word`)."""
        return lower in self.stop_words or lower in self.common_words or lower in self.english_words


def normalise(text: str) -> str:
    """Lower case, hyphens and apostrophes as spaces, single spaces, "'t" as "het": the key for
    place lookups."""
    out = text.lower().replace("’", "'").replace("-", " ").replace("'", " ")
    out = " ".join(out.split())
    # "'t Gooi", "t gooi" and "het Gooi" are one place
    return "het " + out[2:] if out.startswith("t ") else out


def _deduce_root() -> Path:
    spec = importlib.util.find_spec("deduce")  # finds the files without running deduce/__init__
    if spec is None or not spec.submodule_search_locations:
        raise RedactionError("the deduce package (Dutch name and place lists) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "lookup" / "src"


def _read(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _list(root: Path, rel: str) -> set[str]:
    items = {w.lower() for w in _read(root / rel / "items.txt")}
    return items - {w.lower() for w in _read(root / rel / "exceptions.txt")}


def _verb_forms(infinitive: str) -> set[str]:
    """Present and past forms of a regular Dutch verb: the lemma tables list infinitives only."""
    if not infinitive.endswith("en") or len(infinitive) < 5:
        return set()
    stem = infinitive[:-2]
    stems = {stem}
    if len(stem) > 2 and stem[-1] == stem[-2]:
        stems.add(stem[:-1])  # kennen -> ken
    if len(stem) > 2 and stem[-2] in "aeou" and stem[-3] not in "aeiou":
        stems.add(stem[:-1] + stem[-2] + stem[-1])  # lopen -> loop
    forms = set()
    for s in stems:
        s = s[:-1] + "f" if s.endswith("v") else s[:-1] + "s" if s.endswith("z") else s
        forms |= {s, s + "t", s + "te", s + "de", s + "ten", s + "den"}
    return forms


def _lemma_words() -> tuple[set[str], set[str]]:
    """Words of the lemma tables, and the nouns apart (their index also holds proper names)."""
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None or not spec.submodule_search_locations:
        return set(), set()
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    words: set[str] = set()
    with gzip.open(data / "nl_lemma_lookup.json.gz", "rt", encoding="utf-8") as fh:
        lookup = json.load(fh)
    words.update(lookup)
    words.update(lookup.values())
    with gzip.open(data / "nl_lemma_index.json.gz", "rt", encoding="utf-8") as fh:
        index = json.load(fh)
    for pos, forms in index.items():
        if pos != "noun":
            words.update(forms)
    for verb in index.get("verb", []):
        words |= _verb_forms(verb.lower())
    return {w.lower() for w in words}, {w.lower() for w in index.get("noun", [])}


def _countries() -> set[str]:
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: set[str] = set()
    for per_language in LOCALE_DATA.values():
        for lang in ("nl", "en", "de", "fr"):
            name = per_language.get(lang)
            while name and name.startswith("*"):  # "*de": the same as the German name
                name = per_language.get(name[1:])
            if name:
                names.add(normalise(name))
    return names


def _zipf(language: str, floor: float) -> dict[str, float]:
    """wordfreq's frequencies (bundled in the package) as Zipf values, rare words left out."""
    from wordfreq import get_frequency_dict

    out: dict[str, float] = {}
    for word, freq in get_frequency_dict(language).items():
        value = round(math.log10(freq) + 9, 2)
        if value >= floor:
            out[word] = value
    return out


def build_lexicon() -> Lexicon:
    """Read every source; a few hundred milliseconds, so the result is cached."""
    from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
    from spacy.lang.nl.stop_words import STOP_WORDS as NL_STOP

    root = _deduce_root()
    places = set()
    for rel in ("lst_residence", "lst_municipality", "lst_province", "lst_region"):
        places |= {normalise(p) for p in _list(root, f"locations/lst_placename/{rel}")}
    places |= {normalise(p) for p in TOWN_ALIASES}
    stop = ({w.lower() for w in NL_STOP} | _list(root, "whitelist/lst_stop_word")
            | CHAT_FUNCTION_WORDS)
    first_names = _list(root, "names/lst_first_name")
    words, nouns = _lemma_words()
    # The noun index holds proper names too; a noun that is also a name or place is not a word.
    words |= nouns - first_names - places
    return Lexicon(
        first_names=frozenset(first_names),
        surnames=frozenset(_list(root, "names/lst_surname")
                           | _list(root, "names/lst_interfix_surname")),
        interfixes=frozenset(_list(root, "names/lst_interfix")),
        places=frozenset(places),
        provinces=frozenset(normalise(p) for p in _list(root, "locations/lst_placename/lst_province")),
        countries=frozenset(_countries()),
        dutch_words=frozenset(words),
        stop_words=frozenset(stop),
        common_words=frozenset(_list(root, "whitelist/lst_common_word")),
        english_words=frozenset(w.lower() for w in EN_STOP),
        major_places=frozenset({normalise(p) for p in TOWN_ALIASES} | {normalise(p) for rel in ("lst_municipality", "lst_province")
                               for p in _list(root, f"locations/lst_placename/{rel}")}),
        name_like_nouns=frozenset(nouns & first_names),
        zipf_nl=_zipf("nl", 2.5),
        zipf_en=_zipf("en", 2.5),
    )


@functools.cache
def load_lexicon() -> Lexicon:
    """The cached lexicon, built and written to the cache on first use; one per process (it is
    immutable, so a live and a research Redactor share it)."""
    path = versioned("lexicon.pickle")
    if path.exists():
        try:
            with path.open("rb") as fh:
                lexicon = pickle.load(fh)
            if isinstance(lexicon, Lexicon):
                return lexicon
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            logger.warning("lexicon cache unreadable, rebuilding")
    lexicon = build_lexicon()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="lexicon-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(lexicon, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        logger.warning("lexicon cache not writable; it will be rebuilt next time")
    return lexicon
