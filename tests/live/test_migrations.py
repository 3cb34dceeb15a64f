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
