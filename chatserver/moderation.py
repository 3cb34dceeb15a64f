"""Time-outs and blocks: who imposed them, until when, and who has had several.

Sanctions are kept by address hash only; staff see conversations and aliases, never the hash."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatserver.clock import iso
from chatserver.store import SanctionRecord, Store, utc


@dataclass(frozen=True)
class Sanction:
    kind: str  # "timeout" | "block"
    address_hash: str
    conversation_id: str | None
    until: datetime
    staff_id: str | None
    reason: str | None = None


async def impose(store: Store, sanction: Sanction, now: datetime) -> str:
    return await store.sanctions.add({
        "kind": sanction.kind,
        "address_hash": sanction.address_hash,
        "conversation_id": sanction.conversation_id,
        "created_at": now,
        "until": sanction.until,
        "staff_id": sanction.staff_id,
        "reason": sanction.reason,
    })


async def describe(store: Store, rows: Sequence[SanctionRecord], now: datetime) -> list[dict[str, Any]]:
    """Sanctions as coordinators see them: conversation, alias, who, why — never the hash."""
    staff_ids = {r.staff_id for r in rows if r.staff_id} | {r.lifted_by for r in rows if r.lifted_by}
    names = await store.staff.volunteer_names(staff_ids)
    out = []
    for r in rows:
        conv = await store.conversations.get(r.conversation_id) if r.conversation_id else None
        until = utc(r.until)
        assert until is not None
        out.append({
            "id": r.id,
            "kind": r.kind,
            "conversation_id": r.conversation_id,
            "alias": conv.alias if conv else None,
            "created_at": iso(utc(r.created_at) or now),
            "until": iso(until),
            "reason": r.reason,
            "by": names.get(r.staff_id) if r.staff_id else None,
            "lifted_at": iso(utc(r.lifted_at) or now) if r.lifted_at else None,
            "lifted_by": names.get(r.lifted_by) if r.lifted_by else None,
            "active": r.lifted_at is None and until > now,
        })
    return out


def repeat_offenders(timeouts: Sequence[SanctionRecord], threshold: int) -> list[list[Any]]:
    """Time-outs grouped per address hash, the groups with at least `threshold`, most first."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in timeouts:
        groups[row.address_hash].append(row)
    chosen = [sorted(g, key=lambda r: str(r.created_at)) for g in groups.values()
              if len(g) >= threshold]
    return sorted(chosen, key=lambda g: (-len(g), str(g[-1].created_at)), reverse=False)
