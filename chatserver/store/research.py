"""The research store: anonymised conversations moved here by retention, and contact hours.

Nothing here links back: new random ids, no address, reference, staff or time finer than the day
(and no row number in the order of writing). The text is sealed at rest like message text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from chatserver.store.db import Database
from chatserver.store.models import (
    conversations,
    messages,
    research_contact_hours,
    research_conversations,
    research_messages,
)
from chatserver.store.records import from_row, new_id
from chatserver.store.sealing import PREFIX, Sealer


def research_context(message_id: str) -> str:
    """Associated data of a sealed research text: bound to its row."""
    return f"research:{message_id}"


def is_sealed(text: str) -> bool:
    return text.startswith(f"{PREFIX}:")


@dataclass(frozen=True)
class ResearchConversation:
    id: str
    day: date
    age: int | None
    topic: str | None
    waiting_seconds: int | None
    duration_seconds: int | None
    message_count: int
    left_queue: bool
    end_reason: str | None


@dataclass(frozen=True)
class ResearchMessage:
    conversation_id: str
    position: int
    sender: str
    text: str


@dataclass(frozen=True)
class ContactHour:
    """How many conversations started in one hour of one local day."""

    day: date
    hour: int
    contacts: int


@dataclass(frozen=True)
class ResearchDropped:
    conversations: int
    messages: int
    contact_hours: int


class Research:
    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    async def move_in(
        self,
        conversation_id: str,
        record: dict[str, Any],
        texts: Sequence[tuple[str, str]],
        hour: int,
    ) -> bool:
        """In one transaction: the anonymised copy in (its texts sealed), the original
        (messages, reference, keys) out.

        False when another sweeper moved the conversation first (nothing is written then)."""
        upsert = self.db.dialect_insert(research_contact_hours)
        async with self.db.tx() as conn:
            gone = await conn.execute(
                delete(conversations).where(conversations.c.id == conversation_id)
            )
            if gone.rowcount != 1:
                return False
            await conn.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
            await conn.execute(research_conversations.insert().values(**record))
            if texts:
                rows = []
                for i, (sender, body) in enumerate(texts):
                    mid = new_id()
                    rows.append({"id": mid, "conversation_id": record["id"], "position": i,
                                 "sender": sender,
                                 "text": self.sealer.seal(body, research_context(mid))})
                await conn.execute(research_messages.insert(), rows)
            await conn.execute(
                upsert.values(day=record["day"], hour=hour, contacts=1).on_conflict_do_update(
                    index_elements=["day", "hour"],
                    set_={"contacts": research_contact_hours.c.contacts + 1},
                )
            )
        return True

    async def conversations_between(
        self, since: date | None, until: date | None, *, after_id: str = "", limit: int = 1000
    ) -> list[ResearchConversation]:
        """A page of research conversations of days in [since, until), in id order."""
        q = select(research_conversations).order_by(research_conversations.c.id).limit(limit)
        q = q.where(research_conversations.c.id > after_id)
        if since is not None:
            q = q.where(research_conversations.c.day >= since)
        if until is not None:
            q = q.where(research_conversations.c.day < until)
        async with self.db.engine.connect() as conn:
            return [from_row(ResearchConversation, r) for r in await conn.execute(q)]

    async def messages_of(self, ids: Sequence[str]) -> list[ResearchMessage]:
        if not ids:
            return []
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(research_messages)
                .where(research_messages.c.conversation_id.in_(ids))
                .order_by(research_messages.c.conversation_id, research_messages.c.position)
            )
            return [ResearchMessage(r.conversation_id, r.position, r.sender, self._open(r))
                    for r in rows]

    def _open(self, row: Any) -> str:
        # Texts moved before migration 0007 stay plain until the next retention run seals them.
        text: str = row.text
        return self.sealer.open(text, research_context(row.id)) if is_sealed(text) else text

    async def seal_plain(self, batch: int = 500) -> int:
        """Seal the research texts written before they were sealed (migration 0007)."""
        sealed = 0
        stmt = (update(research_messages)
                .where(research_messages.c.id == bindparam("b_id"),
                       research_messages.c.text == bindparam("b_old"))
                .values(text=bindparam("b_new")))
        while True:
            async with self.db.tx() as conn:
                rows = (await conn.execute(
                    select(research_messages.c.id, research_messages.c.text)
                    .where(~research_messages.c.text.startswith(f"{PREFIX}:", autoescape=True))
                    .limit(batch))).all()
                if not rows:
                    return sealed
                await conn.execute(stmt, [
                    {"b_id": r.id, "b_old": r.text,
                     "b_new": self.sealer.seal(r.text, research_context(r.id))} for r in rows])
            sealed += len(rows)

    async def drop_before(self, day: date) -> ResearchDropped:
        """The research term: conversations (with their texts) and contact counts of days
        before `day` go."""
        old = select(research_conversations.c.id).where(research_conversations.c.day < day)
        async with self.db.tx() as conn:
            msgs = await conn.execute(
                delete(research_messages).where(research_messages.c.conversation_id.in_(old)))
            convs = await conn.execute(
                delete(research_conversations).where(research_conversations.c.day < day))
            hours = await conn.execute(
                delete(research_contact_hours).where(research_contact_hours.c.day < day))
        return ResearchDropped(int(convs.rowcount or 0), int(msgs.rowcount or 0),
                               int(hours.rowcount or 0))

    async def contact_hours_between(self, since: date, until: date) -> list[ContactHour]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(research_contact_hours).where(
                    research_contact_hours.c.day >= since, research_contact_hours.c.day < until
                )
            )
            return [from_row(ContactHour, r) for r in rows]
