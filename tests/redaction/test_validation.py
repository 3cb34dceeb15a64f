"""The pure validation rules (checksums, number forms) and the placeholder helpers.

No Redactor needed.
"""

from __future__ import annotations

import pytest

from redaction import ENTITY_TYPES, PLACEHOLDERS, placeholder_for, redact_span
from redaction.recognizers.bsn import eleven_check
from redaction.recognizers.iban import mod97
from redaction.recognizers.phone import national_digits


@pytest.mark.parametrize(("number", "valid"), [
    ("111222333", True), ("123456782", True), ("123456789", False), ("000000000", False),
    ("12345678", False),
])
def test_bsn_eleven_check(number: str, valid: bool) -> None:
    assert eleven_check(number) is valid


@pytest.mark.parametrize(("iban", "valid"), [
    ("NL91ABNA0417164300", True), ("nl91abna0417164300", True), ("NL91ABNA0417164301", False),
    ("BE71096123456769", True), ("NL91ABNA041716430", False),
])
def test_iban_mod97(iban: str, valid: bool) -> None:
    assert mod97(iban) is valid


@pytest.mark.parametrize(("raw", "national"), [
    ("+31 6 12345678", "0612345678"), ("0031612345678", "0612345678"),
    ("+31 (0)6 12345678", "0612345678"), ("06-12345678", "0612345678"),
])
def test_phone_national_form(raw: str, national: str) -> None:
    assert national_digits(raw) == national


def test_every_type_has_a_dutch_placeholder() -> None:
    assert len(ENTITY_TYPES) == 17
    assert placeholder_for("PERSON") == "[NAAM]"
    assert placeholder_for("IP_ADDRESS") == "[IP-ADRES]"
    assert placeholder_for(None) == placeholder_for("UNKNOWN") == "[VERWIJDERD]"
    assert all(p.startswith("[") and p.endswith("]") for p in PLACEHOLDERS.values())


def test_redact_span_replaces_a_manual_selection() -> None:
    assert redact_span("ik ben Sanne!", 7, 12, "PERSON") == "ik ben [NAAM]!"
    with pytest.raises(ValueError):
        redact_span("kort", 2, 10, "PERSON")
