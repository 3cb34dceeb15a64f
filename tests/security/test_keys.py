"""Encryption at rest: a copy of the database reveals no conversation; keys rotate by id, and the
old key can go once `chatserver keys rotate` is done. Production refuses to run on dev secrets."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatserver.config import Settings
from chatserver.errors import ConfigError
from chatserver.store import Store
from chatserver.store.keys import totp_context
from tests.helpers import Subprocess, running, server_env

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def files_of(data_dir: Path) -> dict[str, bytes]:
    """Every database file (main, WAL, shared memory) as it would be copied off the disk."""
    return {p.name: p.read_bytes() for p in data_dir.glob("chatserver.sqlite3*")}


async def test_a_copy_of_the_database_files_reveals_no_conversation(settings: Settings) -> None:
    secret_words = ["Zwanenburgschool", "mijn stiefvader slaat", "Pesten-op-de-Hockeyclub"]
    async with running(settings) as srv:
        vera = await srv.staff("vera")
        await vera.call("available", {})
        chatter = await srv.chatter()
        cid = (await chatter.call("start", {"topic": secret_words[2], "age": 14}))[
            "conversation_id"]
        await vera.expect("assigned")
        assert (await chatter.call("message", {"text": f"ik zit op de {secret_words[0]}"}))["ok"]
        assert (await vera.call("message", {"conversation_id": cid,
                                            "text": f"vertel: {secret_words[1]}?"}))["ok"]
        await chatter.expect("message")
        # While the server runs (text in the WAL too) ...
        live_files = files_of(settings.data_dir)
        transcript = await srv.components.store.messages.of_conversation(cid)
    # ... and after it stopped: the files hold the conversation, but only sealed.
    assert [m.text for m in transcript] == [f"ik zit op de {secret_words[0]}",
                                            f"vertel: {secret_words[1]}?"]
    for files in (live_files, files_of(settings.data_dir)):
        assert files
        for name, data in files.items():
            for word in secret_words:
                for encoded in (word.encode(), word.encode("utf-16-le"), word.lower().encode()):
                    assert encoded not in data, (name, word)


async def seed(store: Store, conversations: int, per_conversation: int) -> list[str]:
    """Conversations with a topic and messages, and a staff user with a TOTP secret."""
    ids = []
    for i in range(conversations):
        cid = f"conv{i:04d}"
        await store.conversations.start({
            "id": cid, "alias": f"Vos {i}", "status": "ended", "created_at": NOW,
            "chatter_topic": store.sealer.seal(f"onderwerp {i}", cid),
        })
        for j in range(per_conversation):
            await store.messages.add(cid, "chatter", f"bericht {i}.{j}", NOW)
        ids.append(cid)
    uid = await store.staff.add_user("vera", "Vera", "coordinator", "x", NOW)
    await store.staff.update_user(uid, totp_secret=store.sealer.seal("JBSWY3DPEHPK3PXP",
                                                               totp_context(uid)))
    return ids


def store_with(settings: Settings, *keys: str) -> Store:
    env = server_env(settings.data_dir, CHATSERVER_DATA_KEY=",".join(keys))
    s = Settings.from_env(env)
    return Store.from_settings(settings.with_(data_keys=s.data_keys, sqlite_synchronous="NORMAL"))


async def test_rotation_reseals_everything_is_resumable_and_the_old_key_can_go(
    settings: Settings,
) -> None:
    old, new = key("old1"), key("new2")
    store = store_with(settings, old)
    await store.start()
    ids = await seed(store, conversations=12, per_conversation=100)
    await store.close()

    # The operator puts the new key first and keeps the old one; rotation stops half-way ...
    store = store_with(settings, new, old)
    await store.start()

    class Interrupted(Exception):
        pass

    def stop_after_one_batch(column: str, n: int) -> None:
        if column == "conversation_keys.key" and n == 5:
            raise Interrupted

    # Messages are sealed under their conversation's key; the conversation keys are sealed
    # under the master key, so rotation re-seals those, not the 1,200 messages.
    with pytest.raises(Interrupted):
        await store.keys.rotate(batch=5, on_batch=stop_after_one_batch)
    half = await store.keys.counts()
    assert half["conversation_keys.key"] == {"new2": 5, "old1": 7}
    assert half["messages.text"] == {}
    # ... everything is readable in between, and a second run finishes the job.
    assert len(await store.messages.of_conversation(ids[0])) == 100
    assert len(await store.messages.of_conversation(ids[11])) == 100
    report = await store.keys.rotate(batch=5)
    assert report.resealed["conversation_keys.key"] == 7
    assert report.resealed["messages.text"] == 0
    assert report.resealed["conversations.chatter_topic"] == 12
    assert report.resealed["staff_users.totp_secret"] == 1
    assert not report.unreadable
    assert (await store.keys.rotate(batch=5)).total == 0  # idempotent: nothing left to do
    counts = await store.keys.counts()
    # (the research store is empty here: no conversation is old enough)
    assert all(set(c) == {"new2"} for name, c in counts.items()
               if name != "messages.text" and c), counts
    await store.close()

    # Without the old key every value still opens.
    store = store_with(settings, new)
    await store.start()
    try:
        texts = [m.text for m in await store.messages.of_conversation(ids[11])]
        assert texts == [f"bericht 11.{j}" for j in range(100)]
        conv = await store.conversations.get(ids[5])
        assert conv is not None
        assert store.sealer.open(conv.chatter_topic, conv.id) == "onderwerp 5"
        user = await store.staff.user_by_name("vera")
        assert user is not None
        assert store.sealer.open(user.totp_secret, totp_context(user.id)) == "JBSWY3DPEHPK3PXP"
    finally:
        await store.close()


async def test_values_under_a_missing_key_are_reported_not_lost(settings: Settings) -> None:
    lost, new = key("lost1"), key("new2")
    store = store_with(settings, lost)
    await store.start()
    await seed(store, conversations=1, per_conversation=3)
    await store.close()
    store = store_with(settings, new)
    await store.start()
    try:
        report = await store.keys.rotate(batch=2)
        assert report.unreadable["conversation_keys.key"] == 1
        assert report.total == 0
        assert (await store.keys.counts())["conversation_keys.key"] == {"lost1": 1}
    finally:
        await store.close()


def test_keys_commands_generate_status_and_rotate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Subprocess(data)
    assert first.cli("users", "add", "vera", "--role", "admin", "--password-stdin",
                     stdin="wachtwoord-123\n").returncode == 0
    assert first.cli("users", "totp", "vera").returncode == 0
    generated = first.cli("keys", "generate", "--id", "k2")
    assert generated.returncode == 0
    new = generated.stdout.strip()
    kid, _, b64 = new.partition(":")
    assert kid == "k2" and len(base64.b64decode(b64)) == 32
    dev = "dev1:" + (data / "data_key").read_text().strip()

    both = Subprocess(data, CHATSERVER_DATA_KEY=f"{new},{dev}")
    status = both.cli("keys", "status")
    assert status.returncode == 0, status.stderr
    assert "staff_users.totp_secret\tdev1\t1" in status.stdout
    rotated = both.cli("keys", "rotate", "--batch", "500")
    assert rotated.returncode == 0, rotated.stderr
    assert "staff_users.totp_secret\tresealed 1" in rotated.stdout

    only_new = Subprocess(data, CHATSERVER_DATA_KEY=new)
    status = only_new.cli("keys", "status")
    assert status.returncode == 0 and "staff_users.totp_secret\tk2\t1 (current)" in status.stdout
    # Removing a key that still seals values is caught by `keys status`.
    only_dev = Subprocess(data, CHATSERVER_DATA_KEY=dev)
    assert only_dev.cli("keys", "status").returncode == 1


PRODUCTION = {
    "CHATSERVER_ENV": "production",
    "CHATSERVER_DATA_KEY": key("p1"),
    "CHATSERVER_SECRET_KEY": "s" * 40,
    "CHATSERVER_IP_HASH_KEY": "h" * 40,
    "CHATSERVER_ALLOWED_ORIGINS": "https://chat.example.nl",
}


@pytest.mark.parametrize("missing", [
    "CHATSERVER_DATA_KEY", "CHATSERVER_SECRET_KEY", "CHATSERVER_IP_HASH_KEY",
    "CHATSERVER_ALLOWED_ORIGINS",
])
def test_production_refuses_to_start_without_its_secrets_and_origins(
    tmp_path: Path, missing: str,
) -> None:
    env = server_env(tmp_path / "data", **{k: v for k, v in PRODUCTION.items() if k != missing})
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)
    assert not (tmp_path / "data" / "data_key").exists()


def test_production_starts_with_everything_set_and_generates_nothing(tmp_path: Path) -> None:
    s = Settings.from_env(server_env(tmp_path / "data", **PRODUCTION))
    assert s.environment == "production" and s.data_keys[0][0] == "p1"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []
    proc = Subprocess(tmp_path / "data", **{**PRODUCTION, "CHATSERVER_SECRET_KEY": ""})
    result = proc.cli("serve", "--port", str(proc.port))
    assert result.returncode == 2
    assert "CHATSERVER_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
