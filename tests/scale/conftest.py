"""Several `chatserver serve` processes sharing one Redis and one database: the world of the
scale tests. Each test gets its own redis-server and data directory."""

from __future__ import annotations

import asyncio
import base64
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.auth import hash_password
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.store import Store
from tests.helpers import VENV_BIN, Peer, Subprocess, server_env
from tests.live.redis_server import RedisServer

PASSWORD = "wachtwoord-123"


class Worker(Subprocess):
    """One `chatserver serve` process; `args` adds to the command line (`--workers 2`)."""

    def __init__(self, data_dir: Path, *args: str, **env: str) -> None:
        super().__init__(data_dir, **env)
        self.args = args

    def launch(self) -> None:
        import subprocess

        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "chatserver"), "serve", "--port", str(self.port), *self.args],
            env=self.env, stdout=log, stderr=log,
        )

    def healthz(self) -> tuple[int, dict[str, Any]]:
        try:
            r = httpx.get(self.url + "/healthz", timeout=2)
            return r.status_code, r.json()
        except httpx.HTTPError:
            return 0, {}

    def wait_health(self, status: int, within: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log()[-3000:]}")
            code, body = self.healthz()
            if code == status:
                return body
            time.sleep(0.05)
        raise AssertionError(f"/healthz did not answer {status} within {within} s")

    async def login(self, name: str) -> str:
        async with httpx.AsyncClient(base_url=self.url) as http:
            r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})
            r.raise_for_status()
            return str(r.json()["token"])

    async def staff(self, name: str) -> Peer:
        peer = Peer(self.url, "/staff")
        peer.token = await self.login(name)  # type: ignore[attr-defined]
        await peer.connect(auth={"token": peer.token})  # type: ignore[attr-defined]
        await peer.expect("state")
        return peer

    async def chatter(self, address: str | None = None) -> Peer:
        peer = Peer(self.url, "/chat")
        await peer.connect(headers={"X-Forwarded-For": address} if address else None)
        return peer


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

    async def add_users(self, *names: str, role: str = "volunteer") -> None:
        s = self.settings
        store = Store.from_settings(s.with_(sqlite_synchronous="NORMAL"))
        await store.start()
        try:
            for name in names:
                await store.staff.add_user(name, name.title(), role, hash_password(PASSWORD),
                                           Clock().now())
        finally:
            await store.close()

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
    """Poll `check()` (sync or async) until it returns something truthy; bounded."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(every)


from tests.live.conftest import postgres  # noqa: F401 - the session's PostgreSQL, shared
