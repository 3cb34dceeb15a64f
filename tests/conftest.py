"""Fixtures that build the world: settings in a temporary data directory, a running server.

Every Python process the tests start, and every one those start, dies with its parent (see
tests/harness/processes.py): a killed test run leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.harness.processes import python_children_die_with_parent
from tests.harness.servers import Server, server_env

python_children_die_with_parent()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
                                      CHATSERVER_VOLUNTEER_GRACE_SECONDS="0.3"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    srv = Server(settings)
    await srv.start()
    yield srv
    await srv.stop()
