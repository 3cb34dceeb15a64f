"""The Redactor: Presidio's analyzer with the Dutch recognizers, and its anonymizer, built once.

Two profiles: "live" (flags and hints) and "research" (anonymised research copies, which also
suppresses every remaining word that could identify someone). Thread-safe: calls share a lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from redaction import _offline, name_model
from redaction.errors import RedactionError
from redaction.lexicon import load_lexicon
from redaction.normalise import for_matching
from redaction.pipeline.cache import cache_dir
from redaction.placeholders import ENTITY_TYPES, PLACEHOLDERS, SUPPRESSED, SUPPRESSED_PLACEHOLDER
from redaction.recognizers import dutch_recognizers
from redaction.research import WordJudge

logger = logging.getLogger(__name__)

DEFAULT_SCORE_THRESHOLD = 0.5
PROFILES = ("live", "research")
# The score of a word the research profile suppresses: below any recognizer's own result, so a
# detail that overlaps it keeps its type.
SUPPRESSED_SCORE = 0.4


@dataclass(frozen=True)
class Entity:
    """A detail found, with offsets in the original text."""

    type: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end}


class Redactor:
    """Finds and replaces identifying details in Dutch chat messages."""

    def __init__(self, *, profile: str = "live",
                 score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                 spacy_model: str | None = None) -> None:
        if profile not in PROFILES:
            raise RedactionError(f"unknown redaction profile {profile!r}; one of {PROFILES}")
        self.profile = profile
        _offline.prepare(cache_dir())
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        from redaction.pipeline.nl import build_nlp_engine, configured_model

        trained = spacy_model or configured_model()
        nlp_engine = build_nlp_engine(trained)
        registry = RecognizerRegistry(supported_languages=["nl"])
        lexicon = load_lexicon()
        self._judge = WordJudge(lexicon) if profile == "research" else None
        for recognizer in dutch_recognizers(lexicon, name_model.load()):
            registry.add_recognizer(recognizer)
        if trained:
            from presidio_analyzer.predefined_recognizers import SpacyRecognizer

            registry.add_recognizer(SpacyRecognizer(
                supported_language="nl",
                supported_entities=["PERSON", "LOCATION", "ORGANIZATION"]))
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["nl"],
            default_score_threshold=score_threshold,
            context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
        )
        self._anonymizer = AnonymizerEngine()
        self._operators = {t: OperatorConfig("replace", {"new_value": p})
                           for t, p in PLACEHOLDERS.items()}
        self._operators[SUPPRESSED] = OperatorConfig("replace", {"new_value": SUPPRESSED_PLACEHOLDER})
        self._lock = threading.Lock()
        logger.info("redactor ready")

    def analyze(self, text: str, entities: list[str] | None = None) -> list[Any]:
        """Presidio `RecognizerResult`s, overlaps merged, sorted by position.

        In the research profile, every other word it suppresses is a result of type SUPPRESSED.
        """
        if not text.strip():
            return []
        wanted = list(entities) if entities else list(ENTITY_TYPES)
        text = for_matching(text)  # same length: offsets stay those of the original
        with self._lock:
            raw = self._analyzer.analyze(text=text, language="nl", entities=wanted)
        if self._judge is not None and not entities:
            raw = _merge(text, raw)
            taken = [(r.start, r.end) for r in raw]
            raw += [_suppressed(start, end) for start, end in self._judge.suppressed(text, taken)]
        return _merge(text, raw)

    def redact(self, text: str, entities: list[str] | None = None) -> str:
        """`text` with every detail replaced by its Dutch placeholder."""
        return self.redact_with_entities(text, entities)[0]

    def redact_with_entities(self, text: str, entities: list[str] | None = None
                             ) -> tuple[str, list[dict[str, Any]]]:
        """The redacted text and the details found, as {type, start, end} in the original."""
        results = self.analyze(text, entities)
        if not results:
            return text, []
        with self._lock:
            redacted = self._anonymizer.anonymize(
                text=text, analyzer_results=results, operators=self._operators).text
        return redacted, [Entity(r.entity_type, r.start, r.end).as_dict() for r in results]


def _suppressed(start: int, end: int) -> Any:
    from presidio_analyzer import AnalysisExplanation, RecognizerResult

    return RecognizerResult(SUPPRESSED, start, end, SUPPRESSED_SCORE, AnalysisExplanation(
        recognizer="WordJudge", original_score=SUPPRESSED_SCORE))


def _merge(text: str, results: list[Any]) -> list[Any]:
    """Overlapping results become one covering both (a half-redacted detail is a leak).

    The merged result keeps the type of the more confident part.
    """
    ordered = sorted(results, key=lambda r: (r.start, -r.end))
    merged: list[Any] = []
    for r in ordered:
        r.start, r.end = _strip(text, r.start, r.end)
        if r.end <= r.start:
            continue
        if merged and r.start < merged[-1].end:
            last = merged[-1]
            if r.score > last.score:
                last.entity_type, last.score = r.entity_type, r.score
            last.end = max(last.end, r.end)
            continue
        merged.append(r)
    return merged


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
