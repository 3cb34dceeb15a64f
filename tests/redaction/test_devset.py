"""The targets of issues 3 and 13 on the shared development sets, scored as GUIDELINES.md defines.

Skipped when the shared folder is not beside the repository. No wall-clock figures are asserted
here (they depend on the machine): `python -m redaction evaluate` prints them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redaction import Redactor
from redaction.evaluate import Scores, evaluate, report

SHARED = Path(__file__).resolve().parents[3] / "shared" / "redaction"
DEVSET = SHARED / "devset.jsonl"
CHAT = SHARED / "devset-chat.jsonl"


def _score(redactor: Redactor, path: Path) -> Scores:
    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in redactor.analyze(text)]

    scores = evaluate(path, spans)
    print(report(scores))
    return scores


@pytest.mark.skipif(not DEVSET.exists(), reason="shared/redaction/devset.jsonl not present")
def test_devset_targets(redactor: Redactor) -> None:
    scores = _score(redactor, DEVSET)
    assert scores.recall >= 0.95
    assert scores.leak_free_recall >= 0.93
    assert scores.precision >= 0.90


@pytest.mark.skipif(not CHAT.exists(), reason="shared/redaction/devset-chat.jsonl not present")
def test_chat_style_targets(redactor: Redactor) -> None:
    scores = _score(redactor, CHAT)
    assert scores.leak_free_recall >= 0.92
    assert scores.precision >= 0.95


@pytest.mark.skipif(not (DEVSET.exists() and CHAT.exists()), reason="shared dev sets not present")
@pytest.mark.parametrize("path", [DEVSET, CHAT], ids=["devset", "chat"])
def test_research_profile_targets(research: Redactor, path: Path) -> None:
    scores = _score(research, path)
    assert scores.leak_free_recall >= 0.98
    assert scores.kept_share >= 0.80

