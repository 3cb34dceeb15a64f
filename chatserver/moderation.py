"""Time-outs and blocks: who imposed them, until when, and who has had several.

Sanctions are kept by address hash only; staff see conversations and aliases, never the hash.
The rule of a block (how long, on what grounds) is `block`'s alone; reasons are free text that
lives on the sanction and goes with it, the audit log records only ids and codes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatserver.clock import iso
from chatserver.errors import ChatError
from chatserver.privacy.terms import BLOCK_MAX_DAYS
from chatserver.store import SanctionRecord, Store, utc

if TYPE_CHECKING:
    from chatserver.auth import StaffMember
    from chatserver.config import Settings


@dataclass(frozen=True)
class Sanction:
    kind: str  # "timeout" | "block"
    address_hash: str
    conversation_id: str | None
    until: datetime
    staff_id: str | None
    reason: str | None = None
    override_reason: str | None = None


async def impose(store: Store, sanction: Sanction, now: datetime) -> str:
    return await store.sanctions.add({
        "kind": sanction.kind,
        "address_hash": sanction.address_hash,
        "conversation_id": sanction.conversation_id,
        "created_at": now,
        "until": sanction.until,
        "staff_id": sanction.staff_id,
        "reason": sanction.reason,
        "override_reason": sanction.override_reason,
    })


@dataclass(frozen=True)
class Blocked:
    id: str
    until: datetime


def block_days(settings: Settings, days: int | None) -> int:
    """The length of a block: the setting's (at most 90 days) unless fewer are asked."""
    longest = min(settings.block_default_days, BLOCK_MAX_DAYS)
    if days is None:
        return longest
    if not 1 <= days <= longest:
        raise ChatError("block_too_long", f"Een blokkade duurt hoogstens {longest} dagen.",
                        max_days=longest)
    return days


async def block(store: Store, settings: Settings, member: StaffMember, address_hash: str,
                conversation_id: str, *, days: int | None, reason: str | None,
                override_reason: str | None, now: datetime) -> Blocked:
    """Block an address for `days` (at most `block_default_days`, itself at most 90).

    Only after at least one earlier time-out of the same address hash, or with an override
    reason, recorded on the block. The audit entry holds ids and codes: the reasons are free
    text, kept on the sanction only, and they go with it."""
    length = block_days(settings, days)
    earlier = await store.sanctions.count(address_hash, "timeout", now - timedelta(
        days=settings.timeout_window_days))
    if not earlier and not override_reason:
        raise ChatError(
            "no_earlier_timeout",
            "Deze chatter heeft nog geen eerdere time-out gehad. Blokkeren kan pas na een "
            "time-out, of met een reden waarom het nu al nodig is.")
    until = now + timedelta(days=length)
    sanction_id = await impose(store, Sanction(
        "block", address_hash, conversation_id, until, member.id, reason,
        None if earlier else override_reason), now)
    await store.audit.record(now, "block", actor_id=member.id, actor=member.username,
                             conversation_id=conversation_id, detail={
                                 "until": iso(until), "sanction_id": sanction_id, "days": length,
                                 "grounds": "earlier_timeout" if earlier else "override"})
    return Blocked(sanction_id, until)


async def lift(store: Store, member: StaffMember, sanction_id: str, reason: str | None,
               now: datetime) -> SanctionRecord:
    """Lift a sanction in force; the reason stays on the sanction (and goes with it)."""
    row = await store.sanctions.get(sanction_id)
    if row is None:
        raise ChatError("not_found")
    if row.lifted_at is not None or (utc(row.until) or now) <= now:
        raise ChatError("conflict", "Deze maatregel is al opgeheven of verlopen.")
    await store.sanctions.lift(sanction_id, now, member.id, reason)
    await store.audit.record(now, f"{row.kind}_lifted", actor_id=member.id,
                             actor=member.username, conversation_id=row.conversation_id,
                             detail={"sanction_id": sanction_id})
    return row


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
            "override_reason": r.override_reason,
            "lift_reason": r.lift_reason,
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
