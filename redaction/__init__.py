"""Finds and removes identifying details in Dutch chat messages (see docs/redaction.md).

Standalone: never imports the chat server. Importing it loads nothing and logs nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from redaction.errors import RedactionError
from redaction.placeholders import (
    ENTITY_TYPES,
    GENERIC_PLACEHOLDER,
    PLACEHOLDERS,
    SUPPRESSED,
    SUPPRESSED_PLACEHOLDER,
    placeholder_for,
    redact_span,
)

if TYPE_CHECKING:
    from redaction.engine import Redactor

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ENTITY_TYPES",
    "GENERIC_PLACEHOLDER",
    "PLACEHOLDERS",
    "SUPPRESSED",
    "SUPPRESSED_PLACEHOLDER",
    "RedactionError",
    "Redactor",
    "placeholder_for",
    "redact_span",
]


def __getattr__(name: str) -> Any:
    # Presidio and spaCy are imported only when a Redactor is wanted: importing is cheap.
    if name == "Redactor":
        from redaction.engine import Redactor

        return Redactor
    raise AttributeError(name)
