"""Messages: sealed text written through the group-commit writer, read back opened.

An added message is committed before `add` returns, so an ack sent after it means durable. Its
text is sealed under its conversation's own key (keys.ConversationKeys), held in memory while the
conversation is live: sealing costs no query. A redaction re-seals the conversation under a fresh
key and destroys the old one."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row

from chatserver.store.db import Database
from chatserver.store.keys import ConversationKeys
from chatserver.store.models import messages
from chatserver.store.records import new_message_id, utc
from chatserver.store.sealing import Sealer, conversation_version, seal_under
from chatserver.store.sqlite_writer import Delivered

Opener = Callable[[str, str], str]

# Conversations whose latest delivery acknowledgement this worker remembers (`acknowledged`).
ACKED_REMEMBERED = 20_000


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
    def __init__(self, db: Database, sealer: Sealer, keys: ConversationKeys) -> None:
        self.db = db
        self.sealer = sealer
        self.keys = keys
        # The highest acknowledged seq per conversation seen here, oldest forgotten first: the
        # database has it only once the mark is committed (within db.MARK_DELAY and a batch).
        self._acked: OrderedDict[str, int] = OrderedDict()

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
        key = self.keys.cached(conversation_id) or await self.keys.current(conversation_id)
        row = {
            "id": mid,
            "conversation_id": conversation_id,
            "sender": sender,
            "staff_id": staff_id,
            "text": seal_under(key.aead, key.version, plain, mid),
            "client_id": client_id,
            "created_at": at,
            "redacted": False,
            "checked": False,
        }
        # A redaction waits for the messages sealed under the key it replaces.
        self.keys.writing(conversation_id, key.version)
        try:
            seq = await self.db.write_message(row)
        finally:
            self.keys.written(conversation_id, key.version)
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
        (opened,) = await self._opened(conversation_id, [prior], duplicate=True)
        return opened

    def mark_delivered(self, conversation_id: str, seq: int) -> None:
        """The chatter acknowledged the conversation's messages up to `seq`; recorded with the
        next message, within `db.MARK_DELAY` at the latest (nobody waits for it)."""
        if seq > self._acked.get(conversation_id, 0):
            self._acked[conversation_id] = seq
            self._acked.move_to_end(conversation_id)
            if len(self._acked) > ACKED_REMEMBERED:
                self._acked.popitem(last=False)
        self.db.mark_delivered(Delivered(conversation_id, seq))

    def acknowledged(self, conversation_id: str) -> int:
        """The highest seq acknowledged on this worker, committed or not yet (0: none seen):
        a reload right after an acknowledgement must not get that message again."""
        return self._acked.get(conversation_id, 0)

    async def _opened(self, conversation_id: str, rows: Sequence[Row[Any]],
                      duplicate: bool = False) -> list[MessageRow]:
        """The rows with their text opened: the keys they need are read once for all."""
        keys = await self.keys.for_reading(conversation_id, {
            v for r in rows if (v := conversation_version(r.text)) is not None})
        opener = self.keys.opener(keys)
        return [self._message(r, opener, duplicate) for r in rows]

    @staticmethod
    def _message(r: Row[Any], opener: Opener, duplicate: bool = False) -> MessageRow:
        return MessageRow(
            id=r.id,
            seq=r.seq,
            conversation_id=r.conversation_id,
            sender=r.sender,
            text=opener(r.text, r.id),
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
            found = rows.all()
        return await self._opened(conversation_id, found)

    async def count(self, conversation_id: str) -> int:
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(
                select(func.count()).select_from(messages)
                .where(messages.c.conversation_id == conversation_id))).scalar_one())

    async def redacted(self, conversation_id: str) -> list[MessageRow]:
        """The conversation's redacted messages in order, with their text as it is now."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.redacted)
                .order_by(messages.c.seq)
            )
            found = rows.all()
        return await self._opened(conversation_id, found)

    async def get(self, conversation_id: str, message_id: str) -> MessageRow | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(messages).where(
                        messages.c.id == message_id, messages.c.conversation_id == conversation_id
                    )
                )
            ).first()
        return (await self._opened(conversation_id, [r]))[0] if r is not None else None

    async def replace_text(self, message_id: str, new_text: str, *, redacted: bool) -> None:
        """Overwrite a message's text for good. A redaction re-seals the conversation under a
        fresh key and destroys the old one: no copy of the old text (in a backup, the WAL, a
        dead row version) can be opened after it, and the file holds none (zeroed, checkpoint)."""
        if not redacted:
            async with self.db.tx() as conn:
                await conn.execute(
                    update(messages).where(messages.c.id == message_id).values(checked=True))
            return
        async with self.db.engine.connect() as conn:
            cid = (await conn.execute(
                select(messages.c.conversation_id).where(messages.c.id == message_id)
            )).scalar_one_or_none()
        if cid is None:
            return
        await self.keys.rekey(cid, {message_id: new_text},
                              values={"redacted": True, "checked": True})
        await self.db.checkpoint_after_write()
