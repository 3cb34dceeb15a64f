"""The SQLite message writer: one thread, one connection, one transaction per batch.

The event loop hands each row to the thread through a `SimpleQueue` and awaits a future; the
thread takes everything that is waiting, inserts it and commits (one fsync), then resolves the
whole batch with a single `call_soon_threadsafe`. A chatter's delivery acknowledgements ride
along: each batch also records how far each of its conversations was delivered. Under load it lingers a moment before
committing so that more rows share the commit (group commit, as PostgreSQL's `commit_delay`);
a lone message at a quiet moment is committed at once."""

from __future__ import annotations

import asyncio
import ctypes
import functools
import logging
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_COLUMNS = ("id", "conversation_id", "sender", "staff_id", "text", "client_id", "created_at",
            "redacted", "checked")
# The highest sequence number in the table: SQLite's own choice for the next rowid is one more.
_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM messages"
_ROW = f"({', '.join('?' * (len(_COLUMNS) + 1))})"


@functools.lru_cache(maxsize=64)
def _insert(n: int) -> str:
    return (f"INSERT INTO messages (seq, {', '.join(_COLUMNS)}) VALUES "
            f"{', '.join([_ROW] * n)} ON CONFLICT DO NOTHING")

# Seconds the writer waits for company before a commit, when the last batch had company. At
# 3,000 msgs/s (bench/chat_bench.py) batches of 2.3 rows meant ~1,200 commits/s; waiting 1 ms
# gave ~550, 2 ms ~320, and each commit costs the server's one core a context switch or two
# and an fsync. A message waits at most this long; a lone one at a quiet moment not at all.
LINGER = 0.002
BATCH_MAX = 256
# Nice steps below the event loop. On one busy core the writer, woken by every first row of a
# batch, preempted the loop 1,200-1,900 times a second; five steps down it mostly runs in the
# loop's idle moments. At 4,000-4,400 msgs/s (bench/chat_bench.py, one core, three pairs of
# runs) message p99 was 11-30 ms with it and 62-235 ms without. It still gets a quarter of a
# contended core, and a core to itself when there is one.
NICENESS = 5

_DELIVERED = "UPDATE conversations SET delivered_seq = ? WHERE id = ? AND delivered_seq < ?"

# A row waiting for its commit, and the future its caller awaits (both writers use these).
Pending = tuple[dict[str, Any], "asyncio.Future[int | None]"]


@dataclass(frozen=True)
class Delivered:
    """The chatter acknowledged their conversation's messages up to `seq`. Nobody waits for
    it: it is committed with the next batch (db.MARK_DELAY), so `resume` after a restart or
    an end sends only what was not acknowledged."""

    conversation_id: str
    seq: int


# What the writers take from their queue; None stops them.
Item = Pending | Delivered | None


def delivered_upto(marks: Iterable[Delivered]) -> dict[str, int]:
    """The highest acknowledged sequence number per conversation among `marks`."""
    upto: dict[str, int] = {}
    for mark in marks:
        if mark.seq > upto.get(mark.conversation_id, 0):
            upto[mark.conversation_id] = mark.seq
    return upto


def split(batch: list[Pending | Delivered]) -> tuple[list[Pending], dict[str, int]]:
    """A batch's message rows, and its delivery marks folded per conversation."""
    pending = [item for item in batch if not isinstance(item, Delivered)]
    marks = [item for item in batch if isinstance(item, Delivered)]
    return pending, delivered_upto(marks)


class SqliteMessageWriter:
    def __init__(self, path: str, synchronous: str, to_sql: Mapping[str, Callable[[Any], Any]],
                 *, linger: float = LINGER, batch_max: int = BATCH_MAX) -> None:
        self.path = path
        self.synchronous = synchronous
        # SQLAlchemy's own conversions (datetimes, booleans), so rows read the same either way.
        self.to_sql = to_sql
        self.linger = linger
        self.batch_max = batch_max
        self._rows: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> asyncio.Future[int | None]:
        """The row's future: its sequence number once committed, or None when its client_id
        was already stored in its conversation (nothing was inserted)."""
        assert self._loop is not None, "start() first"
        fut: asyncio.Future[int | None] = self._loop.create_future()
        self._rows.put((row, fut))
        return fut

    def mark_delivered(self, mark: Delivered) -> None:
        self._rows.put(mark)

    async def close(self) -> None:
        """Commit what is queued, then stop the thread and close the connection."""
        if self._thread.is_alive():
            self._rows.put(None)
            await asyncio.to_thread(self._thread.join)

    # -- the writer thread ------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _run(self) -> None:
        _name_native_thread("cs-sqlite-write")
        _lower_priority(NICENESS)
        conn = self._connection()
        crowded = False
        stop = False
        try:
            while not stop:
                first = self._rows.get()
                if first is None:
                    break
                if crowded and self.linger:
                    time.sleep(self.linger)
                batch: list[Pending | Delivered] = [first]
                while len(batch) < self.batch_max:
                    try:
                        item = self._rows.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                crowded = len(batch) > 1
                pending, upto = split(batch)
                try:
                    seqs, error = self.write(conn, [row for row, _ in pending], upto), None
                except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                    log.error("message batch of %d failed: %s", len(batch), type(exc).__name__)
                    seqs, error = {}, exc
                self._hand_back(pending, seqs, error)
        finally:
            conn.close()

    def _hand_back(self, batch: list[Pending], seqs: dict[str, int],
                   error: BaseException | None) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(resolve_batch, batch, seqs, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def write(self, conn: sqlite3.Connection, rows: list[dict[str, Any]],
              delivered: Mapping[str, int] | None = None) -> dict[str, int]:
        """Insert the rows and record the delivery marks in one transaction; {id: seq} of the
        rows inserted (a row whose client_id was already stored in its conversation is skipped).

        One multi-row INSERT with the sequence numbers given, not one statement per row: the
        sqlite3 module lets go of the GIL at every step of a statement, and on a busy server
        each step cost the writer a wait for the GIL (a context switch per message). We hold
        the write lock (BEGIN IMMEDIATE), so the numbers after the highest in the table are
        ours, exactly the ones SQLite would have chosen itself."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            seqs = self._insert_rows(conn, rows) if rows else {}
            if delivered:
                conn.executemany(_DELIVERED, [(seq, cid, seq) for cid, seq in delivered.items()])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return seqs

    def _insert_rows(self, conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
        convert = self.to_sql
        (base,) = conn.execute(_LAST_SEQ).fetchone()
        seqs: dict[str, int] = {}
        values: list[Any] = []
        for seq, row in enumerate(rows, start=base + 1):
            seqs[row["id"]] = seq
            values.append(seq)
            values.extend(convert[c](row[c]) if c in convert else row[c] for c in _COLUMNS)
        before = conn.total_changes
        conn.execute(_insert(len(rows)), values)
        if conn.total_changes - before < len(rows):
            # A retry of a stored message was skipped: ask which rows went in.
            stored = dict(conn.execute(
                "SELECT id, seq FROM messages WHERE seq > ? AND seq <= ?",
                (base, base + len(rows)),
            ).fetchall())
            seqs = {row["id"]: stored[row["id"]] for row in rows if row["id"] in stored}
        return seqs


def _name_native_thread(name: str) -> None:
    """Name this thread for the kernel too (`top -H`, /proc/<pid>/task/*/comm; at most 15
    bytes), so an operator or a benchmark can tell the writer from the event loop."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _lower_priority(steps: int) -> None:
    """Lower this thread's priority (Linux keeps a nice value per thread); elsewhere nothing."""
    if sys.platform != "linux" or steps <= 0:
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + steps))
    except OSError:
        log.warning("could not lower the message writer's priority")


def resolve_batch(batch: list[Pending], seqs: dict[str, int], error: BaseException | None) -> None:
    """On the event loop: every future of one committed (or failed) batch at once."""
    for row, fut in batch:
        if fut.done():  # its caller was cancelled; the row is stored all the same
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(seqs.get(row["id"]))
