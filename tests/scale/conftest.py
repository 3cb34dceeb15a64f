"""Several `chatserver serve` processes sharing one Redis and one database: the world of the
scale tests. Each test gets its own redis-server and data directory."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatserver.config import Settings
from tests.harness.accounts import add_accounts
from tests.harness.peers import Peer
from tests.harness.servers import PASSWORD, Subprocess, server_env
from tests.harness.waiting import eventually
from tests.live.redis_server import RedisServer


class Worker(Subprocess):
    """One `chatserver serve` process; `args` add to its command line (`--workers 2`)."""

    async def chatter(self, address: str | None = None) -> Peer:  # type: ignore[override]
        """A young person arriving from `address` (X-Forwarded-For; 127.0.0.1 is trusted)."""
        return await super().chatter(address=address)


class Cluster:
    """Workers on one Redis and one database, with the secrets they must share."""

    def __init__(self, root: Path, redis: RedisServer, **env: str) -> None:
        self.root = root
        self.redis = redis
        self.env = {
            "CHATSERVER_REDIS_URL": redis.url,
            "CHATSERVER_SECRET_KEY": secrets.token_urlsafe(48),
            "CHATSERVER_IP_HASH_KEY": secrets.token_urlsafe(48),
            "CHATSERVER_DATA_KEY": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "CHATSERVER_SQLITE_SYNCHRONOUS": "NORMAL",
            "CHATSERVER_WORKER_HEARTBEAT_SECONDS": "0.5",
            # Chatters come through 127.0.0.1 with an address of their own (the connect limit
            # per address would otherwise refuse 100 chatters from one machine).
            "CHATSERVER_TRUSTED_PROXIES": "127.0.0.1",
            "CHATSERVER_RETENTION_INTERVAL_SECONDS": "0",
            **env,
        }
        self.workers: list[Worker] = []

    @property
    def settings(self) -> Settings:
        return Settings.from_env(server_env(self.root / "data", **self.env))

    def delivered_seq(self, conversation_id: str) -> int:
        """The last volunteer message the database records as acknowledged by the chatter
        (the SQLite file the workers share, read-only)."""
        path = self.root / "data" / "chatserver.sqlite3"
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT delivered_seq FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
        return int(row[0]) if row else 0

    async def add_users(self, *names: str, role: str = "volunteer") -> None:
        await add_accounts(self.settings, dict.fromkeys(names, role), PASSWORD)

    def start(self, count: int, *args: str) -> list[Worker]:
        new = [Worker(self.root / "data", *args, **self.env) for _ in range(count)]
        for w in new:
            w.launch()
        for w in new:
            w.wait_health(200)
        self.workers += new
        return new

    def stop(self) -> None:
        for w in self.workers:
            w.stop()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (bin/setup --test installs it)")
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def cluster(tmp_path: Path, redis: RedisServer) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path, redis)  # a test may change `c.env` before starting workers
    yield c
    await asyncio.to_thread(c.stop)


async def wait_for(check: Any, within: float = 15, every: float = 0.05) -> Any:
    """Poll `check()` (sync or async) for state in Redis that no event announces; bounded."""
    return await eventually(check, within, every)


from tests.live.conftest import postgres  # noqa: F401 - the session's PostgreSQL, shared
