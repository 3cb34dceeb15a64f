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
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatserver.store.models import (
    audit_log,
    contacts,
    conversations,
    messages,
    metadata,
    research_contact_hours,
    research_conversations,
    research_messages,
    sanctions,
    staff_sessions,
    staff_users,
    subject_requests,
)
from chatserver.store.sealing import Sealer
from chatserver.store.sqlite_writer import (
    BATCH_MAX,
    Delivered,
    Item,
    Pending,
    SqliteMessageWriter,
    resolve_batch,
    split,
)

log = logging.getLogger(__name__)


MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def migrate(connection: Connection) -> None:
    """`alembic upgrade head` on this connection; a database made by `create_all` before
    migrations existed is stamped instead. Then `create_all` adds what a model change brought
    before its migration (development only: tests/live/test_migrations.py fails until the
    migration is written) and SQLite's audit-log triggers."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(80412001)")
    if MIGRATIONS.is_dir():
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        tables = inspect(connection)
        if not tables.has_table("alembic_version") and tables.has_table("staff_users"):
            command.stamp(config, "head")
        else:
            command.upgrade(config, "head")
    metadata.create_all(connection)


def _sqlite_lock(url: str) -> Any:
    """An exclusive lock file beside the SQLite database, held while the schema changes."""
    import fcntl

    path = make_url(url).database
    if not path or path == ":memory:":
        return None
    f = open(f"{path}.migrate-lock", "a")  # noqa: SIM115 - closed by the caller
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def new_id() -> str:
    return secrets.token_hex(12)


def new_message_id(at: datetime) -> str:
    """24 hex digits like `new_id`, but the first 12 are the milliseconds of `at`: the unique
    index on message ids then grows at its end instead of touching a random page per message
    (the time is no secret, every message carries it in `ts`)."""
    return f"{int(at.timestamp() * 1000) & 0xFFFFFFFFFFFF:012x}{secrets.token_hex(6)}"


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

        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._checkpoint_lock = asyncio.Lock()
        self._checkpoint_requested = 0
        self._checkpoint_done = 0
        self._writer: asyncio.Task[None] | None = None
        self._started = False
        self._insert = (sqlite.insert if self.is_sqlite else postgresql.insert)(messages)
        self._sqlite_writer: SqliteMessageWriter | None = None
        database = self.engine.url.database
        if self.is_sqlite and database and database != ":memory:":
            dialect = self.engine.dialect
            to_sql = {}
            for name in ("created_at", "redacted", "checked"):
                process = messages.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    to_sql[name] = process
            self._sqlite_writer = SqliteMessageWriter(database, sqlite_synchronous, to_sql)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring the schema up to date (Alembic), then start the message writer.

        Several workers may start at once: PostgreSQL serialises them with an advisory lock,
        SQLite with a lock file next to the database."""
        lock = await asyncio.to_thread(_sqlite_lock, self.url) if self.is_sqlite else None
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(migrate)
        finally:
            if lock is not None:
                lock.close()
        if self._sqlite_writer is not None:
            self._sqlite_writer.start()
        else:
            self._writer = asyncio.create_task(self._write_loop(), name="message-writer")
        self._started = True

    async def close(self) -> None:
        # Queued messages commit before the engine goes away (both writers stop at a marker
        # placed behind them).
        if self._sqlite_writer is not None:
            await self._sqlite_writer.close()
        if self._writer is not None:
            self._queue.put_nowait(None)
            await self._writer
        if self._started:
            with contextlib.suppress(Exception):
                await self.checkpoint()  # leave no overwritten text behind in the WAL
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

    async def checkpoint_after_write(self) -> None:
        """Return once a checkpoint that began after this call has finished.

        Callers arriving together share one checkpoint: fifty flags at once cost one or two
        checkpoints, not fifty fsyncs that hold the write lock while messages wait."""
        self._checkpoint_requested += 1
        ticket = self._checkpoint_requested
        async with self._checkpoint_lock:
            if self._checkpoint_done >= ticket:
                return
            covered = self._checkpoint_requested
            await self.checkpoint()
            self._checkpoint_done = covered

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
        if self._sqlite_writer is not None:
            seq = await self._sqlite_writer.submit(row)
        else:
            fut: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
            self._queue.put_nowait((row, fut))
            seq = await fut
        if seq is not None:
            return MessageRow(mid, seq, conversation_id, sender, plain, at)
        # A retry of a message already stored (same client_id): the first one, as it was.
        async with self.engine.connect() as conn:
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
        mark = Delivered(conversation_id, seq)
        if self._sqlite_writer is not None:
            self._sqlite_writer.mark_delivered(mark)
        else:
            self._queue.put_nowait(mark)

    async def _write_loop(self) -> None:
        """Group commit through SQLAlchemy (PostgreSQL, SQLite in memory): every message
        waiting when a transaction starts shares it. File-backed SQLite has its own thread
        (sqlite_writer.py)."""
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is None:
                break
            batch: list[Pending | Delivered] = [first]
            while len(batch) < BATCH_MAX and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            pending, upto = split(batch)
            try:
                seqs, error = await self._write_batch([row for row, _ in pending], upto), None
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                log.error("message batch of %d failed: %s", len(batch), type(exc).__name__)
                seqs, error = {}, exc
            resolve_batch(pending, seqs, error)

    async def _write_batch(self, rows: list[dict[str, Any]], delivered: dict[str, int]
                           ) -> dict[str, int]:
        seqs: dict[str, int] = {}
        async with self.engine.begin() as conn:
            if rows:
                stmt = self._insert.on_conflict_do_nothing().returning(
                    messages.c.id, messages.c.seq
                )
                seqs = {r.id: r.seq for r in await conn.execute(stmt, rows)}
            if delivered:
                await conn.execute(
                    update(conversations)
                    .where(conversations.c.id == bindparam("cid"),
                           conversations.c.delivered_seq < bindparam("seq"))
                    .values(delivered_seq=bindparam("seq")),
                    [{"cid": cid, "seq": seq} for cid, seq in delivered.items()],
                )
        return seqs

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

    async def redacted_messages(self, conversation_id: str) -> list[MessageRow]:
        """The conversation's redacted messages in order, with their text as it is now."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.redacted)
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
            await self.checkpoint_after_write()

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

    # -- privacy: retention, research store, requests of data subjects, audit reports -------

    async def conversations_created_before(self, cutoff: datetime, limit: int) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(conversations)
                    .where(conversations.c.created_at < cutoff)
                    .order_by(conversations.c.created_at, conversations.c.id)
                    .limit(limit)
                )
            ).all()

    async def move_to_research(
        self,
        conversation_id: str,
        record: dict[str, Any],
        texts: Sequence[tuple[str, str]],
        hour: int,
    ) -> bool:
        """In one transaction: the anonymised copy in, the original (messages, reference) out.

        False when another sweeper moved the conversation first (nothing is written then)."""
        upsert = (sqlite.insert if self.is_sqlite else postgresql.insert)(research_contact_hours)
        async with self.tx() as conn:
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

    async def drop_old_addresses(self, cutoff: datetime, now: datetime) -> dict[str, int]:
        """Hashed addresses older than `cutoff`: contact rows go; sanctions that are over keep
        their row but lose the hash (a per-row marker that matches no address)."""
        async with self.tx() as conn:
            contacts_dropped = (
                await conn.execute(delete(contacts).where(contacts.c.created_at < cutoff))
            ).rowcount
            old = (
                await conn.execute(
                    select(sanctions.c.id).where(
                        sanctions.c.created_at < cutoff,
                        ~sanctions.c.address_hash.startswith("erased:"),
                        (sanctions.c.until <= now) | sanctions.c.lifted_at.is_not(None),
                    )
                )
            ).all()
            for r in old:
                await conn.execute(
                    update(sanctions).where(sanctions.c.id == r.id)
                    .values(address_hash=f"erased:{r.id}")
                )
            conv_dropped = (
                await conn.execute(
                    update(conversations)
                    .where(conversations.c.created_at < cutoff,
                           conversations.c.address_hash.is_not(None))
                    .values(address_hash=None)
                )
            ).rowcount
        return {"contacts": int(contacts_dropped or 0), "sanctions": len(old),
                "conversations": int(conv_dropped or 0)}

    async def research_conversations_between(
        self, since: Any, until: Any, *, after_id: str = "", limit: int = 1000
    ) -> Sequence[Row[Any]]:
        q = select(research_conversations).order_by(research_conversations.c.id).limit(limit)
        q = q.where(research_conversations.c.id > after_id)
        if since is not None:
            q = q.where(research_conversations.c.day >= since)
        if until is not None:
            q = q.where(research_conversations.c.day < until)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()

    async def research_messages_of(self, ids: Sequence[str]) -> Sequence[Row[Any]]:
        if not ids:
            return []
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(research_messages)
                    .where(research_messages.c.conversation_id.in_(ids))
                    .order_by(research_messages.c.conversation_id, research_messages.c.position)
                )
            ).all()

    async def research_contact_hours_between(self, since: Any, until: Any) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(research_contact_hours).where(
                        research_contact_hours.c.day >= since, research_contact_hours.c.day < until
                    )
                )
            ).all()

    async def conversation_statistics(self, since: datetime, until: datetime) -> Sequence[Any]:
        """Conversations started in [since, until) with their message counts (no text)."""
        counts = (
            select(messages.c.conversation_id, func.count().label("message_count"))
            .group_by(messages.c.conversation_id)
            .subquery()
        )
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(
                        conversations.c.created_at, conversations.c.paired_at,
                        conversations.c.ended_at, conversations.c.status,
                        conversations.c.age, conversations.c.chatter_age,
                        conversations.c.topic, conversations.c.chatter_topic,
                        func.coalesce(counts.c.message_count, 0).label("message_count"),
                    )
                    .select_from(conversations.outerjoin(
                        counts, counts.c.conversation_id == conversations.c.id))
                    .where(conversations.c.created_at >= since, conversations.c.created_at < until)
                )
            ).all()

    async def sanctions_of_conversation(self, conversation_id: str) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(sanctions).where(sanctions.c.conversation_id == conversation_id)
                    .order_by(sanctions.c.created_at)
                )
            ).all()

    async def erase_conversation(self, conversation_id: str, now: datetime) -> dict[str, int]:
        """Erasure on request: messages, the conversation (with its reference and address hash),
        its contact row and its sanctions that are over. Sanctions in force are kept."""
        async with self.tx() as conn:
            row = (
                await conn.execute(select(conversations).where(conversations.c.id == conversation_id))
            ).first()
            if row is None:
                return {"conversation": 0, "messages": 0, "contacts": 0, "sanctions": 0,
                        "sanctions_kept": 0}
            msgs = (
                await conn.execute(
                    delete(messages).where(messages.c.conversation_id == conversation_id))
            ).rowcount
            contact = 0
            if row.address_hash:
                contact = (
                    await conn.execute(
                        delete(contacts).where(contacts.c.address_hash == row.address_hash,
                                               contacts.c.created_at == row.created_at)
                    )
                ).rowcount
            over = (sanctions.c.until <= now) | sanctions.c.lifted_at.is_not(None)
            sanctions_gone = (
                await conn.execute(
                    delete(sanctions).where(sanctions.c.conversation_id == conversation_id, over))
            ).rowcount
            kept = (
                await conn.execute(
                    select(func.count()).select_from(sanctions)
                    .where(sanctions.c.conversation_id == conversation_id)
                )
            ).scalar_one()
            await conn.execute(delete(conversations).where(conversations.c.id == conversation_id))
        await self.checkpoint()
        return {"conversation": 1, "messages": int(msgs or 0), "contacts": int(contact or 0),
                "sanctions": int(sanctions_gone or 0), "sanctions_kept": int(kept)}

    async def add_subject_request(self, values: dict[str, Any]) -> str:
        rid = new_id()
        async with self.tx() as conn:
            await conn.execute(subject_requests.insert().values(id=rid, **values))
        return rid

    async def subject_request(self, request_id: str) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(subject_requests).where(subject_requests.c.id == request_id))
            ).first()

    async def subject_requests(self, status: str | None = None) -> Sequence[Row[Any]]:
        q = select(subject_requests).order_by(subject_requests.c.received_at.desc())
        if status == "open":
            q = q.where(subject_requests.c.closed_at.is_(None))
        elif status == "closed":
            q = q.where(subject_requests.c.closed_at.is_not(None))
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()

    async def update_subject_request(self, request_id: str, **values: Any) -> None:
        async with self.tx() as conn:
            await conn.execute(
                update(subject_requests).where(subject_requests.c.id == request_id).values(**values)
            )

    async def audit_window(
        self, since: datetime, until: datetime | None = None, actor: str | None = None
    ) -> Sequence[Row[Any]]:
        """Every audit entry in a window, oldest first (breach reports: no limit)."""
        q = select(audit_log).where(audit_log.c.at >= since).order_by(audit_log.c.id)
        if until is not None:
            q = q.where(audit_log.c.at < until)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()

    async def sessions_in_window(
        self, since: datetime, until: datetime | None = None, username: str | None = None
    ) -> Sequence[Any]:
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
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).all()
