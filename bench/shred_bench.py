"""What conversation keys (crypto-shredding, issue 15) cost: message writes and redactions.

    .venv/bin/python -m bench.shred_bench [--conversations 200] [--messages 20] [--rounds 6]
    .venv/bin/python -m bench.shred_bench --database-url postgresql+asyncpg://...

One store (SQLite file with synchronous=FULL by default), one run, alternating rounds of:

- `conversation key`: `Store.messages.add` as the server calls it (sealed under the
  conversation's own key, held in memory);
- `master key (before)`: the add of the commit before conversation keys, inlined here (sealed
  under the master key, same row through the same group-commit writer).

Each round, every conversation sends --messages messages one after another, all conversations at
once (so batches form as on a busy server). Printed: messages/s and process CPU per message of
each, and their ratio. Then the price of a redaction, which now re-seals the whole conversation
under a fresh key: ms per redaction for conversations of 10, 100 and 1,000 messages, against the
old single-row UPDATE in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from chatserver.config import Settings
from chatserver.store import MessageRow, Store, new_id
from chatserver.store.models import messages
from chatserver.store.records import new_message_id

T0 = datetime(2026, 12, 2, 12, tzinfo=UTC)
TEXT = "Hoi, ik wil graag even praten over school en thuis, het gaat niet zo goed de laatste tijd."


async def old_add(store: Store, cid: str, plain: str) -> MessageRow:
    """Messages.add before migration 0006 (its first path): sealed under the master key."""
    mid = new_message_id(T0)
    row = {
        "id": mid, "conversation_id": cid, "sender": "chatter", "staff_id": None,
        "text": store.sealer.seal(plain, mid), "client_id": None, "created_at": T0,
        "redacted": False, "checked": False,
    }
    seq = await store.db.write_message(row)
    assert seq is not None
    return MessageRow(mid, seq, cid, "chatter", plain, T0)


async def new_add(store: Store, cid: str, plain: str) -> MessageRow:
    return await store.messages.add(cid, "chatter", plain, T0)


async def start(store: Store, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        cid = new_id()
        await store.conversations.start({"id": cid, "alias": "a", "status": "active",
                                         "created_at": T0})
        ids.append(cid)
    return ids


async def writes(store: Store, ids: list[str], per: int,
                 add: Callable[[Store, str, str], Awaitable[MessageRow]]) -> tuple[float, float]:
    """(messages per second, CPU ms per message) of every conversation sending `per`."""

    async def side(cid: str) -> None:
        for _ in range(per):
            await add(store, cid, TEXT)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(side(cid) for cid in ids))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(ids) * per
    return n / wall, cpu * 1000 / n


async def redactions(store: Store, size: int, count: int) -> tuple[float, float]:
    """ms per redaction (new: fresh key, whole conversation re-sealed; old: one UPDATE)."""
    new_ms, old_ms = [], []
    for _ in range(count):
        (cid,) = await start(store, 1)
        rows = [await store.messages.add(cid, "chatter", TEXT, T0) for _ in range(size)]
        t = time.perf_counter()
        await store.messages.replace_text(rows[0].id, "[NAAM]", redacted=True)
        new_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        async with store.db.engine.begin() as conn:  # replace_text before migration 0006
            await conn.execute(update(messages).where(messages.c.id == rows[1].id).values(
                text=store.sealer.seal("[NAAM]", rows[1].id), redacted=True, checked=True))
        await store.db.checkpoint_after_write()
        old_ms.append((time.perf_counter() - t) * 1000)
    return statistics.median(new_ms), statistics.median(old_ms)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.from_settings(Settings(
            data_dir=Path(tmp), database_url=url, redis_url=None, ip_hash_key=b"",
            secret_key=b"", data_keys=(("b1", b"b" * 32),), sqlite_synchronous="FULL"))
        await store.start()
        try:
            ids = await start(store, args.conversations)
            await writes(store, ids, 2, new_add)  # warm up: keys in memory, pages cached
            results: dict[str, list[tuple[float, float]]] = {"conversation key": [],
                                                             "master key (before)": []}
            adds = {"conversation key": new_add, "master key (before)": old_add}
            for i in range(args.rounds):  # alternating which goes first (the table grows)
                for name in sorted(adds, reverse=i % 2 == 1):
                    results[name].append(await writes(store, ids, args.messages, adds[name]))
            print(f"{url.split(':')[0]}, {args.conversations} conversations x {args.messages} "
                  f"messages, {args.rounds} rounds (median)")
            med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
                   for k, v in results.items()}
            for name, (rate, cpu) in med.items():
                print(f"  {name:22s} {rate:8.0f} msgs/s   {cpu:.3f} ms CPU/msg")
            new, old = med["conversation key"], med["master key (before)"]
            print(f"  ratio new/old: {new[0] / old[0]:.3f} (rate), {new[1] / old[1]:.3f} (CPU)")
            print("redaction, median ms (new: fresh key + whole conversation; old: one row)")
            for size in (10, 100, 1000):
                n, o = await redactions(store, size, args.redactions)
                print(f"  {size:5d} messages: new {n:7.1f} ms   old {o:6.1f} ms")
        finally:
            await store.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--messages", type=int, default=20, help="per conversation per round")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--redactions", type=int, default=5, help="per conversation size")
    p.add_argument("--database-url", help="default: a fresh SQLite file")
    asyncio.run(main(p.parse_args()))
