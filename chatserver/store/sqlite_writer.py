"""The SQLite message writer: one thread, one connection, one transaction per batch.

The group-commit writer hands it a whole batch in a single hop; it inserts every message and
commits (one fsync), then returns the sequence numbers the database gave them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_COLUMNS = ("id", "conversation_id", "sender", "staff_id", "text", "client_id", "created_at",
            "redacted", "checked")
_INSERT = (
    f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT DO NOTHING RETURNING seq"
)


class SqliteMessageWriter:
    def __init__(self, path: str, synchronous: str, to_sql: Mapping[str, Callable[[Any], Any]]
                 ) -> None:
        self.path = path
        self.synchronous = synchronous
        # SQLAlchemy's own conversions (datetimes, booleans), so rows read the same either way.
        self.to_sql = to_sql
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._conn = conn
        return self._conn

    def write(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert the rows in one transaction; {id: seq} of those inserted (a row whose
        client_id was already stored in its conversation is skipped)."""
        conn = self._connection()
        convert = self.to_sql
        seqs: dict[str, int] = {}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                values = [convert[c](row[c]) if c in convert else row[c] for c in _COLUMNS]
                got = conn.execute(_INSERT, values).fetchone()
                if got is not None:
                    seqs[row["id"]] = int(got[0])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return seqs

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self.thread.submit(shut).result()
        self.thread.shutdown(wait=True)
