"""The queries the rest of the server needs, over SQLAlchemy's async engine.

Messages go through a group-commit writer: one transaction (one fsync) per batch, and each
message's future resolves only after its batch has committed, so an ack means durable."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatserver.store.models import (
    audit_log,
    contacts,
    conversations,
    messages,
    metadata,
    sanctions,
    staff_sessions,
    staff_users,
)
from chatserver.store.sealing import Sealer

log = logging.getLogger(__name__)

BATCH_MAX = 256


def new_id() -> str:
    return secrets.token_hex(12)


def utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything in the server is aware UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


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


@dataclass
class _Pending:
    row: dict[str, Any]
    plain: str
    future: asyncio.Future[MessageRow]


class Store:
    """Owns the engine; every durable read and write of the server goes through here."""

    def __init__(self, url: str, sealer: Sealer, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = url
        self.sealer = sealer
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            sync = sqlite_synchronous

            @event.listens_for(self.engine.sync_engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={sync}")
                # Overwritten and deleted text is zeroed in the file, not merely unlinked.
                cur.execute("PRAGMA secure_delete=ON")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._insert = (sqlite.insert if self.is_sqlite else postgresql.insert)(messages)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        self._writer = asyncio.create_task(self._write_loop(), name="message-writer")

    async def close(self) -> None:
        if self._writer is not None:
            # Let queued messages commit before the engine goes away.
            while not self._queue.empty():
                await asyncio.sleep(0.01)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health reports, never raises
            log.warning("database ping failed")
            return False

    async def checkpoint(self) -> None:
        """Fold the WAL into the database file and truncate it (overwritten text leaves)."""
        if self.is_sqlite:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- messages: group commit --------------------------------------------------------------

    async def add_message(
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
        mid = new_id()
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
        fut: asyncio.Future[MessageRow] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(row, plain, fut))
        return await fut

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._write_batch(batch)
            except asyncio.CancelledError:
                for p in batch:
                    if not p.future.done():
                        p.future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - each waiter gets the failure
                log.exception("message batch of %d failed", len(batch))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(exc)
                continue
            for p, result in zip(batch, results, strict=True):
                if not p.future.done():
                    p.future.set_result(result)

    async def _write_batch(self, batch: list[_Pending]) -> list[MessageRow]:
        stmt = self._insert.on_conflict_do_nothing().returning(messages.c.id, messages.c.seq)
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt, [p.row for p in batch])
            seqs = {r.id: r.seq for r in result}
            missing = [p for p in batch if p.row["id"] not in seqs]
            existing: dict[tuple[str, str], Row[Any]] = {}
            for p in missing:
                r = (
                    await conn.execute(
                        select(messages).where(
                            messages.c.conversation_id == p.row["conversation_id"],
                            messages.c.client_id == p.row["client_id"],
                        )
                    )
                ).first()
                if r is not None:
                    existing[(p.row["conversation_id"], p.row["client_id"])] = r
        out = []
        for p in batch:
            row = p.row
            if row["id"] in seqs:
                out.append(
                    MessageRow(
                        row["id"], seqs[row["id"]], row["conversation_id"], row["sender"],
                        p.plain, row["created_at"],
                    )
                )
                continue
            prior = existing.get((row["conversation_id"], row["client_id"]))
            if prior is None:
                raise RuntimeError("message insert skipped without a conflicting row")
            out.append(self._message(prior, duplicate=True))
        return out

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

    async def messages_of(self, conversation_id: str, after_seq: int = 0) -> list[MessageRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
                .order_by(messages.c.seq)
            )
            return [self._message(r) for r in rows]

    async def message(self, conversation_id: str, message_id: str) -> MessageRow | None:
        async with self.engine.connect() as conn:
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
        async with self.engine.begin() as conn:
            values: dict[str, Any] = {"checked": True}
            if redacted:
                values.update(text=self.sealer.seal(new_text, message_id), redacted=True)
            await conn.execute(update(messages).where(messages.c.id == message_id).values(**values))
        if redacted:
            await self.checkpoint()

    # -- staff -------------------------------------------------------------------------------

    async def add_user(
        self, username: str, display_name: str, role: str, password_hash: str, at: datetime
    ) -> str:
        uid = new_id()
        async with self.tx() as conn:
            await conn.execute(
                staff_users.insert().values(
                    id=uid, username=username, display_name=display_name, role=role,
                    password_hash=password_hash, created_at=at,
                )
            )
        return uid

    async def user_by_name(self, username: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(staff_users).where(staff_users.c.username == username))
            ).first()

    async def user(self, user_id: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(staff_users).where(staff_users.c.id == user_id))
            ).first()

    async def users(self) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(staff_users).order_by(staff_users.c.username))).all()

    async def update_user(self, user_id: str, **values: Any) -> None:
        async with self.tx() as conn:
            await conn.execute(update(staff_users).where(staff_users.c.id == user_id).values(**values))

    async def add_session(
        self, token_hash: str, user_id: str, at: datetime, expires_at: datetime
    ) -> None:
        async with self.tx() as conn:
            await conn.execute(
                staff_sessions.insert().values(
                    token_hash=token_hash, user_id=user_id, created_at=at, last_seen_at=at,
                    expires_at=expires_at,
                )
            )

    async def session(self, token_hash: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(staff_sessions, staff_users)
                    .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
                    .where(staff_sessions.c.token_hash == token_hash)
                )
            ).first()

    async def touch_session(self, token_hash: str, at: datetime) -> None:
        async with self.tx() as conn:
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.token_hash == token_hash)
                .values(last_seen_at=at)
            )

    async def revoke_session(self, token_hash: str, at: datetime) -> None:
        async with self.tx() as conn:
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.token_hash == token_hash)
                .values(revoked_at=at)
            )

    async def revoke_user_sessions(self, user_id: str, at: datetime) -> list[str]:
        async with self.tx() as conn:
            rows = await conn.execute(
                select(staff_sessions.c.token_hash).where(
                    staff_sessions.c.user_id == user_id, staff_sessions.c.revoked_at.is_(None)
                )
            )
            hashes = [r.token_hash for r in rows]
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.user_id == user_id, staff_sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return hashes

    # -- conversations -----------------------------------------------------------------------

    async def start_conversation(self, values: dict[str, Any]) -> int:
        """Insert a conversation and its contact row; returns the earlier contacts' count."""
        async with self.tx() as conn:
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
        return int(count)

    async def conversation(self, conversation_id: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(conversations).where(conversations.c.id == conversation_id)
                )
            ).first()

    async def conversation_by(self, **where: str) -> Row[Any] | None:
        conds = [getattr(conversations.c, k) == v for k, v in where.items()]
        async with self.engine.connect() as conn:
            return (await conn.execute(select(conversations).where(and_(*conds)))).first()

    async def update_conversation(self, conversation_id: str, **values: Any) -> None:
        async with self.tx() as conn:
            await conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(**values)
            )

    async def open_conversations(self) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(conversations)
                    .where(conversations.c.status != "ended")
                    .order_by(conversations.c.created_at)
                )
            ).all()

    async def volunteer_names(self, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(staff_users.c.id, staff_users.c.display_name).where(staff_users.c.id.in_(ids))
            )
            return {r.id: r.display_name for r in rows}

    # -- sanctions ---------------------------------------------------------------------------

    async def add_sanction(self, values: dict[str, Any]) -> str:
        sid = new_id()
        async with self.tx() as conn:
            await conn.execute(sanctions.insert().values(id=sid, **values))
        return sid

    async def active_sanction(self, address_hash: str, now: datetime) -> Row[Any] | None:
        """The sanction that ends last among those in force for this address (block first)."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(sanctions).where(
                        sanctions.c.address_hash == address_hash,
                        sanctions.c.until > now,
                        sanctions.c.lifted_at.is_(None),
                    )
                )
            ).all()
        if not rows:
            return None
        return max(rows, key=lambda r: (r.kind == "block", utc(r.until)))

    async def count_sanctions(self, address_hash: str, kind: str, since: datetime) -> int:
        async with self.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(sanctions)
                        .where(
                            sanctions.c.address_hash == address_hash,
                            sanctions.c.kind == kind,
                            sanctions.c.created_at >= since,
                        )
                    )
                ).scalar_one()
            )

    async def sanctions(
        self,
        kind: str | None = None,
        active_at: datetime | None = None,
        since: datetime | None = None,
    ) -> Sequence[Row[Any]]:
        q = select(sanctions).order_by(sanctions.c.created_at.desc())
        if kind:
            q = q.where(sanctions.c.kind == kind)
        if since is not None:
            q = q.where(sanctions.c.created_at >= since)
        if active_at is not None:
            q = q.where(sanctions.c.until > active_at, sanctions.c.lifted_at.is_(None))
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()

    async def sanction(self, sanction_id: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(sanctions).where(sanctions.c.id == sanction_id))).first()

    async def lift_sanction(self, sanction_id: str, at: datetime, by: str) -> None:
        async with self.tx() as conn:
            await conn.execute(
                update(sanctions)
                .where(sanctions.c.id == sanction_id)
                .values(lifted_at=at, lifted_by=by)
            )

    # -- audit log (append-only: there is no update or delete here) --------------------------

    async def audit(
        self,
        at: datetime,
        action: str,
        *,
        actor_id: str | None,
        actor: str | None,
        conversation_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        async with self.tx() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=at, action=action, actor_id=actor_id, actor=actor,
                    conversation_id=conversation_id,
                    detail=json.dumps(detail, ensure_ascii=False) if detail else None,
                )
            )

    async def audit_entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        conversation_id: str | None = None,
        limit: int = 500,
    ) -> Sequence[Row[Any]]:
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
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()

    async def delete_conversation(self, conversation_id: str) -> None:
        async with self.tx() as conn:
            await conn.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
            await conn.execute(delete(conversations).where(conversations.c.id == conversation_id))
