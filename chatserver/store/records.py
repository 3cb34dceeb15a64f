"""What repositories hand back: frozen records built from rows, and the ids and times in them.

A record has exactly the fields its callers read; a row's extra columns are left behind."""

from __future__ import annotations

import secrets
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def from_row(cls: type[R], row: Row[*tuple[Any, ...]]) -> R:
    """The record of type `cls` with the row's values of the same names, as they were read."""
    values = row._mapping
    return cls(**{f.name: values[f.name] for f in fields(cls)})


def new_id() -> str:
    return secrets.token_hex(12)


def new_message_id(at: datetime) -> str:
    """24 hex digits like `new_id`, but the first 12 are the milliseconds of `at`: the unique
    index on message ids then grows at its end instead of touching a random page per message
    (the time is no secret, every message carries it in `ts`)."""
    return f"{int(at.timestamp() * 1000) & 0xFFFFFFFFFFFF:012x}{secrets.token_hex(6)}"


def utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything in the server is aware UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
