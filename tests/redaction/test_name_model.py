"""The trained name model: reproducible from its script, and a name by its look with a weak cue.

Names here are in no name list and in neither development set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redaction import Redactor, name_model
from redaction.lexicon import load_lexicon


def test_the_shipped_model_is_what_the_script_builds(tmp_path: Path) -> None:
    rebuilt = tmp_path / "name_model.json.gz"
    scores = name_model.build(load_lexicon(), rebuilt)
    assert rebuilt.read_bytes() == name_model.ARTEFACT.read_bytes()
    assert scores["held_out_accuracy"] >= 0.8


def test_names_look_like_names_and_words_do_not() -> None:
    model = name_model.load()
    assert all(model.probability(w) >= 0.9 for w in ["yohannes", "rumaisa", "weronika"])
    assert all(model.probability(w) < 0.5 for w in ["stagebegeleider", "aanstellen", "snitch"])


@pytest.mark.parametrize(("text", "name"), [
    ("gister zag ik weronika bij de kapper", "weronika"),
    ("ik was de hele dag met yohannes", "yohannes"),
    ("rumaisa zei dat ik een loser ben", "rumaisa"),
    ("ik heb ruzie met natnael", "natnael"),
])
def test_an_unlisted_name_with_a_weak_cue(redactor: Redactor, text: str, name: str) -> None:
    start = text.index(name)
    assert any(r.entity_type == "PERSON" and r.start <= start and start + len(name) <= r.end
               for r in redactor.analyze(text))


@pytest.mark.parametrize("text", [
    "ik was met hahaha niet bezig",
    "ik heb ruzie met mijn stagebegeleider",
    "gister zag ik niks bijzonders",
])
def test_no_name_without_the_look(redactor: Redactor, text: str) -> None:
    assert [r for r in redactor.analyze(text) if r.entity_type == "PERSON"] == []
