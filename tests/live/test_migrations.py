"""Migrations: `alembic upgrade head` on an empty SQLite or PostgreSQL database gives exactly
the tables of models.py. A model change without its migration fails here."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from chatserver.store.models import metadata
from tests.harness.processes import BIN, ROOT, run
from tests.harness.servers import server_env
from tests.live.postgres_server import PostgresServer


def upgrade_head(url: str, tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    done = run([BIN / "alembic", "-x", f"url={url}", "upgrade", "head"], cwd=ROOT, env=env,
               capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


async def differences(url: str) -> list[Any]:
    engine = create_async_engine(url)

    def compare(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with engine.connect() as conn:
        diff = await conn.run_sync(compare)
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    await engine.dispose()
    assert len(version) == 1
    return diff


async def test_sqlite_migrations_give_the_models_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    upgrade_head(url, tmp_path)
    assert await differences(url) == [], "models.py changed without a migration in migrations/"


async def test_postgresql_migrations_give_the_models_tables(
        tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database(f"m{uuid.uuid4().hex[:8]}")
    upgrade_head(url, tmp_path)
    assert await differences(url) == [], "models.py changed without a migration in migrations/"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_server_migrates_at_start_and_again_is_a_no_op(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from chatserver.config import Settings
    from chatserver.store import Store

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'server.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"s{uuid.uuid4().hex[:8]}")
    for _ in range(2):
        store = Store.from_settings(Settings(data_dir=tmp_path, database_url=url, redis_url=None,
                                             ip_hash_key=b"", secret_key=b"",
                                             data_keys=(("k1", b"k" * 32),)))
        await store.start()
        await store.close()
    assert await differences(url) == []


def upgrade_to(url: str, tmp_path: Path, revision: str) -> None:
    env = server_env(tmp_path / "data")
    done = run([BIN / "alembic", "-x", f"url={url}", "upgrade", revision], cwd=ROOT, env=env,
               capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_0007_takes_free_text_out_of_the_audit_log_and_guards_it(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A database of 0006 with reasons in its audit log and exact research durations: after
    0007 the reasons live on the sanctions, the durations are minutes, and the audit log refuses
    any change but retention's recorded purge (PostgreSQL had no trigger before)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from chatserver.store.audit import AuditLog
    from chatserver.store.db import Database

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"p{uuid.uuid4().hex[:8]}")
    upgrade_to(url, tmp_path, "0006")
    old = datetime(2024, 1, 1, tzinfo=UTC)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO sanctions (id, kind, address_hash, created_at, until, reason) "
            "VALUES ('s1', 'block', 'h', :at, :at, 'noemt Het Lyceum')"), {"at": old})
        for action, detail in (
                ("block", '{"sanction_id": "s1", "reason": "noemt Het Lyceum", "until": "x"}'),
                ("block_lifted", '{"sanction_id": "s1", "reason": "excuses via school"}'),
                ("flag", '{"message_id": "m1"}')):
            await conn.execute(text(
                "INSERT INTO audit_log (at, action, detail) VALUES (:at, :action, :detail)"),
                {"at": old, "action": action, "detail": detail})
        await conn.execute(text(
            "INSERT INTO research_conversations (id, day, waiting_seconds, duration_seconds, "
            "message_count, left_queue, end_reason) "
            "VALUES ('r1', :day, 151, 1189, 1, :f, 'blocked')"), {"day": old.date(), "f": False})
        await conn.execute(text(
            "INSERT INTO research_messages (conversation_id, position, sender, text) "
            "VALUES ('r1', 0, 'chatter', 'hoi [NAAM]')"))
    await engine.dispose()

    upgrade_head(url, tmp_path)
    assert await differences(url) == []
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        details = [r.detail for r in await conn.execute(text("SELECT detail FROM audit_log"))]
        sanction = (await conn.execute(text(
            "SELECT reason, lift_reason, erased FROM sanctions"))).one()
        research = (await conn.execute(text(
            "SELECT waiting_seconds, duration_seconds, end_reason FROM research_conversations"
        ))).one()
        message = (await conn.execute(text("SELECT id, text FROM research_messages"))).one()
    await engine.dispose()
    assert not any("Lyceum" in d or "excuses" in d for d in details)
    assert tuple(sanction) == ("noemt Het Lyceum", "excuses via school", False)
    assert tuple(research) == (180, 1200, "volunteer")
    assert len(message.id) == 24 and message.text == "hoi [NAAM]"

    db = Database(url)
    try:
        for sql in ("UPDATE audit_log SET actor = 'iemand'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                async with db.tx() as conn:
                    await conn.execute(text(sql))
        purged = await AuditLog(db).purge_before(old + timedelta(days=1), old + timedelta(
            days=800), actor="retention")
        assert purged == 3
        with pytest.raises(Exception, match="append-only"):
            async with db.tx() as conn:
                await conn.execute(text("DELETE FROM audit_log_purges"))
    finally:
        await db.engine.dispose()
