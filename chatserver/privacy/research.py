"""The research store read back: anonymised conversations as JSON lines or CSV.

Only research tables are read here, so an export can hold nothing but anonymised data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from chatserver.store import ResearchConversation, Store

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("conversation", "day", "age", "topic", "waiting_seconds", "duration_seconds",
               "message_count", "left_queue", "end_reason", "position", "from", "text")
PAGE = 500


def parse_day(raw: str | None, name: str) -> date | None:
    """A `YYYY-MM-DD` date (or a longer ISO timestamp, cut to its day); ValueError otherwise."""
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError as exc:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from exc


def _conversation(row: ResearchConversation, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "day": row.day.isoformat(),
        "age": row.age,
        "topic": row.topic,
        "waiting_seconds": row.waiting_seconds,
        "duration_seconds": row.duration_seconds,
        "message_count": row.message_count,
        "left_queue": bool(row.left_queue),
        "end_reason": row.end_reason,
        "messages": messages,
    }


async def conversations(store: Store, since: date | None, until: date | None
                        ) -> AsyncIterator[dict[str, Any]]:
    """Research conversations with their messages, page by page (bounded memory)."""
    after = ""
    while True:
        rows = await store.research.conversations_between(since, until, after_id=after, limit=PAGE)
        if not rows:
            return
        by_id: dict[str, list[dict[str, Any]]] = {r.id: [] for r in rows}
        for m in await store.research.messages_of(list(by_id)):
            by_id[m.conversation_id].append({"from": m.sender, "text": m.text})
        for r in rows:
            yield _conversation(r, by_id[r.id])
        after = rows[-1].id


async def export(store: Store, since: date | None, until: date | None, fmt: str
                 ) -> AsyncIterator[str]:
    """The export as chunks of text: one JSON object per line, or CSV with one row per message."""
    if fmt == "jsonl":
        async for conv in conversations(store, since, until):
            yield json.dumps(conv, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for conv in conversations(store, since, until):
        head = [conv["id"], conv["day"], conv["age"], conv["topic"], conv["waiting_seconds"],
                conv["duration_seconds"], conv["message_count"], conv["left_queue"],
                conv["end_reason"]]
        if not conv["messages"]:
            writer.writerow([*head, "", "", ""])
        for i, m in enumerate(conv["messages"]):
            writer.writerow([*head, i, m["from"], _csv_safe(m["text"])])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _csv_safe(text: str) -> str:
    """No spreadsheet formulas from chat text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
