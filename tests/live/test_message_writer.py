"""The group-commit message writer, on SQLite (its own thread, multi-row inserts) and on
PostgreSQL (batches through SQLAlchemy): order, duplicates, failures and shutdown."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chatserver.config import Settings
from chatserver.store import Store, new_id
from chatserver.store.sqlite_writer import NICENESS
from tests.harness.waiting import eventually

KEYS = (("k1", b"k" * 32),)
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    return str(request.getfixturevalue("postgres").create_database(f"w{uuid.uuid4().hex[:8]}"))


async def open_store(url: str) -> Store:
    store = Store.from_settings(Settings(data_dir=Path(), database_url=url, redis_url=None,
                                         ip_hash_key=b"", secret_key=b"", data_keys=KEYS))
    await store.start()
    return store


async def new_conversation(store: Store) -> str:
    cid = new_id()
    await store.conversations.start({
        "id": cid, "alias": f"a{cid[:7]}", "address_hash": None, "resume_hash": new_id(),
        "status": "active", "created_at": T0,
    })
    return cid


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, tmp_path, request)


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    store = await open_store(url)
    yield store
    await store.close()


async def test_concurrent_messages_keep_their_order_and_text(store: Store) -> None:
    cids = [await new_conversation(store) for _ in range(8)]
    sends = [
        store.messages.add(cids[i % 8], "chatter", f"bericht {i}", T0 + timedelta(seconds=i),
                           client_id=f"c{i}")
        for i in range(400)
    ]
    rows = await asyncio.gather(*sends)  # submitted in this order, committed in batches
    seqs = [r.seq for r in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 400
    assert len({r.id for r in rows}) == 400 and not any(r.duplicate for r in rows)
    for k, cid in enumerate(cids):
        stored = await store.messages.of_conversation(cid)
        assert [m.text for m in stored] == [f"bericht {i}" for i in range(k, 400, 8)]
        assert [m.id for m in stored] == [r.id for r in rows[k::8]]


async def test_a_retried_client_id_returns_the_first_message(store: Store) -> None:
    cid, other = await new_conversation(store), await new_conversation(store)
    # Twice in one batch, and the same client_id in another conversation (not a retry).
    first, again, elsewhere = await asyncio.gather(
        store.messages.add(cid, "chatter", "hoi", T0, client_id="same"),
        store.messages.add(cid, "chatter", "hoi (opnieuw)", T0, client_id="same"),
        store.messages.add(other, "chatter", "hallo", T0, client_id="same"),
    )
    assert not first.duplicate and not elsewhere.duplicate
    assert again.duplicate and (again.id, again.seq, again.text) == (first.id, first.seq, "hoi")
    later = await store.messages.add(cid, "chatter", "nog eens", T0, client_id="same")
    assert later.duplicate and later.id == first.id
    assert [m.text for m in await store.messages.of_conversation(cid)] == ["hoi"]
    assert [m.text for m in await store.messages.of_conversation(other)] == ["hallo"]


async def test_numbers_stay_increasing_after_the_newest_messages_are_deleted(store: Store) -> None:
    keep, gone = await new_conversation(store), await new_conversation(store)
    kept = await store.messages.add(keep, "chatter", "blijft", T0)
    await asyncio.gather(*(store.messages.add(gone, "chatter", f"weg {i}", T0)
                           for i in range(5)))
    await store.conversations.delete(gone)
    after = await store.messages.add(keep, "volunteer", "daarna", T0, staff_id=None)
    assert after.seq > kept.seq
    assert [m.text for m in await store.messages.of_conversation(keep)] == ["blijft", "daarna"]
    assert [m.text for m in await store.messages.of_conversation(keep, after_seq=kept.seq)] == ["daarna"]


async def test_a_failed_batch_fails_its_callers_and_the_writer_goes_on(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = await open_store(database_url("sqlite", tmp_path, request))
    try:
        cid = await new_conversation(store)
        writer = store.db._sqlite_writer
        assert writer is not None
        bad: dict[str, Any] = {
            "id": new_id(), "conversation_id": cid, "sender": "chatter", "staff_id": None,
            "text": None, "client_id": None, "created_at": T0, "redacted": False,
            "checked": False,
        }  # text is NOT NULL: the whole transaction fails
        fut = writer.submit(bad)
        with pytest.raises(Exception, match="NOT NULL"):
            await fut
        row = await store.messages.add(cid, "chatter", "gaat door", T0)
        assert [m.id for m in await store.messages.of_conversation(cid)] == [row.id]
    finally:
        await store.close()


async def test_close_commits_what_was_queued(url: str) -> None:
    store = await open_store(url)
    cid = await new_conversation(store)
    pending = [asyncio.ensure_future(store.messages.add(cid, "chatter", f"m{i}", T0))
               for i in range(50)]
    await asyncio.sleep(0)  # every add_message has handed its row over
    await store.close()
    rows = await asyncio.gather(*pending)
    store = await open_store(url)
    try:
        assert [m.id for m in await store.messages.of_conversation(cid)] == [r.id for r in rows]
    finally:
        await store.close()


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value per thread is Linux's")
async def test_the_writer_thread_yields_to_the_event_loop(tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    store = await open_store(database_url("sqlite", tmp_path, request))
    try:
        await store.messages.add(await new_conversation(store), "chatter", "hoi", T0)
        writer = next(t for t in threading.enumerate() if t.name == "sqlite-writer")
        assert writer.native_id is not None
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert os.getpriority(os.PRIO_PROCESS, writer.native_id) == min(19, mine + NICENESS)
        # Named for the kernel too: `top -H` and the benchmarks' wake-ups per thread tell it
        # from the event loop.
        comm = Path(f"/proc/self/task/{writer.native_id}/comm").read_text().strip()
        assert comm == "cs-sqlite-write"
    finally:
        await store.close()


async def test_delivery_marks_commit_with_the_next_batch_and_never_go_back(store: Store) -> None:
    cid, other = await new_conversation(store), await new_conversation(store)
    rows = [await store.messages.add(cid, "volunteer", f"m{i}", T0) for i in range(3)]
    store.messages.mark_delivered(cid, rows[2].seq)
    store.messages.mark_delivered(cid, rows[0].seq)  # a late acknowledgement of an earlier message
    store.messages.mark_delivered(other, rows[1].seq)
    await store.messages.add(cid, "chatter", "daarna", T0)  # committed with (or after) them
    mine, theirs = await store.conversations.get(cid), await store.conversations.get(other)
    assert mine is not None and theirs is not None
    assert (mine.delivered_seq, theirs.delivered_seq) == (rows[2].seq, rows[1].seq)
    store.messages.mark_delivered(cid, rows[1].seq)
    await store.messages.add(cid, "chatter", "en nog een", T0)
    again = await store.conversations.get(cid)
    assert again is not None and again.delivered_seq == rows[2].seq


async def test_a_delivery_mark_alone_is_committed_soon(store: Store) -> None:
    """With no message to ride along with, a mark is written after MARK_DELAY."""
    cid = await new_conversation(store)
    row = await store.messages.add(cid, "volunteer", "hoi", T0)
    store.messages.mark_delivered(cid, row.seq)

    async def recorded() -> bool:
        conv = await store.conversations.get(cid)
        return conv is not None and conv.delivered_seq == row.seq

    await eventually(recorded, within=5, what="the mark committed")
