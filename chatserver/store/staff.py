"""Staff accounts and their server-side sessions (token hashes only, revocable at once).

Also who was logged in when, for the audit reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from chatserver.store.db import Database
from chatserver.store.models import staff_sessions, staff_users
from chatserver.store.records import from_row, new_id


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    display_name: str
    role: str
    password_hash: str
    totp_secret: str | None  # sealed
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class SessionRecord:
    """A session with the account it belongs to."""

    token_hash: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    username: str
    display_name: str
    role: str
    disabled_at: datetime | None


@dataclass(frozen=True)
class SessionSpan:
    """When one of a user's sessions began, was last used, ended or would have ended."""

    username: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    expires_at: datetime


class Staff:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_user(
        self, username: str, display_name: str, role: str, password_hash: str, at: datetime
    ) -> str:
        staff_id = new_id()
        async with self.db.tx() as conn:
            await conn.execute(
                staff_users.insert().values(
                    id=staff_id, username=username, display_name=display_name, role=role,
                    password_hash=password_hash, created_at=at,
                )
            )
        return staff_id

    async def user_by_name(self, username: str) -> UserRecord | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(select(staff_users).where(staff_users.c.username == username))
            ).first()
        return from_row(UserRecord, r) if r is not None else None

    async def user(self, staff_id: str) -> UserRecord | None:
        async with self.db.engine.connect() as conn:
            r = (await conn.execute(select(staff_users).where(staff_users.c.id == staff_id))).first()
        return from_row(UserRecord, r) if r is not None else None

    async def users(self) -> list[UserRecord]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(select(staff_users).order_by(staff_users.c.username))
            return [from_row(UserRecord, r) for r in rows]

    async def update_user(self, staff_id: str, **values: Any) -> None:
        async with self.db.tx() as conn:
            await conn.execute(update(staff_users).where(staff_users.c.id == staff_id).values(**values))

    async def volunteer_names(self, ids: set[str]) -> dict[str, str]:
        """Display names by user id."""
        if not ids:
            return {}
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(staff_users.c.id, staff_users.c.display_name).where(staff_users.c.id.in_(ids))
            )
            return {r.id: r.display_name for r in rows}

    # -- sessions ----------------------------------------------------------------------------

    async def add_session(
        self, token_hash: str, staff_id: str, at: datetime, expires_at: datetime
    ) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                staff_sessions.insert().values(
                    token_hash=token_hash, user_id=staff_id, created_at=at, last_seen_at=at,
                    expires_at=expires_at,
                )
            )

    async def session(self, token_hash: str) -> SessionRecord | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(staff_sessions, staff_users.c.username, staff_users.c.display_name,
                           staff_users.c.role, staff_users.c.disabled_at)
                    .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
                    .where(staff_sessions.c.token_hash == token_hash)
                )
            ).first()
        return from_row(SessionRecord, r) if r is not None else None

    async def touch_session(self, token_hash: str, at: datetime) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.token_hash == token_hash)
                .values(last_seen_at=at)
            )

    async def touch_sessions(self, last_seen: dict[str, datetime]) -> None:
        """Several sessions' last use, in one transaction."""
        async with self.db.tx() as conn:
            for token_hash, at in last_seen.items():
                await conn.execute(
                    update(staff_sessions)
                    .where(staff_sessions.c.token_hash == token_hash,
                           staff_sessions.c.last_seen_at < at)
                    .values(last_seen_at=at)
                )

    async def revoke_session(self, token_hash: str, at: datetime) -> None:
        async with self.db.tx() as conn:
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.token_hash == token_hash)
                .values(revoked_at=at)
            )

    async def revoke_user_sessions(self, staff_id: str, at: datetime) -> list[str]:
        async with self.db.tx() as conn:
            rows = await conn.execute(
                select(staff_sessions.c.token_hash).where(
                    staff_sessions.c.user_id == staff_id, staff_sessions.c.revoked_at.is_(None)
                )
            )
            hashes = [r.token_hash for r in rows]
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.user_id == staff_id, staff_sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return hashes

    async def sessions_in_window(
        self, since: datetime, until: datetime | None = None, username: str | None = None
    ) -> list[SessionSpan]:
        """Staff sessions alive during a window (who was logged in when)."""
        q = (
            select(staff_users.c.username, staff_sessions.c.created_at,
                   staff_sessions.c.last_seen_at, staff_sessions.c.revoked_at,
                   staff_sessions.c.expires_at)
            .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
            .where(staff_sessions.c.last_seen_at >= since)
            .order_by(staff_sessions.c.created_at)
        )
        if until is not None:
            q = q.where(staff_sessions.c.created_at < until)
        if username:
            q = q.where(staff_users.c.username == username)
        async with self.db.engine.connect() as conn:
            return [from_row(SessionSpan, r) for r in await conn.execute(q)]
