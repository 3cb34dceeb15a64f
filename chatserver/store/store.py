"""`Store`: the database and its repositories, built from the settings in one place.

Callers name the repository they need: `store.messages.add(...)`, `store.staff.session(...)`."""

from __future__ import annotations

from chatserver.config import Settings
from chatserver.store.audit import AuditLog
from chatserver.store.conversations import Conversations
from chatserver.store.db import Database
from chatserver.store.keys import DataKeys
from chatserver.store.messages import Messages
from chatserver.store.requests import SubjectRequests
from chatserver.store.research import Research
from chatserver.store.sanctions import Sanctions
from chatserver.store.sealing import Sealer
from chatserver.store.staff import Staff


class Store:
    """Every durable read and write of the server goes through one of these repositories."""

    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer
        self.messages = Messages(db, sealer)
        self.conversations = Conversations(db)
        self.staff = Staff(db)
        self.sanctions = Sanctions(db)
        self.audit = AuditLog(db)
        self.research = Research(db)
        self.subject_requests = SubjectRequests(db)
        self.keys = DataKeys(db, sealer)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The database of `CHATSERVER_DATABASE_URL`, sealing under `CHATSERVER_DATA_KEY`."""
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        return cls(db, Sealer(settings.data_keys))

    async def start(self) -> None:
        """Migrate the schema, then start the message writer."""
        await self.db.start()

    async def close(self) -> None:
        """Commit what is queued, checkpoint, and let the engine go."""
        await self.db.close()
