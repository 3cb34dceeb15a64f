"""The entity types of GUIDELINES.md and their Dutch placeholders.

Also the helpers a volunteer's manual selection needs: a placeholder for a type, a span replaced.
"""

from __future__ import annotations

PLACEHOLDERS: dict[str, str] = {
    "PERSON": "[NAAM]",
    "LOCATION": "[PLAATS]",
    "NEIGHBOURHOOD": "[WIJK]",
    "ADDRESS": "[ADRES]",
    "POSTCODE": "[POSTCODE]",
    "SCHOOL": "[SCHOOL]",
    "SPORTS_CLUB": "[SPORTCLUB]",
    "ORGANIZATION": "[ORGANISATIE]",
    "PHONE_NUMBER": "[TELEFOONNUMMER]",
    "EMAIL_ADDRESS": "[E-MAIL]",
    "SOCIAL_HANDLE": "[GEBRUIKERSNAAM]",
    "URL": "[URL]",
    "IBAN": "[IBAN]",
    "BSN": "[BSN]",
    "LICENSE_PLATE": "[KENTEKEN]",
    "DATE_OF_BIRTH": "[GEBOORTEDATUM]",
    "IP_ADDRESS": "[IP-ADRES]",
}

ENTITY_TYPES: tuple[str, ...] = tuple(PLACEHOLDERS)

# What the research profile writes for any other word it suppresses (PROTOCOL.md).
SUPPRESSED = "SUPPRESSED"
SUPPRESSED_PLACEHOLDER = "[WOORD]"

# A manual selection of unknown kind still has to disappear; this is the neutral placeholder.
GENERIC_PLACEHOLDER = "[VERWIJDERD]"


def placeholder_for(entity_type: str | None) -> str:
    """The placeholder for `entity_type`; the generic one for None or an unknown type."""
    if entity_type is None:
        return GENERIC_PLACEHOLDER
    if entity_type == SUPPRESSED:
        return SUPPRESSED_PLACEHOLDER
    return PLACEHOLDERS.get(entity_type, GENERIC_PLACEHOLDER)


def redact_span(text: str, start: int, end: int, entity_type: str | None = None) -> str:
    """`text` with `text[start:end]` replaced by the placeholder of `entity_type`."""
    if not 0 <= start < end <= len(text):
        raise ValueError(f"span {start}:{end} outside a text of length {len(text)}")
    return text[:start] + placeholder_for(entity_type) + text[end:]
