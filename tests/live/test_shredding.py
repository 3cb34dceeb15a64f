"""Crypto-shredding (issue 15): each conversation's text is sealed under its own data key, and a
copy of the old text kept after a redaction or an erasure (a backup, a `pg_dump`, the WAL, a dead
row version in PostgreSQL's pages) can no longer be opened with any key the server holds.

Opening is tried as the server would, and as someone holding the master key would: with the
master key (which opened every value before conversation keys) and with every conversation key
still in the database."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from chatserver.config import Settings
from chatserver.privacy.retention import plan_research_record
from chatserver.store import Store, new_id
from chatserver.store.models import conversation_keys, messages
from chatserver.store.records import new_message_id
from chatserver.store.sealing import Sealer, SealError, conversation_version
from tests.harness.processes import run
from tests.harness.waiting import eventually
from tests.live.postgres_server import PostgresServer

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SECRET = "ik woon op de Zwanenburgstraat 12 in Purmerend"
REDACTED = "ik woon op de [ADRES] in [PLAATS]"


def master(kid: str) -> tuple[str, bytes]:
    return kid, secrets.token_bytes(32)


MASTER = master("m1")


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"


async def open_store(url: str, *keys: tuple[str, bytes], several_workers: bool = False) -> Store:
    settings = Settings(data_dir=Path(), database_url=url, redis_url=None, ip_hash_key=b"",
                        secret_key=b"", data_keys=keys or (MASTER,))
    store = Store.from_settings(settings)
    if several_workers:  # as from_settings does with CHATSERVER_REDIS_URL set
        store = Store(store.db, store.sealer, several_workers=True)
    await store.start()
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return pg(request).create_database(f"s{uuid.uuid4().hex[:8]}")


def pg(request: pytest.FixtureRequest) -> PostgresServer:
    server: PostgresServer = request.getfixturevalue("postgres")
    return server


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    store = await open_store(url)
    yield store
    await store.close()


async def new_conversation(store: Store, created_at: datetime = T0) -> str:
    cid = new_id()
    await store.conversations.start({
        "id": cid, "alias": f"a{cid[:7]}", "address_hash": None, "resume_hash": new_id(),
        "status": "active", "created_at": created_at,
    })
    return cid


async def stored(store: Store, cid: str) -> dict[str, str]:
    """{message id: sealed text} as a raw read of the table gives it."""
    async with store.db.engine.connect() as conn:
        rows = await conn.execute(select(messages.c.id, messages.c.text)
                                  .where(messages.c.conversation_id == cid))
        return {r.id: r.text for r in rows}


async def key_rows(store: Store, cid: str) -> dict[str, str]:
    """{version: the key as stored (sealed under the master key)} of a conversation."""
    async with store.db.engine.connect() as conn:
        rows = await conn.execute(select(conversation_keys)
                                  .where(conversation_keys.c.conversation_id == cid))
        return {r.version: r.key for r in rows}


async def opens(store: Store, cid: str, mid: str, sealed: str) -> bool:
    """Whether `sealed` (message `mid`'s text, from wherever) opens with what the server holds:
    its master keys, or any key of the conversation still in the database."""
    try:
        store.sealer.open(sealed, mid)
        return True
    except (SealError, ValueError):
        pass
    version = conversation_version(sealed)
    if version is None:
        return False
    keys = await store.conversation_keys.for_reading(cid, {version})
    try:
        store.conversation_keys.opener(keys)(sealed, mid)
        return True
    except (SealError, ValueError):
        return False


async def chat(store: Store) -> tuple[str, list[str]]:
    cid = await new_conversation(store)
    rows = [await store.messages.add(cid, "chatter", SECRET, T0),
            await store.messages.add(cid, "volunteer", "dank je, vertel verder", T0),
            await store.messages.add(cid, "chatter", "mijn stiefvader slaat", T0)]
    return cid, [r.id for r in rows]


# -- redaction ------------------------------------------------------------------------------


async def test_after_a_redaction_the_old_ciphertext_opens_nowhere(store: Store) -> None:
    cid, (secret, *_) = await chat(store)
    other = await new_conversation(store)
    await store.messages.add(other, "chatter", "een ander gesprek", T0)
    before = await stored(store, cid)
    assert await opens(store, cid, secret, before[secret])

    await store.messages.replace_text(secret, REDACTED, redacted=True)

    # The copy taken before the redaction no longer opens, neither does any other message's old
    # copy (the whole conversation moved to a fresh key); the server reads the new text.
    for mid, sealed in before.items():
        assert not await opens(store, cid, mid, sealed), mid
    after = await store.messages.of_conversation(cid)
    assert [(m.text, m.redacted) for m in after] == [
        (REDACTED, True), ("dank je, vertel verder", False), ("mijn stiefvader slaat", False)]
    assert len(await key_rows(store, cid)) == 1
    assert [m.text for m in await store.messages.of_conversation(other)] == ["een ander gesprek"]
    # The conversation goes on under its new key.
    row = await store.messages.add(cid, "volunteer", "en toen?", T0)
    assert (await store.messages.get(cid, row.id)).text == "en toen?"  # type: ignore[union-attr]


async def test_a_check_without_change_keeps_the_key(store: Store) -> None:
    cid, (secret, *_) = await chat(store)
    keys = await key_rows(store, cid)
    await store.messages.replace_text(secret, SECRET, redacted=False)
    assert await key_rows(store, cid) == keys
    assert (await store.messages.get(cid, secret)).checked  # type: ignore[union-attr]


async def test_messages_sent_during_a_redaction_stay_readable(store: Store) -> None:
    cid, (secret, *_) = await chat(store)
    # Messages sealed under the old key whose write lands after the redaction began: it waits
    # for them (else they would be stored under a key it has deleted).
    release = asyncio.Event()
    write = store.db.write_message

    async def held(row: dict[str, Any]) -> int | None:
        await release.wait()
        return await write(row)

    store.db.write_message = held  # type: ignore[method-assign]
    sends = [asyncio.ensure_future(store.messages.add(cid, "chatter", f"x{i}", T0))
             for i in range(60)]
    await asyncio.sleep(0)  # each one sealed and waiting for its write
    store.db.write_message = write  # type: ignore[method-assign]
    redaction = asyncio.ensure_future(store.messages.replace_text(secret, REDACTED, redacted=True))
    sends += [asyncio.ensure_future(store.messages.add(cid, "chatter", f"y{i}", T0))
              for i in range(60)]
    await eventually(lambda: redaction.done() or store.conversation_keys.draining(cid))
    release.set()
    await asyncio.gather(redaction, *sends)
    texts = [m.text for m in await store.messages.of_conversation(cid)]
    assert len(texts) == 123 and texts[0] == REDACTED
    assert sorted(texts[3:]) == sorted([f"x{i}" for i in range(60)] + [f"y{i}" for i in range(60)])
    assert len(await key_rows(store, cid)) == 1


async def test_messages_sealed_before_conversation_keys_keep_opening_and_move_on_redaction(
    store: Store,
) -> None:
    cid = await new_conversation(store)
    legacy = []
    async with store.db.tx() as conn:  # as written before migration 0006: under the master key
        for i, body in enumerate([SECRET, "oud bericht"]):
            mid = new_message_id(T0 + timedelta(seconds=i))
            legacy.append(mid)
            await conn.execute(messages.insert().values(
                id=mid, conversation_id=cid, sender="chatter", text=store.sealer.seal(body, mid),
                created_at=T0, redacted=False, checked=False))
    assert [m.text for m in await store.messages.of_conversation(cid)] == [SECRET, "oud bericht"]
    await store.messages.add(cid, "volunteer", "nieuw", T0)
    assert (await store.keys.counts())["messages.text"] == {"m1": 2}

    await store.messages.replace_text(legacy[0], REDACTED, redacted=True)
    assert [m.text for m in await store.messages.of_conversation(cid)] == [
        REDACTED, "oud bericht", "nieuw"]
    assert all(conversation_version(t) for t in (await stored(store, cid)).values())
    assert (await store.keys.counts())["messages.text"] == {}


async def test_rotation_moves_messages_sealed_before_conversation_keys_to_them(
    store: Store,
) -> None:
    cids = [await new_conversation(store) for _ in range(3)]
    async with store.db.tx() as conn:  # as written before migration 0006
        for i in range(9):
            mid = new_message_id(T0 + timedelta(seconds=i))
            await conn.execute(messages.insert().values(
                id=mid, conversation_id=cids[i % 3], sender="chatter",
                text=store.sealer.seal(f"oud {i}", mid), created_at=T0, redacted=False,
                checked=False))
    report = await store.keys.rotate(batch=2)
    assert report.resealed["messages.text"] == 9 and not report.unreadable
    assert (await store.keys.counts())["messages.text"] == {}
    for k, cid in enumerate(cids):
        assert [m.text for m in await store.messages.of_conversation(cid)] == [
            f"oud {i}" for i in range(k, 9, 3)]
        assert all(conversation_version(t) for t in (await stored(store, cid)).values())
        assert len(await key_rows(store, cid)) == 1


# -- erasure and retention ------------------------------------------------------------------


async def test_erasure_and_retention_destroy_the_conversation_keys(store: Store) -> None:
    erased, _ = await chat(store)
    moved, _ = await chat(store)
    kept, _ = await chat(store)
    copies = {cid: await stored(store, cid) for cid in (erased, moved, kept)}

    assert (await store.conversations.erase(erased, T0))["messages"] == 3
    conv = await store.conversations.get(moved)
    assert conv is not None
    record = plan_research_record(conv, 0)  # as retention moves a conversation out
    assert await store.research.move_in(moved, record.row(new_id()), [], record.hour)

    for cid in (erased, moved):
        assert await key_rows(store, cid) == {}
        for mid, sealed in copies[cid].items():
            assert not await opens(store, cid, mid, sealed)
    for mid, sealed in copies[kept].items():
        assert await opens(store, kept, mid, sealed)


# -- restart and rotation -------------------------------------------------------------------


async def test_after_a_restart_live_conversations_open_and_keep_their_key(url: str) -> None:
    store = await open_store(url)
    cid, _ = await chat(store)
    keys = await key_rows(store, cid)
    await store.close()
    store = await open_store(url)
    try:
        assert (await store.messages.of_conversation(cid))[0].text == SECRET
        await store.messages.add(cid, "chatter", "ben er weer", T0)
        assert await key_rows(store, cid) == keys
        assert [m.text for m in await store.messages.of_conversation(cid)][-1] == "ben er weer"
    finally:
        await store.close()


async def test_master_key_rotation_reseals_the_conversation_keys(url: str) -> None:
    old, new = master("old1"), master("new2")
    store = await open_store(url, old)
    cid, (secret, *_) = await chat(store)
    await store.messages.replace_text(secret, REDACTED, redacted=True)
    await store.close()

    store = await open_store(url, new, old)
    try:
        report = await store.keys.rotate(batch=1)
        assert report.resealed["conversation_keys.key"] == 1 and not report.unreadable
        assert report.resealed["messages.text"] == 0
    finally:
        await store.close()
    store = await open_store(url, new)
    try:
        assert (await store.messages.of_conversation(cid))[0].text == REDACTED
        counts = await store.keys.counts()
        assert counts["conversation_keys.key"] == {"new2": 1}
    finally:
        await store.close()


# -- the copies themselves ------------------------------------------------------------------


async def test_sqlite_a_backup_from_before_opens_no_more_and_the_file_keeps_nothing(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)
    store = await open_store(url)
    try:
        cid, (secret, *_) = await chat(store)
        await store.db.checkpoint()
        backup = tmp_path / "backup.db"
        with sqlite3.connect(tmp_path / "chat.db") as src, sqlite3.connect(backup) as dst:
            src.backup(dst)
        with sqlite3.connect(backup) as b:
            old_text = b.execute("SELECT text FROM messages WHERE id = ?", (secret,)).fetchone()[0]
            (old_key,) = b.execute("SELECT key FROM conversation_keys WHERE conversation_id = ?",
                                   (cid,)).fetchone()
        assert await opens(store, cid, secret, old_text)

        await store.messages.replace_text(secret, REDACTED, redacted=True)

        assert not await opens(store, cid, secret, old_text)
        # Neither the old ciphertext nor the old key is left anywhere in the live files.
        for f in tmp_path.glob("chat.db*"):
            data = f.read_bytes()
            assert old_text.encode() not in data and old_key.encode() not in data, f.name
    finally:
        await store.close()


def pg_dump(server: PostgresServer, url: str) -> dict[str, list[dict[str, str]]]:
    """The rows of `messages` and `conversation_keys` in a plain `pg_dump` of the database."""
    assert server.bin is not None
    done = run([server.bin / "pg_dump", "-h", "127.0.0.1", "-p", str(server.port), "-U", "chat",
                "--data-only", "-t", "messages", "-t", "conversation_keys", url.rsplit("/", 1)[1]],
               user=server.user, capture_output=True, timeout=60, check=True)
    tables: dict[str, list[dict[str, str]]] = {}
    columns: list[str] | None = None
    for line in done.stdout.decode().splitlines():
        if line.startswith("COPY public."):
            name, _, cols = line[len("COPY public."):].partition(" ")
            columns = cols.split(")")[0].strip("(").split(", ")
            current = tables.setdefault(name, [])
        elif line == "\\.":
            columns = None
        elif columns is not None:
            current.append(dict(zip(columns, line.split("\t"), strict=True)))
    return tables


async def raw_pages(store: Store, table: str) -> bytes:
    """The table's heap file as it lies on the disk (dead row versions included)."""
    async with store.db.engine.connect() as conn:
        await conn.execute(text("CHECKPOINT"))
        data = (await conn.execute(text(
            f"SELECT pg_read_binary_file(pg_relation_filepath('{table}'))"))).scalar_one()
    return bytes(data)


async def test_postgresql_a_dump_or_the_raw_pages_from_before_open_no_more(
    request: pytest.FixtureRequest,
) -> None:
    server = pg(request)
    url = server.create_database(f"s{uuid.uuid4().hex[:8]}")
    old_master, new_master = master("old1"), master("new2")
    store = await open_store(url, old_master)
    try:
        cid, (secret, *_) = await chat(store)
        dump = pg_dump(server, url)
        copies = {r["id"]: r["text"] for r in dump["messages"]}
        assert set(copies) == set(await stored(store, cid))
        assert await opens(store, cid, secret, copies[secret])

        await store.messages.replace_text(secret, REDACTED, redacted=True)

        # PostgreSQL keeps the old row versions in the table's pages ...
        pages = await raw_pages(store, "messages")
        assert copies[secret].encode() in pages
        assert (await store.messages.of_conversation(cid))[0].text == REDACTED
        # ... but neither they nor the dump's copies open with anything the server holds.
        for mid, sealed in copies.items():
            assert not await opens(store, cid, mid, sealed)
        # Erasure: every version of the conversation's text, the live one included.
        live = await stored(store, cid)
        await store.conversations.erase(cid, T0)
        for mid, sealed in live.items():
            assert not await opens(store, cid, mid, sealed)
        assert await key_rows(store, cid) == {}
    finally:
        await store.close()

    # The dump also holds the old conversation key, sealed under the master key: a backup is
    # protected by the master key until that key is rotated out (docs/operations.md, backups).
    (old_key,) = [r for r in dump["conversation_keys"] if r["conversation_id"] == cid]
    Sealer((old_master,)).open(old_key["key"], f"ckey:{old_key['id']}")
    store = await open_store(url, new_master, old_master)
    try:
        await store.keys.rotate()
    finally:
        await store.close()
    rotated = Sealer((new_master,))
    with pytest.raises(SealError):
        rotated.open(old_key["key"], f"ckey:{old_key['id']}")


# -- several workers ------------------------------------------------------------------------


async def test_with_several_workers_a_replaced_key_goes_once_no_worker_can_use_it(
    request: pytest.FixtureRequest,
) -> None:
    url = pg(request).create_database(f"s{uuid.uuid4().hex[:8]}")
    one = await open_store(url, several_workers=True)
    two = await open_store(url, several_workers=True)
    try:
        cid, (secret, *_) = await chat(one)
        await two.messages.add(cid, "volunteer", "van de tweede", T0)  # two holds the key now
        before = await stored(one, cid)
        one.conversation_keys.grace = 0.3
        await one.messages.replace_text(secret, REDACTED, redacted=True)
        # The old key is retired, not gone: worker two may still seal under it ...
        assert len(await key_rows(one, cid)) == 2
        late = await two.messages.add(cid, "volunteer", "nog onder de oude sleutel", T0)
        # ... and once the grace period has passed the sweep re-seals that and deletes the key.
        await eventually(one.conversation_keys.sweep, within=10, every=0.05,
                         what="the retired key deleted")
        assert len(await key_rows(one, cid)) == 1
        for mid, sealed in before.items():
            assert not await opens(one, cid, mid, sealed)
        texts = [m.text for m in await two.messages.of_conversation(cid)]
        assert texts[0] == REDACTED and texts[-1] == late.text == "nog onder de oude sleutel"
    finally:
        await one.close()
        await two.close()
