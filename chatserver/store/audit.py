"""The audit log: who did what to which conversation, and when (ids and codes, no free text).

Append-only: no update here, and the database refuses one by trigger. Entries past their term go
only through `purge_before`, which records the purge first: the trigger refuses a DELETE of any
entry not older than a recorded purge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from chatserver.store.db import Database
from chatserver.store.models import audit_log, audit_log_purges
from chatserver.store.records import from_row, new_id


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: str | None
    actor: str | None
    action: str
    conversation_id: str | None
    detail: str | None  # JSON


# Keys whose values are free text someone typed: they belong on the sanction or request they
# describe (and go with it), never in the log, which outlives both.
FREE_TEXT_KEYS = frozenset({"reason", "override_reason", "lift_reason", "note",
                            "extension_reason", "text"})


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        at: datetime,
        action: str,
        *,
        actor_id: str | None,
        actor: str | None,
        conversation_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if detail and FREE_TEXT_KEYS & detail.keys():
            raise ValueError(f"free text in an audit entry: {sorted(FREE_TEXT_KEYS & detail.keys())}")
        async with self.db.tx() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=at, action=action, actor_id=actor_id, actor=actor,
                    conversation_id=conversation_id,
                    detail=json.dumps(detail, ensure_ascii=False) if detail else None,
                )
            )

    async def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        conversation_id: str | None = None,
        limit: int = 500,
    ) -> list[AuditEntry]:
        """Newest first, at most `limit`."""
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since is not None:
            q = q.where(audit_log.c.at >= since)
        if until is not None:
            q = q.where(audit_log.c.at < until)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if action:
            q = q.where(audit_log.c.action == action)
        if conversation_id:
            q = q.where(audit_log.c.conversation_id == conversation_id)
        async with self.db.engine.connect() as conn:
            return [from_row(AuditEntry, r) for r in await conn.execute(q)]

    async def window(
        self, since: datetime, until: datetime | None = None, actor: str | None = None
    ) -> list[AuditEntry]:
        """Every audit entry in a window, oldest first (breach reports: no limit)."""
        q = select(audit_log).where(audit_log.c.at >= since).order_by(audit_log.c.id)
        if until is not None:
            q = q.where(audit_log.c.at < until)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        async with self.db.engine.connect() as conn:
            return [from_row(AuditEntry, r) for r in await conn.execute(q)]

    async def purge_before(self, before: datetime, now: datetime, *, actor: str) -> int:
        """Delete the entries written before `before` (their term is over), recording the purge
        in the same transaction: what the trigger checks, and what stays on record."""
        async with self.db.tx() as conn:
            old = (await conn.execute(
                select(audit_log.c.id).where(audit_log.c.at < before).limit(1))).first()
            if old is None:
                return 0
            await conn.execute(audit_log_purges.insert().values(
                id=new_id(), at=now, before=before, actor=actor))
            gone = await conn.execute(delete(audit_log).where(audit_log.c.at < before))
        return int(gone.rowcount or 0)
