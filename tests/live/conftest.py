"""One real redis-server for the whole session, started here and killed at the end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.live.postgres_server import PostgresServer, binaries
from tests.live.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (bin/setup --test installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (bin/setup --test installs it)")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()
