"""Fixtures that build the world: settings in a temporary data directory, a running server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.helpers import Server, server_env


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
