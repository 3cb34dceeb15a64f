"""Payload schemas of the Socket.IO events, in both directions, in one place.

Inbound: each parser returns clean values or raises ChatError with the protocol's code.
Outbound: one TypedDict per event (`OUTBOUND`), which the outbox builds and the test clients
check every received event against (`violations`)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from chatserver.clock import iso
from chatserver.errors import ChatError
from chatserver.store import MessageRow
from redaction import ENTITY_TYPES


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
    """One of `topics`, matched case-insensitively and returned in its canonical form."""
    value = payload.get(key)
    if value is None:
        return None
    found = canonical_topic(value, topics) if isinstance(value, str) else None
    if found is None:
        raise ChatError("invalid", f"`{key}` moet een van de onderwerpen uit de lijst zijn.")
    return found


def canonical_topic(value: str, topics: tuple[str, ...]) -> str | None:
    """The topic of the list that `value` names, whatever its case and surrounding spaces."""
    wanted = value.strip().casefold()
    return next((t for t in topics if t.casefold() == wanted), None)


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


@dataclass(frozen=True)
class BlockRequest:
    conversation_id: str | None
    days: int | None  # None: the default
    reason: str | None
    override_reason: str | None  # why a block without an earlier time-out is needed


def block_request(payload: dict[str, Any]) -> BlockRequest:
    """A block's payload, alike on /staff (`block`) and HTTP (`POST /api/moderation/blocks`)."""
    return BlockRequest(
        conversation_id=ident(payload, "conversation_id"),
        days=integer(payload, "days", 1, 3650),
        reason=optional_text(payload, "reason", 500),
        override_reason=optional_text(payload, "override_reason", 500),
    )


# -- outbound ----------------------------------------------------------------------------------

CHAT = "/chat"
STAFF = "/staff"

Reason = Literal["chatter", "volunteer", "timeout", "blocked"]


class Queue(TypedDict):
    position: int


class Paired(TypedDict):
    conversation_id: str
    volunteer: str


# "from" is a keyword: these are declared in TypedDict's functional form.
Message = TypedDict("Message", {
    "id": str, "conversation_id": str, "from": Literal["chatter", "volunteer"], "text": str,
    "ts": str,
})
ChatterTyping = TypedDict("ChatterTyping", {
    "from": Literal["volunteer"], "typing": bool,
})
StaffTyping = TypedDict("StaffTyping", {
    "conversation_id": str, "from": Literal["chatter"], "typing": bool,
})
Whisper = TypedDict("Whisper", {
    "conversation_id": str, "from": str, "text": str, "ts": str,
})


def message_payload(row: MessageRow) -> Message:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "from": "chatter" if row.sender == "chatter" else "volunteer",
        "text": row.text,
        "ts": iso(row.ts),
    }


def transcript_entry(row: MessageRow) -> dict[str, Any]:
    """A message in a transcript or `monitor`'s ack: the event's fields and `redacted`."""
    return {**message_payload(row), "redacted": row.redacted}


class Redacted(TypedDict):
    conversation_id: str
    message_id: str
    text: str


class ChatterEnded(TypedDict):
    conversation_id: str
    reason: Reason
    reference: str


class StaffEnded(TypedDict):
    conversation_id: str
    reason: Reason


class Requeued(TypedDict):
    conversation_id: str
    position: int


class _Assigned(TypedDict):
    conversation_id: str
    chatter: str
    contact_count: int
    started_at: str


class Assigned(_Assigned, total=False):
    age: int
    topic: str
    timeout_count: int


class Listed(Assigned):
    """A conversation in `state` and `list_conversations`."""

    status: Literal["waiting", "active"]
    volunteer: str | None


class QueueSize(TypedDict):
    waiting: int


class User(TypedDict):
    username: str
    display_name: str
    role: str


class State(TypedDict):
    user: User
    available: bool
    capacity: int
    waiting: int
    conversations: list[Listed]


class Entity(TypedDict):
    type: str
    start: int
    end: int


class Hints(TypedDict):
    conversation_id: str
    message_id: str
    entities: list[Entity]


class Empty(TypedDict):
    pass


OUTBOUND: dict[tuple[str, str], Any] = {
    (CHAT, "queue"): Queue,
    (CHAT, "paired"): Paired,
    (CHAT, "message"): Message,
    (CHAT, "typing"): ChatterTyping,
    (CHAT, "redacted"): Redacted,
    (CHAT, "ended"): ChatterEnded,
    (CHAT, "requeued"): Requeued,
    (STAFF, "assigned"): Assigned,
    (STAFF, "message"): Message,
    (STAFF, "typing"): StaffTyping,
    (STAFF, "redacted"): Redacted,
    (STAFF, "whisper"): Whisper,
    (STAFF, "ended"): StaffEnded,
    (STAFF, "queue_size"): QueueSize,
    (STAFF, "state"): State,
    (STAFF, "hints"): Hints,
    (STAFF, "conversations_changed"): Empty,
}


def violations(namespace: str, event: str, payload: Any) -> list[str]:
    """What is wrong with an emitted event against its definition (empty: nothing)."""
    schema = OUTBOUND.get((namespace, event))
    if schema is None:
        return [f"{namespace} {event}: no such outbound event"]
    return _check(payload, schema, f"{namespace} {event}")


def _check(value: Any, expected: Any, where: str) -> list[str]:
    origin = typing.get_origin(expected)
    if expected is Any:
        return []
    if expected is None or expected is type(None):
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        return [] if any(not _check(value, o, where) for o in options) else [
            f"{where}: {value!r} is none of {options}"]
    if origin is Literal:
        return [] if value in typing.get_args(expected) else [
            f"{where}: {value!r} not in {typing.get_args(expected)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        (item,) = typing.get_args(expected)
        return [v for i, x in enumerate(value) for v in _check(x, item, f"{where}[{i}]")]
    if typing.is_typeddict(expected):
        return _check_dict(value, expected, where)
    if expected is int and isinstance(value, bool):
        return [f"{where}: {value!r} is not an int"]
    return [] if isinstance(value, expected) else [
        f"{where}: {value!r} is not {expected.__name__}"]


def _check_dict(value: Any, schema: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not an object"]
    hints = typing.get_type_hints(schema)
    problems = [f"{where}: missing `{k}`" for k in schema.__required_keys__ if k not in value]
    problems += [f"{where}: unexpected `{k}`" for k in value if k not in hints]
    for key, typ in hints.items():
        if key in value:
            problems += _check(value[key], typ, f"{where}.{key}")
    return problems
