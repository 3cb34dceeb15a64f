"""The database: engine and SQLite pragmas, migrations at start, transactions, checkpoints.

It also runs the group-commit message writer: one transaction (one fsync) per batch of
messages, each message's future resolved only after its batch has committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, event, inspect, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatserver.store.models import conversations, messages, metadata
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


# Delivery marks reach the writer with the next message, or after this long, the highest per
# conversation: they ride along in a transaction that is written anyway instead of waking the
# writer for one each.
MARK_DELAY = 0.2

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


def _sqlite_lock(url: str) -> IO[str] | None:
    """An exclusive lock file beside the SQLite database, held while the schema changes."""
    import fcntl

    path = make_url(url).database
    if not path or path == ":memory:":
        return None
    f = open(f"{path}.migrate-lock", "a")  # noqa: SIM115 - closed by the caller
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


class Database:
    """Owns the engine and the message writer; repositories borrow its connections."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        # An error names its SQL but never its values (hashes, notes, sealed text).
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **kwargs)
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

        self.dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._marks: dict[str, int] = {}
        self._marks_timer: asyncio.TimerHandle | None = None
        self._checkpoint_lock = asyncio.Lock()
        self._checkpoint_requested = 0
        self._checkpoint_done = 0
        self._writer: asyncio.Task[None] | None = None
        self._started = False
        self._insert = self.dialect_insert(messages)
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
        # Queued messages and marks commit before the engine goes away (both writers stop at
        # a marker placed behind them).
        self._flush_marks()
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

    # -- the message writer: group commit ----------------------------------------------------

    async def write_message(self, row: dict[str, Any]) -> int | None:
        """Insert one message row with the next batch; its seq once committed, or None when
        its (conversation_id, client_id) was already stored. Delivery marks waiting go
        with it."""
        if self._marks:
            self._flush_marks()
        if self._sqlite_writer is not None:
            return await self._sqlite_writer.submit(row)
        fut: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((row, fut))
        return await fut

    def mark_delivered(self, mark: Delivered) -> None:
        """Record a delivery mark with the next message, within `MARK_DELAY` at the latest
        (nobody waits for it)."""
        if self._marks.get(mark.conversation_id, -1) < mark.seq:
            self._marks[mark.conversation_id] = mark.seq
        if self._marks_timer is None:
            self._marks_timer = asyncio.get_running_loop().call_later(MARK_DELAY,
                                                                      self._flush_marks)

    def _flush_marks(self) -> None:
        if self._marks_timer is not None:
            self._marks_timer.cancel()
            self._marks_timer = None
        marks, self._marks = self._marks, {}
        for conversation_id, seq in marks.items():
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
                await record_delivered(conn, delivered)
        return seqs


async def record_delivered(conn: AsyncConnection, upto: dict[str, int]) -> None:
    """Advance each conversation's `delivered_seq` to its acknowledged seq; never back."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == bindparam("cid"),
               conversations.c.delivered_seq < bindparam("seq"))
        .values(delivered_seq=bindparam("seq")),
        [{"cid": cid, "seq": seq} for cid, seq in upto.items()],
    )
