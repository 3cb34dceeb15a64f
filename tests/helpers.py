"""Shared test helpers: a real server on 127.0.0.1 and real Socket.IO clients.

Clients record every event so that tests await what they expect instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import socketio
import uvicorn

from chatserver import events as event_schemas
from chatserver.app import create_app
from chatserver.auth import hash_password
from chatserver.clock import Clock
from chatserver.config import Settings

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(CHATSERVER_DATA_DIR=str(data_dir), CHATSERVER_REDACTOR="false")
    env.update(extra)
    return env


class Peer:
    """One Socket.IO client on one namespace, with every received event recorded."""

    def __init__(self, base_url: str, namespace: str) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Condition()
        self.connect_error: Any = None
        # Every event received, checked against its definition in chatserver/events.py.
        self.violations: list[str] = []

        @self.sio.on("*", namespace=namespace)
        async def any_event(event: str, data: Any = None) -> None:
            self.violations += event_schemas.violations(namespace, event, data)
            async with self._changed:
                self.events[event].append(data)
                self._changed.notify_all()

        @self.sio.on("disconnect", namespace=namespace)
        async def disconnected(reason: Any = None) -> None:
            async with self._changed:
                self.events["disconnect"].append(reason)
                self._changed.notify_all()

        @self.sio.on("connect_error", namespace=namespace)
        async def refused(data: Any = None) -> None:
            async with self._changed:
                self.connect_error = data
                self._changed.notify_all()

    async def connect(self, auth: Any = None, headers: dict[str, str] | None = None) -> None:
        await self.sio.connect(
            self.base_url, namespaces=[self.namespace], transports=["websocket"], auth=auth,
            headers=headers or {}, wait_timeout=TIMEOUT,
        )

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=TIMEOUT)

    async def expect(self, event: str, where: Callable[[Any], bool] | None = None,
                     timeout: float = TIMEOUT) -> Any:
        """The first recorded `event` (matching `where`) not yet consumed; waits for it."""
        async def found() -> Any:
            async with self._changed:
                while True:
                    for i, data in enumerate(self.events[event]):
                        if where is None or where(data):
                            return self.events[event].pop(i)
                    await self._changed.wait()

        return await asyncio.wait_for(found(), timeout)

    def seen(self, event: str) -> list[Any]:
        return list(self.events[event])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


class Server:
    """A real uvicorn server with the chat app, in this test's event loop."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, clock=clock)
        self.components = self.app.components
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, access_log=False, log_config=None,
            proxy_headers=False, lifespan="on", ws_max_size=settings.max_http_buffer_size,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None
        self.peers: list[Peer] = []

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                await self.task
                raise RuntimeError("server did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for p in self.peers:
            await p.close()
        self.server.should_exit = True
        if self.task:
            await asyncio.wait_for(self.task, 15)
        problems = [v for p in self.peers for v in p.violations]
        assert not problems, f"events that break their definition: {problems[:5]}"

    async def add_user(self, name: str, role: str = "volunteer", password: str = "wachtwoord-123",
                       display_name: str | None = None) -> str:
        store = self.components.store
        return await store.staff.add_user(name, display_name or name.title(), role,
                                          hash_password(password), self.components.clock.now())

    async def login(self, name: str, password: str = "wachtwoord-123") -> str:
        async with httpx.AsyncClient(base_url=self.url) as http:
            r = await http.post("/api/auth/login", json={"username": name, "password": password})
            r.raise_for_status()
            return str(r.json()["token"])

    async def chatter(self, headers: dict[str, str] | None = None) -> Peer:
        peer = Peer(self.url, "/chat")
        self.peers.append(peer)
        await peer.connect(headers=headers)
        return peer

    async def staff(self, name: str, role: str = "volunteer", display_name: str | None = None
                    ) -> Peer:
        await self.add_user(name, role, display_name=display_name)
        token = await self.login(name)
        peer = Peer(self.url, "/staff")
        peer.token = token  # type: ignore[attr-defined]
        self.peers.append(peer)
        await peer.connect(auth={"token": token})
        await peer.expect("state")
        return peer

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, **kwargs)


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Server]:
    server = Server(settings, clock)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Subprocess:
    """`chatserver serve` as a user runs it, in a child process."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(data_dir, **env)
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "chatserver"), *args], input=stdin, capture_output=True, text=True,
            check=False,
            env=self.env, timeout=60,
        )

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "chatserver"), "serve", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer /healthz within 30 s")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def python() -> str:
    return sys.executable
