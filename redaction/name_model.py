"""A small trained model of how names look, for words that no list knows ("weronika", "rumaisa").

Naive Bayes over character n-grams, trained on deduce's first names and surnames against ordinary
Dutch and English words by wordfreq; never on the development sets. Rebuilt reproducibly by
`python -m redaction train-name-model` (fixed seed); the shipped artefact is `data/name_model.json.gz`.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from redaction.errors import RedactionError
from redaction.lexicon import Lexicon

ARTEFACT = Path(__file__).resolve().parent / "data" / "name_model.json.gz"
SEED = 13
NGRAMS = (2, 3, 4)
# Words per class; the held-out share is scored and reported by the training command.
PER_CLASS = 12000
HELD_OUT = 0.1
# n-grams seen fewer times than this in training are dropped (keeps the artefact small).
MIN_COUNT = 3


def ngrams(word: str) -> list[str]:
    padded = f"^{word.lower()}$"
    return [padded[i:i + n] for n in NGRAMS for i in range(len(padded) - n + 1)]


@dataclass(frozen=True)
class NameModel:
    """Log-likelihood ratios of n-grams (name over word) and the prior log-odds."""

    weights: dict[str, float]
    prior: float

    def log_odds(self, word: str) -> float:
        return self.prior + sum(self.weights.get(g, 0.0) for g in ngrams(word))

    def probability(self, word: str) -> float:
        """How likely `word` is a name rather than an ordinary word, 0 … 1."""
        z = max(-30.0, min(30.0, self.log_odds(word) / len(ngrams(word)) * 4))
        return 1 / (1 + math.exp(-z))


def load() -> NameModel:
    """The shipped model; a missing or broken artefact is a configuration error."""
    try:
        with gzip.open(ARTEFACT, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        return NameModel({str(k): float(v) for k, v in data["weights"].items()},
                         float(data["prior"]))
    except (OSError, ValueError, KeyError) as exc:
        raise RedactionError(f"the name model {ARTEFACT} cannot be read ({exc}); rebuild it with "
                             "`python -m redaction train-name-model`") from exc


def training_words(lexicon: Lexicon, seed: int = SEED) -> tuple[list[str], list[str]]:
    """(names, words): names from the name lists that are no ordinary words, and ordinary
    words that are no names, places or countries; the same sample for the same seed."""
    names = sorted(w for w in lexicon.first_names | lexicon.surnames
                   if w.isalpha() and len(w) >= 3 and lexicon.ordinariness(w) < 0.3)
    not_words = lexicon.first_names | lexicon.surnames | lexicon.places | lexicon.countries
    words = sorted(w for w, z in lexicon.zipf_nl.items()
                   if z >= 2.5 and w.isalpha() and len(w) >= 3 and w not in not_words
                   and w in lexicon.dutch_words)
    words += sorted(w for w, z in lexicon.zipf_en.items()
                    if z >= 3.5 and w.isalpha() and len(w) >= 3 and w not in not_words)
    rng = random.Random(seed)
    return (rng.sample(names, min(PER_CLASS, len(names))),
            rng.sample(sorted(set(words)), min(PER_CLASS, len(set(words)))))


def train(names: list[str], words: list[str]) -> NameModel:
    """Naive Bayes with add-one smoothing over the n-grams of both classes."""
    name_counts: Counter[str] = Counter(g for w in names for g in ngrams(w))
    word_counts: Counter[str] = Counter(g for w in words for g in ngrams(w))
    vocabulary = {g for g in name_counts | word_counts
                  if name_counts[g] + word_counts[g] >= MIN_COUNT}
    n_total = sum(name_counts[g] for g in vocabulary) + len(vocabulary)
    w_total = sum(word_counts[g] for g in vocabulary) + len(vocabulary)
    weights = {g: round(math.log((name_counts[g] + 1) / n_total)
                        - math.log((word_counts[g] + 1) / w_total), 3) for g in sorted(vocabulary)}
    return NameModel(weights, round(math.log(len(names) / len(words)), 3))


def build(lexicon: Lexicon, path: Path = ARTEFACT, seed: int = SEED) -> dict[str, float]:
    """Train on a seeded split, score the held-out part, write the artefact; the scores."""
    names, words = training_words(lexicon, seed)
    cut_n, cut_w = int(len(names) * (1 - HELD_OUT)), int(len(words) * (1 - HELD_OUT))
    model = train(names[:cut_n], words[:cut_w])
    held = [(w, True) for w in names[cut_n:]] + [(w, False) for w in words[cut_w:]]
    correct = sum((model.probability(w) >= 0.5) is is_name for w, is_name in held)
    confident = [(w, n) for w, n in held if model.probability(w) >= 0.85]
    precision = sum(n for _, n in confident) / len(confident) if confident else 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"seed": seed, "ngrams": list(NGRAMS), "prior": model.prior,
               "weights": model.weights}
    # mtime=0 and sorted keys: the same seed gives the same bytes.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return {"names": len(names), "words": len(words), "held_out": len(held),
            "held_out_accuracy": round(correct / len(held), 4),
            "precision_at_0.85": round(precision, 4), "ngrams_kept": len(model.weights)}
