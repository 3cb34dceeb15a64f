"""The base of every Dutch recognizer: find spans in a text, hand them to Presidio as results.

Recognizers are mostly data (patterns, context words) plus a validation step, kept free of I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

LANGUAGE = "nl"


@dataclass(frozen=True)
class Found:
    """One detail found: its type, where it is, how sure the recognizer is."""

    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Token:
    """A word of the text with its offsets and the facts the name rules use."""

    text: str
    start: int
    end: int
    index: int
    sentence_start: bool

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


_TOKEN = re.compile(r"\w+(?:['’-]\w+)*")
_SENTENCE_BREAK = re.compile(r"[.!?\n:;()\"]|[^\w\s,'’-]")


def tokenize(text: str) -> list[Token]:
    """Words with offsets; a token starts a sentence after . ! ? : ; a newline or an emoji."""
    tokens: list[Token] = []
    previous_end = 0
    for i, m in enumerate(_TOKEN.finditer(text)):
        gap = text[previous_end:m.start()]
        starts = i == 0 or bool(_SENTENCE_BREAK.search(gap))
        tokens.append(Token(m.group(), m.start(), m.end(), i, starts))
        previous_end = m.end()
    return tokens


def trim(text: str, start: int, end: int, chars: str = ".,;:!?)('\"") -> tuple[int, int]:
    """The span without punctuation at its edges."""
    while end > start and text[end - 1] in chars:
        end -= 1
    while start < end and text[start] in chars:
        start += 1
    return start, end


class DutchRecognizer(EntityRecognizer):
    """A recognizer for `nl` whose subclasses only implement `find`."""

    ENTITIES: tuple[str, ...] = ()
    CONTEXT: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), name=type(self).__name__,
                         supported_language=LANGUAGE, context=list(self.CONTEXT), **kwargs)

    def load(self) -> None:
        """Nothing to load: data arrives through the constructor."""

    def find(self, text: str) -> Iterable[Found]:
        raise NotImplementedError

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: Any = None) -> list[RecognizerResult]:
        wanted = set(entities) if entities else set(self.ENTITIES)
        return [self._result(f) for f in self.find(text) if f.entity_type in wanted]

    def _result(self, found: Found) -> RecognizerResult:
        name = type(self).__name__
        explanation = AnalysisExplanation(recognizer=name, original_score=found.score)
        return RecognizerResult(
            entity_type=found.entity_type, start=found.start, end=found.end, score=found.score,
            analysis_explanation=explanation,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )


def before(text: str, start: int, width: int = 40) -> str:
    """The lower-cased text just before `start`, for context rules."""
    return text[max(0, start - width):start].lower()


def iter_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    return pattern.finditer(text)
