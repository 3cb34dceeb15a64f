"""What the indexes of `messages` cost the writer: CPU per stored message, SQLite only.

A fresh database in WAL mode with synchronous=FULL, 100,000 messages already stored over 5,000
conversations, then batches of N messages (one transaction each) spread over 500 live
conversations, as the server's writer does. Compares the schema before migration 0003 (random
message ids; indexes on id, (conversation_id, client_id) and (conversation_id, seq)) with the
current one (time-ordered ids; no (conversation_id, seq) index).

    python -m bench.index_bench [--batch 10] [--batches 500]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable

TABLE = (
    "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id VARCHAR(32) NOT NULL UNIQUE, "
    "conversation_id VARCHAR(32) NOT NULL, sender VARCHAR(16) NOT NULL, staff_id VARCHAR(32), "
    "text TEXT NOT NULL, client_id VARCHAR(64), created_at DATETIME NOT NULL, "
    "redacted BOOLEAN NOT NULL, checked BOOLEAN NOT NULL, UNIQUE (conversation_id, client_id))"
)
SEQ_INDEX = "CREATE INDEX ix_messages_conversation_seq ON messages (conversation_id, seq)"
INSERT = (
    "INSERT INTO messages (id, conversation_id, sender, text, client_id, created_at, redacted, "
    "checked) VALUES (?, ?, 'chatter', ?, ?, '2026-11-29 12:00:00.000000', 0, 0) "
    "ON CONFLICT DO NOTHING"
)


def random_id() -> str:
    return secrets.token_hex(12)


def ordered_id() -> str:
    return f"{time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF:012x}{secrets.token_hex(6)}"


def sealed() -> str:
    return base64.b64encode(os.urandom(120)).decode()


def measure(new_id: Callable[[], str], seq_index: bool, batch: int, batches: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "chat.db"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(TABLE)
        if seq_index:
            conn.execute(SEQ_INDEX)
        conversations = [secrets.token_hex(12) for _ in range(5000)]
        conn.execute("BEGIN")
        for i in range(100_000):
            conn.execute(INSERT, (new_id(), conversations[i % 5000], sealed(),
                                  secrets.token_hex(8)))
        conn.execute("COMMIT")
        work = [[(new_id(), conversations[(k * batch + j * 7) % 500], sealed(),
                  secrets.token_hex(8)) for j in range(batch)] for k in range(batches)]
        start = time.thread_time()
        for rows in work:
            conn.execute("BEGIN IMMEDIATE")
            for row in rows:
                conn.execute(INSERT, row)
            conn.execute("COMMIT")
        cpu = time.thread_time() - start
        conn.close()
    return cpu / (batch * batches) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--batches", type=int, default=500)
    args = p.parse_args()
    print(f"SQLite {sqlite3.sqlite_version}, batches of {args.batch}, {args.batches} commits")
    for label, new_id, seq_index in (
        ("before 0003: random ids, (conversation_id, seq) index", random_id, True),
        ("time-ordered ids, (conversation_id, seq) index", ordered_id, True),
        ("now: time-ordered ids, no (conversation_id, seq) index", ordered_id, False),
    ):
        ms = measure(new_id, seq_index, args.batch, args.batches)
        print(f"  {label:56s} {ms:.4f} ms CPU per message")


if __name__ == "__main__":
    main()
