"""Messages: sealed text written through the group-commit writer, read back opened.

An added message is committed before `add` returns, so an ack sent after it means durable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row

from chatserver.store.db import Database
from chatserver.store.models import messages
from chatserver.store.records import new_message_id, utc
from chatserver.store.sealing import Sealer
from chatserver.store.sqlite_writer import Delivered


@dataclass(frozen=True)
class MessageRow:
    id: str
    seq: int
    conversation_id: str
    sender: str
    text: str
    ts: datetime
    redacted: bool = False
    checked: bool = False
    duplicate: bool = False


class Messages:
    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    async def add(
        self,
        conversation_id: str,
        sender: str,
        plain: str,
        at: datetime,
        *,
        staff_id: str | None = None,
        client_id: str | None = None,
    ) -> MessageRow:
        """Store a message; returns once it is committed. A repeated client_id returns the
        message stored the first time, marked `duplicate`."""
        mid = new_message_id(at)
        row = {
            "id": mid,
            "conversation_id": conversation_id,
            "sender": sender,
            "staff_id": staff_id,
            "text": self.sealer.seal(plain, mid),
            "client_id": client_id,
            "created_at": at,
            "redacted": False,
            "checked": False,
        }
        seq = await self.db.write_message(row)
        if seq is not None:
            return MessageRow(mid, seq, conversation_id, sender, plain, at)
        # A retry of a message already stored (same client_id): the first one, as it was.
        async with self.db.engine.connect() as conn:
            prior = (
                await conn.execute(
                    select(messages).where(
                        messages.c.conversation_id == conversation_id,
                        messages.c.client_id == client_id,
                    )
                )
            ).first()
        if prior is None:
            raise RuntimeError("message insert skipped without a conflicting row")
        return self._message(prior, duplicate=True)

    def mark_delivered(self, conversation_id: str, seq: int) -> None:
        """The chatter acknowledged the conversation's messages up to `seq`; recorded with the
        next batch of messages (nobody waits for it)."""
        self.db.mark_delivered(Delivered(conversation_id, seq))

    def _message(self, r: Row[Any], duplicate: bool = False) -> MessageRow:
        return MessageRow(
            id=r.id,
            seq=r.seq,
            conversation_id=r.conversation_id,
            sender=r.sender,
            text=self.sealer.open(r.text, r.id),
            ts=utc(r.created_at) or r.created_at,
            redacted=bool(r.redacted),
            checked=bool(r.checked),
            duplicate=duplicate,
        )

    async def of_conversation(self, conversation_id: str, after_seq: int = 0) -> list[MessageRow]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
                .order_by(messages.c.seq)
            )
            return [self._message(r) for r in rows]

    async def redacted(self, conversation_id: str) -> list[MessageRow]:
        """The conversation's redacted messages in order, with their text as it is now."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.redacted)
                .order_by(messages.c.seq)
            )
            return [self._message(r) for r in rows]

    async def get(self, conversation_id: str, message_id: str) -> MessageRow | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(messages).where(
                        messages.c.id == message_id, messages.c.conversation_id == conversation_id
                    )
                )
            ).first()
        return self._message(r) if r is not None else None

    async def replace_text(self, message_id: str, new_text: str, *, redacted: bool) -> None:
        """Overwrite a message's text for good (the old ciphertext is zeroed in the file)."""
        async with self.db.engine.begin() as conn:
            values: dict[str, Any] = {"checked": True}
            if redacted:
                values.update(text=self.sealer.seal(new_text, message_id), redacted=True)
            await conn.execute(update(messages).where(messages.c.id == message_id).values(**values))
        if redacted:
            await self.db.checkpoint_after_write()
