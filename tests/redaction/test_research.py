"""The research profile: every detail goes, and so does every word that is no ordinary word.

Sentences written for these tests; none comes from either development set.
"""

from __future__ import annotations

import pytest

from redaction import SUPPRESSED, RedactionError, Redactor, placeholder_for
from redaction.evaluate import Scores, score_message
from redaction.lexicon import load_lexicon
from redaction.research import WordJudge


@pytest.fixture(scope="module")
def judge() -> WordJudge:
    return WordJudge(load_lexicon())


# Readable text a researcher needs stays as it is.
KEPT = [
    "ik voel me zo eenzaam en bang",
    "ik zit in 3 havo en mn mentor luistert niet",
    "bel de kindertelefoon of 113 als het niet meer gaat",
    "mijn ouders hebben elke avond ruzie en ik kan niet slapen",
    "idk wat ik moet doen lol",
    "i feel so alone and nobody cares",
    "heyyy ik ben zooo moeee",
    "mijn pleeggezin is wel lief maar ik mis thuis",
]

# (text, words that must not survive)
GONE = [
    ("we chillen altijd bij de zwartewaalbrug", ["zwartewaalbrug"]),
    ("hij woont achter de vismarktsteeg", ["vismarktsteeg"]),
    ("we hangen rond bij snackbar ozzy", ["ozzy"]),
    ("gister bij de kapsalon van yusuf in kerkrade", ["yusuf", "kerkrade"]),
    ("ik ga met jorrit en ilse naar de film", ["jorrit", "ilse"]),
    ("mn nummer is 0687654321 en mn postcode 2512 ht", ["0687654321", "2512"]),
    ("we hangen bij van der zwaluwhorst", ["van der", "zwaluwhorst"]),
    ("mijn verjaardag is de 4e van mei", ["4e", "mei"]),
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_words_stay(research: Redactor, text: str) -> None:
    assert research.redact(text) == text


@pytest.mark.parametrize(("text", "words"), GONE)
def test_every_word_that_could_identify_goes(research: Redactor, text: str,
                                             words: list[str]) -> None:
    redacted = research.redact(text)
    assert not [w for w in words if w in redacted], redacted


def test_a_particle_stays_before_a_place(research: Redactor) -> None:
    assert research.redact("we wonen in het centrum van zwolle") == (
        "we wonen in het centrum van [PLAATS]")


def test_suppressed_words_get_their_own_placeholder(research: Redactor) -> None:
    text = "we chillen bij de zwartewaalbrug met noor"
    results = research.analyze(text)
    assert [(r.entity_type, text[r.start:r.end]) for r in results] == [
        (SUPPRESSED, "zwartewaalbrug"), ("PERSON", "noor")]
    assert research.redact(text) == "we chillen bij de [WOORD] met [NAAM]"
    assert placeholder_for(SUPPRESSED) == "[WOORD]"


def test_asking_for_some_types_suppresses_nothing_else(research: Redactor) -> None:
    text = "bel 0612345678 bij de zwartewaalbrug"
    assert {r.entity_type for r in research.analyze(text, ["PHONE_NUMBER"])} == {"PHONE_NUMBER"}


def test_an_unknown_profile_is_refused_at_construction() -> None:
    with pytest.raises(RedactionError):
        Redactor(profile="lenient")


@pytest.mark.parametrize(("word", "kept"), [
    ("verdrietig", True), ("school", True), ("bank", True), ("14", True), ("2010", True),
    ("3e", True), ("kanaleneiland", False), ("lisa", False), ("mohammed", False),
    ("123456", False), ("x7k2", False), ("zwartewaalbrug", False), ("marokko", True),
])
def test_the_word_judge(judge: WordJudge, word: str, kept: bool) -> None:
    assert judge.keeps(word) is kept


def test_the_share_of_innocent_tokens_kept() -> None:
    scores = Scores()
    text = "ik ben noor uit ede en ik ben bang"
    gold = [(7, 11, "PERSON"), (16, 19, "LOCATION")]
    predicted = gold + [(23, 25, "SUPPRESSED")]  # "ik" suppressed: one of 7 innocent tokens
    score_message(text, gold, predicted, scores)
    assert scores.leak_free_recall == 1.0
    assert scores.kept_share == pytest.approx(6 / 7)
