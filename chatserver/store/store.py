"""`Store`: the database and its repositories, built from the settings in one place.

Callers name the repository they need: `store.messages.add(...)`, `store.staff.session(...)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chatserver.config import Settings
from chatserver.store.audit import AuditLog
from chatserver.store.conversations import Conversations
from chatserver.store.db import Database
from chatserver.store.keys import ConversationKeys, DataKeys
from chatserver.store.messages import Messages
from chatserver.store.requests import SubjectRequests
from chatserver.store.research import Research
from chatserver.store.sanctions import Sanctions
from chatserver.store.sealing import Sealer
from chatserver.store.staff import Staff

log = logging.getLogger(__name__)

# Seconds a worker keeps a conversation key in memory before reading it again (several workers
# only), and how long a replaced key is kept for workers that may still seal under it.
KEY_TTL = 30.0
KEY_GRACE = 3 * KEY_TTL


class Store:
    """Every durable read and write of the server goes through one of these repositories."""

    def __init__(self, db: Database, sealer: Sealer, *, several_workers: bool = False) -> None:
        self.db = db
        self.sealer = sealer
        # With several workers another one may hold a replaced conversation key in memory for
        # up to KEY_TTL seconds: it is deleted after KEY_GRACE (by a sweep every KEY_TTL).
        self.conversation_keys = (
            ConversationKeys(db, sealer, ttl=KEY_TTL, grace=KEY_GRACE) if several_workers
            else ConversationKeys(db, sealer))
        self.messages = Messages(db, sealer, self.conversation_keys)
        self.conversations = Conversations(db, self.conversation_keys)
        self.staff = Staff(db)
        self.sanctions = Sanctions(db)
        self.audit = AuditLog(db)
        self.research = Research(db, sealer)
        self.subject_requests = SubjectRequests(db)
        self.keys = DataKeys(db, sealer, self.conversation_keys)
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The database of `CHATSERVER_DATABASE_URL`, sealing under `CHATSERVER_DATA_KEY`."""
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        return cls(db, Sealer(settings.data_keys), several_workers=settings.redis_url is not None)

    async def start(self) -> None:
        """Migrate the schema, then start the message writer (and, with several workers, the
        sweep that deletes replaced conversation keys)."""
        await self.db.start()
        if self.conversation_keys.grace > 0:
            self._sweeper = asyncio.create_task(self._sweep_keys(), name="key-sweep")

    async def _sweep_keys(self) -> None:
        while True:
            await asyncio.sleep(KEY_TTL)
            try:
                await self.conversation_keys.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweeping replaced conversation keys failed")

    async def destroy_conversation_keys(self, conversation_id: str) -> int:
        """Crypto-shred a conversation: delete its keys, so that no copy of its text (backup,
        WAL, dead row version) can be opened any more. Erasure and retention do this already
        (with the conversation); for a deletion path of its own."""
        async with self.db.tx() as conn:
            return await self.conversation_keys.destroy(conn, conversation_id)

    async def close(self) -> None:
        """Commit what is queued, checkpoint, and let the engine go."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.db.close()
