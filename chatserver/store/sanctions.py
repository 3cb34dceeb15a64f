"""Sanctions: time-outs and blocks, kept by address hash, lifted by staff.

Which one is in force for an address is decided here; what a sanction means is moderation.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from chatserver.store.db import Database
from chatserver.store.models import sanctions
from chatserver.store.records import from_row, new_id, utc


@dataclass(frozen=True)
class SanctionRecord:
    id: str
    kind: str
    address_hash: str
    conversation_id: str | None
    created_at: datetime
    until: datetime
    staff_id: str | None
    reason: str | None
    lifted_at: datetime | None
    lifted_by: str | None
    # Why a block came without an earlier time-out; why it was lifted (free text, like `reason`).
    override_reason: str | None = None
    lift_reason: str | None = None
    # The person had the conversation erased: the sanction goes as soon as it is over.
    erased: bool = False


class Sanctions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, values: dict[str, Any]) -> str:
        sid = new_id()
        async with self.db.tx() as conn:
            await conn.execute(sanctions.insert().values(id=sid, **values))
        return sid

    async def active(self, address_hash: str, now: datetime) -> SanctionRecord | None:
        """The sanction that ends last among those in force for this address (block first)."""
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(sanctions).where(
                        sanctions.c.address_hash == address_hash,
                        sanctions.c.until > now,
                        sanctions.c.lifted_at.is_(None),
                    )
                )
            ).all()
        if not rows:
            return None
        return from_row(SanctionRecord,
                        max(rows, key=lambda r: (r.kind == "block", utc(r.until))))

    async def count(self, address_hash: str, kind: str, since: datetime) -> int:
        async with self.db.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(sanctions)
                        .where(
                            sanctions.c.address_hash == address_hash,
                            sanctions.c.kind == kind,
                            sanctions.c.created_at >= since,
                        )
                    )
                ).scalar_one()
            )

    async def find(
        self,
        kind: str | None = None,
        active_at: datetime | None = None,
        since: datetime | None = None,
    ) -> list[SanctionRecord]:
        """Newest first; of one kind, in force at a time, or given since a time."""
        q = select(sanctions).order_by(sanctions.c.created_at.desc())
        if kind:
            q = q.where(sanctions.c.kind == kind)
        if since is not None:
            q = q.where(sanctions.c.created_at >= since)
        if active_at is not None:
            q = q.where(sanctions.c.until > active_at, sanctions.c.lifted_at.is_(None))
        async with self.db.engine.connect() as conn:
            return [from_row(SanctionRecord, r) for r in await conn.execute(q)]

    async def get(self, sanction_id: str) -> SanctionRecord | None:
        async with self.db.engine.connect() as conn:
            r = (await conn.execute(select(sanctions).where(sanctions.c.id == sanction_id))).first()
        return from_row(SanctionRecord, r) if r is not None else None

    async def of_conversation(self, conversation_id: str) -> list[SanctionRecord]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(sanctions).where(sanctions.c.conversation_id == conversation_id)
                .order_by(sanctions.c.created_at)
            )
            return [from_row(SanctionRecord, r) for r in rows]

    async def lift(self, sanction_id: str, at: datetime, by: str,
                   reason: str | None = None) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                update(sanctions)
                .where(sanctions.c.id == sanction_id)
                .values(lifted_at=at, lifted_by=by, lift_reason=reason)
            )

    async def drop_ended(self, address_cutoff: datetime, now: datetime) -> int:
        """Delete the sanctions that are over (ended or lifted) and either older than the
        address period or of an erased conversation: with them their hash, reasons, and links
        to a conversation and staff members go."""
        over = (sanctions.c.until <= now) | sanctions.c.lifted_at.is_not(None)
        async with self.db.tx() as conn:
            gone = await conn.execute(delete(sanctions).where(
                over, (sanctions.c.created_at < address_cutoff) | sanctions.c.erased))
        return int(gone.rowcount or 0)
