"""Requests of data subjects (access, erasure, objection): received, tracked, closed.

Only the request's bookkeeping; what answering one does is privacy/requests.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from chatserver.store.db import Database
from chatserver.store.models import subject_requests
from chatserver.store.records import from_row, new_id


@dataclass(frozen=True)
class SubjectRequestRecord:
    id: str
    kind: str
    reference_hash: str
    conversation_id: str | None
    received_at: datetime
    due_at: datetime
    extended_due_at: datetime | None
    extension_reason: str | None
    person_told_at: datetime | None
    status: str
    outcome: str | None
    note: str | None
    created_by: str | None
    handled_by: str | None
    closed_at: datetime | None


class SubjectRequests:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, values: dict[str, Any]) -> str:
        rid = new_id()
        async with self.db.tx() as conn:
            await conn.execute(subject_requests.insert().values(id=rid, **values))
        return rid

    async def get(self, request_id: str) -> SubjectRequestRecord | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(select(subject_requests).where(subject_requests.c.id == request_id))
            ).first()
        return from_row(SubjectRequestRecord, r) if r is not None else None

    async def find(self, status: str | None = None) -> list[SubjectRequestRecord]:
        """Newest first; `open` or `closed` ones only, or all."""
        q = select(subject_requests).order_by(subject_requests.c.received_at.desc())
        if status == "open":
            q = q.where(subject_requests.c.closed_at.is_(None))
        elif status == "closed":
            q = q.where(subject_requests.c.closed_at.is_not(None))
        async with self.db.engine.connect() as conn:
            return [from_row(SubjectRequestRecord, r) for r in await conn.execute(q)]

    async def update(self, request_id: str, **values: Any) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                update(subject_requests).where(subject_requests.c.id == request_id).values(**values)
            )

    async def drop_closed_before(self, cutoff: datetime) -> int:
        """The register's term: requests closed before `cutoff` go, with their notes, outcomes
        and extension reasons."""
        async with self.db.tx() as conn:
            gone = await conn.execute(delete(subject_requests).where(
                subject_requests.c.closed_at.is_not(None), subject_requests.c.closed_at < cutoff))
        return int(gone.rowcount or 0)
