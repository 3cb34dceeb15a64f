"""Conversations and their contact rows: start, look up, update, end of life.

Removal lives here too: retention's address sweep and erasure on a data subject's request. Each
conversation gets its own data key when it starts; removing the conversation destroys its keys
(also by `ON DELETE CASCADE`, for removals elsewhere such as retention's move to research)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from chatserver.store.db import Database, record_delivered
from chatserver.store.keys import ConversationKeys
from chatserver.store.models import (
    contacts,
    conversation_keys,
    conversations,
    messages,
    sanctions,
)
from chatserver.store.records import from_row, utc


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    alias: str
    address_hash: str | None
    resume_hash: str | None
    reference_hash: str | None
    status: str
    contact_count: int
    created_at: datetime
    paired_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    volunteer_id: str | None
    chatter_age: int | None
    chatter_topic: str | None
    age: int | None
    topic: str | None
    registered_at: datetime | None
    registered_by: str | None
    delivered_seq: int


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation for statistics: its times, status, age and topic and how many messages."""

    created_at: datetime
    paired_at: datetime | None
    ended_at: datetime | None
    status: str
    age: int | None
    chatter_age: int | None
    topic: str | None
    chatter_topic: str | None
    message_count: int


class Conversations:
    def __init__(self, db: Database, keys: ConversationKeys) -> None:
        self.db = db
        self.keys = keys

    async def start(self, values: dict[str, Any]) -> int:
        """Insert a conversation, its data key and its contact row; returns the earlier
        contacts' count. The key stays in memory: its messages are sealed without a query."""
        key_row, key = self.keys.new_row(values["id"])
        async with self.db.tx() as conn:
            count = 0
            if values.get("address_hash"):
                count = (
                    await conn.execute(
                        select(func.count())
                        .select_from(contacts)
                        .where(contacts.c.address_hash == values["address_hash"])
                    )
                ).scalar_one()
                await conn.execute(
                    contacts.insert().values(
                        address_hash=values["address_hash"], created_at=values["created_at"]
                    )
                )
            await conn.execute(conversations.insert().values(contact_count=count, **values))
            await conn.execute(conversation_keys.insert().values(**key_row))
        self.keys.remember(values["id"], key)
        return int(count)

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(conversations).where(conversations.c.id == conversation_id)
                )
            ).first()
        return from_row(ConversationRecord, r) if r is not None else None

    async def find_by(self, **where: str) -> ConversationRecord | None:
        """The conversation whose columns have these values (a resume or reference hash)."""
        conds = [getattr(conversations.c, k) == v for k, v in where.items()]
        async with self.db.engine.connect() as conn:
            r = (await conn.execute(select(conversations).where(and_(*conds)))).first()
        return from_row(ConversationRecord, r) if r is not None else None

    async def update(self, conversation_id: str, **values: Any) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(**values)
            )

    async def record_delivered(self, conversation_id: str, seq: int) -> None:
        """Now, not with the next batch (messages.mark_delivered): the chatter's socket left
        and a resume on another worker reads this. Never moves back."""
        async with self.db.tx() as conn:
            await record_delivered(conn, {conversation_id: seq})

    async def open(self) -> list[ConversationRecord]:
        """Conversations not ended, oldest first (read back into the live state at start)."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(conversations)
                .where(conversations.c.status != "ended")
                .order_by(conversations.c.created_at)
            )
            return [from_row(ConversationRecord, r) for r in rows]

    async def delete(self, conversation_id: str) -> None:
        async with self.db.tx() as conn:
            await self.keys.destroy(conn, conversation_id)
            await conn.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
            await conn.execute(delete(conversations).where(conversations.c.id == conversation_id))

    async def started_before(self, cutoff: datetime) -> list[tuple[str, datetime]]:
        """The id and start of every conversation started before `cutoff` (retention)."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(conversations.c.id, conversations.c.created_at)
                .where(conversations.c.created_at < cutoff))
            return [(r.id, utc(r.created_at) or r.created_at) for r in rows]

    async def count_created_before(self, cutoff: datetime, limit: int | None = None) -> int:
        """How many conversations started before `cutoff` (at most `limit`, when given)."""
        q = select(conversations.c.id).where(conversations.c.created_at < cutoff)
        if limit is not None:
            q = q.limit(limit)
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(
                select(func.count()).select_from(q.subquery()))).scalar_one())

    async def statistics(self, since: datetime, until: datetime) -> list[ConversationSummary]:
        """Conversations started in [since, until) with their message counts (no text)."""
        counts = (
            select(messages.c.conversation_id, func.count().label("message_count"))
            .group_by(messages.c.conversation_id)
            .subquery()
        )
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    conversations.c.created_at, conversations.c.paired_at,
                    conversations.c.ended_at, conversations.c.status,
                    conversations.c.age, conversations.c.chatter_age,
                    conversations.c.topic, conversations.c.chatter_topic,
                    func.coalesce(counts.c.message_count, 0).label("message_count"),
                )
                .select_from(conversations.outerjoin(
                    counts, counts.c.conversation_id == conversations.c.id))
                .where(conversations.c.created_at >= since, conversations.c.created_at < until)
            )
            return [from_row(ConversationSummary, r) for r in rows]

    async def drop_old_addresses(self, cutoff: datetime) -> dict[str, int]:
        """Hashed addresses older than `cutoff`: contact rows go, conversations lose theirs.
        (Sanctions go whole when they are over: `Sanctions.drop_ended`.)"""
        async with self.db.tx() as conn:
            contacts_dropped = (
                await conn.execute(delete(contacts).where(contacts.c.created_at < cutoff))
            ).rowcount
            conv_dropped = (
                await conn.execute(
                    update(conversations)
                    .where(conversations.c.created_at < cutoff,
                           conversations.c.address_hash.is_not(None))
                    .values(address_hash=None)
                )
            ).rowcount
        return {"contacts": int(contacts_dropped or 0), "conversations": int(conv_dropped or 0)}

    async def erase(self, conversation_id: str, now: datetime) -> dict[str, int]:
        """Erasure on request: the conversation's keys (no copy of its text opens any more),
        messages, the conversation (with its reference and address hash), its contact row and
        its sanctions that are over. Sanctions in force are kept, marked to go (with their
        hash and reasons) as soon as they are over."""
        async with self.db.tx() as conn:
            row = (
                await conn.execute(select(conversations).where(conversations.c.id == conversation_id))
            ).first()
            if row is None:
                return {"conversation": 0, "messages": 0, "contacts": 0, "sanctions": 0,
                        "sanctions_kept": 0}
            await self.keys.destroy(conn, conversation_id)
            msgs = (
                await conn.execute(
                    delete(messages).where(messages.c.conversation_id == conversation_id))
            ).rowcount
            contact = 0
            if row.address_hash:
                contact = (
                    await conn.execute(
                        delete(contacts).where(contacts.c.address_hash == row.address_hash,
                                               contacts.c.created_at == row.created_at)
                    )
                ).rowcount
            over = (sanctions.c.until <= now) | sanctions.c.lifted_at.is_not(None)
            sanctions_gone = (
                await conn.execute(
                    delete(sanctions).where(sanctions.c.conversation_id == conversation_id, over))
            ).rowcount
            kept = (
                await conn.execute(
                    update(sanctions).where(sanctions.c.conversation_id == conversation_id)
                    .values(erased=True)
                )
            ).rowcount
            await conn.execute(delete(conversations).where(conversations.c.id == conversation_id))
        await self.db.checkpoint()
        return {"conversation": 1, "messages": int(msgs or 0), "contacts": int(contact or 0),
                "sanctions": int(sanctions_gone or 0), "sanctions_kept": int(kept)}
