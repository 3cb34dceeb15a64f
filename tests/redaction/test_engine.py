"""The Redactor's API as the chat server uses it: redact, entities in original offsets, threads.

Also the entity filter and empty input.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from redaction import Redactor

MESSAGE = "ik ben Noor, 06-12345678, ik woon in Zwolle"


def test_redact_replaces_with_placeholders(redactor: Redactor) -> None:
    assert redactor.redact(MESSAGE) == "ik ben [NAAM], [TELEFOONNUMMER], ik woon in [PLAATS]"


def test_entities_point_into_the_original_text(redactor: Redactor) -> None:
    redacted, entities = redactor.redact_with_entities(MESSAGE)
    assert redacted == redactor.redact(MESSAGE)
    assert [(e["type"], MESSAGE[e["start"]:e["end"]]) for e in entities] == [
        ("PERSON", "Noor"), ("PHONE_NUMBER", "06-12345678"), ("LOCATION", "Zwolle")]


def test_analyze_returns_presidio_results(redactor: Redactor) -> None:
    results = redactor.analyze(MESSAGE)
    assert all(hasattr(r, "score") and 0 < r.score <= 1 for r in results)
    assert {r.entity_type for r in redactor.analyze(MESSAGE, ["PHONE_NUMBER"])} == {"PHONE_NUMBER"}


def test_nothing_to_redact(redactor: Redactor) -> None:
    assert redactor.redact_with_entities("") == ("", [])
    assert redactor.redact_with_entities("hoi, hoe gaat het?") == ("hoi, hoe gaat het?", [])


def test_one_redactor_serves_many_threads(redactor: Redactor) -> None:
    texts = [f"mijn vriendin Fleur belt 06-1234567{i}" for i in range(10)] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(redactor.redact, texts))
    assert all(o.startswith("mijn vriendin [NAAM] belt [TELEFOONNUMMER]") for o in outcomes)
