"""The two checks every table of recognizer cases makes: each expected part is covered by a
result of its type, and innocent text yields nothing."""

from __future__ import annotations

from redaction import Redactor


def assert_found(redactor: Redactor, text: str, expected: list[tuple[str, str]]) -> None:
    results = redactor.analyze(text)
    for entity_type, part in expected:
        start = text.index(part)
        end = start + len(part)
        covering = [r for r in results if r.start <= start and end <= r.end]
        assert covering, f"{part!r} not covered in {text!r}: {results}"
        assert any(r.entity_type == entity_type for r in covering), (part, covering)


def assert_nothing(redactor: Redactor, text: str) -> None:
    found = [(r.entity_type, text[r.start:r.end]) for r in redactor.analyze(text)]
    assert found == []
