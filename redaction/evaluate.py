"""The scoring of GUIDELINES.md: token precision, recall and F2, leak-free recall, latency.

Tokens are maximal runs of \\w; types do not matter for token scores. Also the share of tokens
that are not identifying and were kept (what the research profile must leave readable).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"\w+")

Span = tuple[int, int, str]


@dataclass
class Scores:
    """Counts and timings over a file of annotated messages."""

    all_tokens: int = 0
    gold_tokens: int = 0
    predicted_tokens: int = 0
    both_tokens: int = 0
    gold_spans: int = 0
    leak_free_spans: int = 0
    per_type: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0

    @property
    def precision(self) -> float:
        return self.both_tokens / self.predicted_tokens if self.predicted_tokens else 1.0

    @property
    def recall(self) -> float:
        return self.both_tokens / self.gold_tokens if self.gold_tokens else 1.0

    @property
    def f2(self) -> float:
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if (4 * p + r) else 0.0

    @property
    def kept_share(self) -> float:
        """Of the tokens that are not identifying, the share that no span covers."""
        innocent = self.all_tokens - self.gold_tokens
        over_redacted = self.predicted_tokens - self.both_tokens
        return (innocent - over_redacted) / innocent if innocent else 1.0

    @property
    def leak_free_recall(self) -> float:
        return self.leak_free_spans / self.gold_spans if self.gold_spans else 1.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "token_precision": round(self.precision, 4),
            "token_recall": round(self.recall, 4),
            "token_f2": round(self.f2, 4),
            "leak_free_recall": round(self.leak_free_recall, 4),
            "kept_share": round(self.kept_share, 4),
            "per_type_leak_free_recall": {
                t: round(ok / n, 4) for t, (ok, n) in sorted(self.per_type.items())},
            "per_type_counts": {t: n for t, (_, n) in sorted(self.per_type.items())},
            "median_ms": round(statistics.median(self.latencies_ms), 3) if self.latencies_ms else 0,
            "p95_ms": round(self.percentile_ms(0.95), 3),
            "misses": len(self.misses),
            "false_positives": len(self.false_positives),
        }


def tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _overlaps(tok: tuple[int, int], spans: Iterable[Span]) -> bool:
    return any(tok[0] < e and s < tok[1] for s, e, _ in spans)


def score_message(text: str, gold: list[Span], predicted: list[Span], scores: Scores,
                  message_id: str = "") -> None:
    """Add one message's counts to `scores`."""
    scores.messages += 1
    toks = tokens(text)
    gold_set = {t for t in toks if _overlaps(t, gold)}
    pred_set = {t for t in toks if _overlaps(t, predicted)}
    scores.all_tokens += len(toks)
    scores.gold_tokens += len(gold_set)
    scores.predicted_tokens += len(pred_set)
    scores.both_tokens += len(gold_set & pred_set)
    for s, e, label in gold:
        span_tokens = [t for t in toks if t[0] < e and s < t[1]]
        ok = all(t in pred_set for t in span_tokens)
        scores.gold_spans += 1
        scores.leak_free_spans += ok
        scores.per_type[label][0] += ok
        scores.per_type[label][1] += 1
        if not ok:
            scores.misses.append({"id": message_id, "type": label, "text": text[s:e],
                                  "message": text})
    for s, e, label in predicted:
        span_tokens = [t for t in toks if t[0] < e and s < t[1]]
        if span_tokens and not any(t in gold_set for t in span_tokens):
            scores.false_positives.append({"id": message_id, "type": label, "text": text[s:e],
                                           "message": text})


def evaluate(path: Path, analyze: Callable[[str], list[Span]]) -> Scores:
    """Run `analyze` over every message of a JSONL file, single-threaded, timing each call."""
    scores = Scores()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        gold = [(s["start"], s["end"], s["label"]) for s in record.get("spans", [])]
        started = time.perf_counter()
        predicted = analyze(text)
        scores.latencies_ms.append((time.perf_counter() - started) * 1000)
        score_message(text, gold, predicted, scores, str(record.get("id", "")))
    return scores


def report(scores: Scores, verbose: bool = False) -> str:
    """Human-readable lines, misses and false positives when verbose, and a JSON line last."""
    s = scores.summary()
    lines = [
        f"messages            {s['messages']}",
        f"token precision     {s['token_precision']:.4f}",
        f"token recall        {s['token_recall']:.4f}",
        f"token F2            {s['token_f2']:.4f}",
        f"leak-free recall    {s['leak_free_recall']:.4f}",
        f"non-identifying tokens kept {s['kept_share']:.4f}",
        f"latency ms          median {s['median_ms']:.3f}  p95 {s['p95_ms']:.3f}",
        "per type (leak-free recall, gold spans):",
    ]
    for t, v in s["per_type_leak_free_recall"].items():
        lines.append(f"  {t:<16} {v:.4f}  ({s['per_type_counts'][t]})")
    if verbose:
        lines.append(f"misses ({len(scores.misses)}):")
        for m in scores.misses:
            lines.append(f"  MISS {m['id']} {m['type']}: {m['text']!r}  in  {m['message']!r}")
        lines.append(f"false positives ({len(scores.false_positives)}):")
        for m in scores.false_positives:
            lines.append(f"  FP   {m['id']} {m['type']}: {m['text']!r}  in  {m['message']!r}")
    lines.append(json.dumps(s, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines)
