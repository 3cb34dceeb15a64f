"""Names written in lower case after a type word or a cue: "roc da vinci", "bij albert heijn".

A name runs over words that are no function words, up to a limit; an article may open it.
"""

from __future__ import annotations

import re

from redaction.lexicon import CALENDAR, PLATFORMS, PUBLIC_HELP, Lexicon, normalise

_WORD = re.compile(r"'t(?!\w)|[^\W\d_][\w'’&-]*|\d{1,4}(?![\w-])|'\d{2}(?!\w)")
ARTICLES = frozenset(["de", "het", "'t", "t"])


def name_phrase(text: str, pos: int, lexicon: Lexicon, *, limit: int = 3,
                max_ordinariness: float = 0.5, after_article: float = 0.8,
                numbers: bool = False) -> tuple[int, int] | None:
    """(start, end) of a lower-case name starting at `pos` (spaces skipped, article left out).

    Without an article every word must be rare as a word (`max_ordinariness`); after one ("het
    baken") ordinary words may be names too, up to `after_article`. Numbers may end a club's name.
    """
    start: int | None = None
    end: int | None = None
    words = 0
    article = False
    cursor = pos
    while words < limit:
        gap = re.match(r"[ \t]*", text[cursor:])
        assert gap is not None
        at = cursor + gap.end()
        if end is not None and at == cursor:
            break  # words must be separated by spaces
        m = _WORD.match(text, at)
        if not m:
            break
        word = m.group().lower()
        if word[0].isdigit() or word.startswith("'"):
            if numbers and end is not None:
                end = m.end()
            break
        if start is None and word in ARTICLES and not article:
            article = True
            cursor = m.end()
            continue
        if (word in lexicon.stop_words or word in PLATFORMS or word in PUBLIC_HELP
                or word in CALENDAR or word in lexicon.countries):
            break
        bound = after_article if article and words == 0 else max_ordinariness
        # A known place is part of a name however common ("hc rotterdam", "roc van twente").
        ordinary = lexicon.ordinariness(word)
        place = normalise(word) in lexicon.major_places or (
            normalise(word) in lexicon.places and ordinary < 0.95)
        if ordinary > bound and not place:
            break
        if start is None:
            start = at
        end = m.end()
        words += 1
        cursor = m.end()
    if end is None or start is None or words == 0:
        return None
    return start, end
