"""The targets of issue 3 on the shared development set, scored as GUIDELINES.md defines.

Skipped when the shared folder is not beside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redaction import Redactor
from redaction.evaluate import evaluate, report

DEVSET = Path(__file__).resolve().parents[3] / "shared" / "redaction" / "devset.jsonl"


@pytest.mark.skipif(not DEVSET.exists(), reason="shared/redaction/devset.jsonl not present")
def test_devset_targets(redactor: Redactor) -> None:
    redactor.analyze("warm-up: ik ben Sanne uit Utrecht")

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in redactor.analyze(text)]

    scores = evaluate(DEVSET, spans)
    print(report(scores))
    assert scores.recall >= 0.95
    assert scores.leak_free_recall >= 0.93
    assert scores.precision >= 0.90
    assert scores.percentile_ms(0.5) <= 3.0
    assert scores.percentile_ms(0.95) <= 10.0
