"""The research store: anonymised conversations moved here by retention, and contact hours.

Nothing here links back: new ids, no address, reference, staff or time finer than the day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from chatserver.store.db import Database
from chatserver.store.models import (
    conversations,
    messages,
    research_contact_hours,
    research_conversations,
    research_messages,
)
from chatserver.store.records import from_row


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


class Research:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def move_in(
        self,
        conversation_id: str,
        record: dict[str, Any],
        texts: Sequence[tuple[str, str]],
        hour: int,
    ) -> bool:
        """In one transaction: the anonymised copy in, the original (messages, reference) out.

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
                await conn.execute(
                    research_messages.insert(),
                    [
                        {"conversation_id": record["id"], "position": i, "sender": sender,
                         "text": body}
                        for i, (sender, body) in enumerate(texts)
                    ],
                )
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
            return [from_row(ResearchMessage, r) for r in rows]

    async def contact_hours_between(self, since: date, until: date) -> list[ContactHour]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(research_contact_hours).where(
                    research_contact_hours.c.day >= since, research_contact_hours.c.day < until
                )
            )
            return [from_row(ContactHour, r) for r in rows]
