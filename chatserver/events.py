"""Payload schemas of the Socket.IO events, checked in one place.

Each parser returns clean values or raises ChatError with the protocol's code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatserver.errors import ChatError

ENTITY_TYPES = (
    "PERSON", "LOCATION", "NEIGHBOURHOOD", "ADDRESS", "POSTCODE", "SCHOOL", "SPORTS_CLUB",
    "ORGANIZATION", "PHONE_NUMBER", "EMAIL_ADDRESS", "SOCIAL_HANDLE", "URL", "IBAN", "BSN",
    "LICENSE_PLATE", "DATE_OF_BIRTH", "IP_ADDRESS",
)


def obj(payload: Any) -> dict[str, Any]:
    """Every payload is a JSON object; `None` (no payload) counts as an empty one."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ChatError("invalid", "Het bericht moet een object zijn.")
    return payload


def text(payload: dict[str, Any], max_length: int, key: str = "text") -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise ChatError("invalid", f"`{key}` moet tekst zijn.")
    if len(value) > max_length:
        raise ChatError("too_long", max_length=max_length)
    if not value.strip():
        raise ChatError("empty")
    return value


def ident(payload: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ChatError("invalid", f"`{key}` ontbreekt of is ongeldig.")
    return value


def integer(payload: dict[str, Any], key: str, lo: int, hi: int) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ChatError("invalid", f"`{key}` moet een getal tussen {lo} en {hi} zijn.")
    return value


def boolean(payload: dict[str, Any], key: str) -> bool:
    value = payload.get(key)
    if not isinstance(value, bool):
        raise ChatError("invalid", f"`{key}` moet true of false zijn.")
    return value


def topic(payload: dict[str, Any], topics: tuple[str, ...], key: str = "topic") -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in topics:
        raise ChatError("invalid", f"`{key}` moet een van de onderwerpen uit de lijst zijn.")
    return value


def optional_text(payload: dict[str, Any], key: str, max_length: int) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ChatError("invalid", f"`{key}` moet tekst van hoogstens {max_length} tekens zijn.")
    return value.strip() or None


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str


def span(payload: dict[str, Any], text_length: int) -> Span:
    start = integer(payload, "start", 0, text_length)
    end = integer(payload, "end", 0, text_length)
    kind = payload.get("type")
    if start is None or end is None or start >= end:
        raise ChatError("invalid", "`start` en `end` moeten een stuk van de tekst aanwijzen.")
    if kind not in ENTITY_TYPES:
        raise ChatError("invalid", "`type` moet een soort persoonsgegeven uit de lijst zijn.")
    return Span(start, end, str(kind))
