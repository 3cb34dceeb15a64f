"""The chat server for tests and benchmarks, one way or the other:

- `Server`: uvicorn with `create_app(settings)` on the test's own event loop, so that a test can
  reach inside (`components`, a fake in place of a part);
- `Subprocess`: `chatserver serve` as a user runs it, a child process that dies with this one.

Both take their environment from `server_env`, listen on a `free_port` of 127.0.0.1 and hand
out the same clients (`Endpoint`). `ServerProcess` runs any other server command (the
benchmarks' bare relay) the same way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.harness.peers import TIMEOUT, Peer
from tests.harness.processes import (
    BIN,
    ROOT,
    free_port,
    pinned,
    python_children_die_with_parent,
    run,
    spawn,
)
from tests.harness.waiting import wait_until

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.config import Settings

__all__ = ["PASSWORD", "TIMEOUT", "Endpoint", "Server", "ServerProcess", "Subprocess", "clean_env",
           "running", "server_env"]

PASSWORD = "wachtwoord-123"


def clean_env() -> dict[str, str]:
    """This process's environment without any CHATSERVER_ setting of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """`clean_env()` with a data directory, no redactor (it loads a language model: a test
    that flags asks for it), then `extra`."""
    env = clean_env()
    env.update(CHATSERVER_DATA_DIR=str(data_dir), CHATSERVER_REDACTOR="false")
    env.update(extra)
    return env


class Endpoint:
    """A server on 127.0.0.1 and the clients a test connects to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.peers: list[Peer] = []

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, **kwargs)

    async def login(self, name: str, password: str = PASSWORD) -> str:
        # Generous: each login is an argon2id check, and a busy machine runs many at once.
        async with self.http(timeout=30) as http:
            r = await http.post("/api/auth/login", json={"username": name, "password": password})
            r.raise_for_status()
            return str(r.json()["token"])

    async def chatter(self, headers: dict[str, str] | None = None, *,
                      address: str | None = None) -> Peer:
        """A connected young person; `address` arrives as X-Forwarded-For."""
        if address is not None:
            headers = {**(headers or {}), "X-Forwarded-For": address}
        peer = Peer(self.url, "/chat")
        self.peers.append(peer)
        await peer.connect(headers=headers)
        return peer

    async def connect_staff(self, name: str, password: str = PASSWORD) -> Peer:
        """An existing account, logged in and connected to /staff, its `state` received."""
        peer = Peer(self.url, "/staff")
        peer.token = await self.login(name, password)
        self.peers.append(peer)
        await peer.connect(auth={"token": peer.token})
        await peer.expect("state")
        return peer

    async def close_peers(self) -> None:
        """Close the clients; fail if any received an event that breaks its definition."""
        for peer in self.peers:
            await peer.close()
        problems = [v for peer in self.peers for v in peer.violations]
        self.peers.clear()
        assert not problems, f"events that break their definition: {problems[:5]}"


class Server(Endpoint):
    """A real uvicorn server with the chat app, in this test's event loop."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        import uvicorn

        from chatserver.app import create_app

        super().__init__()
        self.settings = settings
        self.app = create_app(settings, clock=clock)
        self.components = self.app.components
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, access_log=False, log_config=None,
            proxy_headers=False, lifespan="on", ws_max_size=settings.max_http_buffer_size,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        started = asyncio.Event()
        startup = self.server.startup

        async def announced(sockets: Any = None) -> None:
            try:
                await startup(sockets)
            finally:
                started.set()

        # uvicorn announces nothing: its start-up step sets an event here once it has run.
        self.server.startup = announced  # type: ignore[method-assign]
        self.task = asyncio.create_task(self.server.serve())
        waiting = asyncio.ensure_future(started.wait())
        await asyncio.wait({waiting, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if not self.server.started:
            waiting.cancel()
            if self.task.done():
                await self.task
            raise RuntimeError("server did not start")

    async def stop(self) -> None:
        await self.close_peers()
        self.server.should_exit = True
        if self.task:
            await asyncio.wait_for(self.task, 15)

    async def add_user(self, name: str, role: str = "volunteer", password: str = PASSWORD,
                       display_name: str | None = None) -> str:
        from chatserver.auth import hash_password

        store = self.components.store
        return await store.staff.add_user(name, display_name or name.title(), role,
                                    hash_password(password), self.components.clock.now())

    async def staff(self, name: str, role: str = "volunteer", display_name: str | None = None
                    ) -> Peer:
        """A new account, logged in and connected."""
        await self.add_user(name, role, display_name=display_name)
        return await self.connect_staff(name)


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Server]:
    server = Server(settings, clock)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ServerProcess(Endpoint):
    """A server command in a child process that dies with this one, ready once /healthz
    answers; `cpu` pins it to one core. Subclasses say which command (`command`)."""

    name = "server"

    def __init__(self, env: dict[str, str], log_path: Path, cpu: int | None = None) -> None:
        super().__init__()
        self.env = env
        self.log_path = log_path
        self.cpu = cpu
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not launched"
        return self.proc.pid

    def launch(self) -> None:
        """Start the process; `wait_health` says when it is ready."""
        python_children_die_with_parent(self.env)  # the server's own children too
        with open(self.log_path, "ab") as log:
            self.proc = spawn([*pinned(self.cpu), *self.command()], env=self.env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)

    def start(self, within: float = 60) -> dict[str, Any]:
        self.launch()
        return self.wait_health(200, within)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        try:
            r = httpx.get(self.url + "/healthz", timeout=2)
            return r.status_code, r.json()
        except (httpx.HTTPError, ValueError):
            return 0, {}

    def wait_health(self, status: int = 200, within: float = 60,
                    want: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The /healthz body once it answers `status` (and satisfies `want`)."""
        def ready() -> dict[str, Any] | None:
            code, body = self.healthz()
            if code != status or (want is not None and not want(body)):
                return None
            return body or {"status": code}

        try:
            return wait_until(ready, within, f"{self.name} /healthz {status}", self.proc)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}; log:\n{self.log()[-3000:]}") from None

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Ask it to stop (`sig`); killed if it has not within `timeout` seconds."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.kill(sig, timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Subprocess(ServerProcess):
    """`chatserver serve` as a user runs it; `args` add to its command line (`--workers 2`)."""

    name = "chatserver"

    def __init__(self, data_dir: Path, *args: str, cpu: int | None = None,
                 log_path: Path | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.args = args
        super().__init__(server_env(data_dir, **env), Path(), cpu)
        self.log_path = log_path or data_dir.parent / f"server-{self.port}.log"

    def command(self) -> list[str]:
        return [str(BIN / "chatserver"), "serve", "--host", "127.0.0.1", "--port",
                str(self.port), *self.args]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`chatserver ARGS` with this server's environment."""
        return run([BIN / "chatserver", *args], input=stdin, capture_output=True, text=True,
                   env=self.env, cwd=ROOT, timeout=60)

    def add_accounts(self, roles: dict[str, str], password: str = PASSWORD) -> None:
        """Accounts ({name: role}) with one password, written by the server's store code in a
        child process with this server's environment (see tests/harness/accounts.py)."""
        lines = [password, *(f"{name} {role}" for name, role in roles.items())]
        run([sys.executable, "-m", "tests.harness.accounts"], input="\n".join(lines).encode(),
            env=self.env, cwd=ROOT, timeout=120, check=True)

    async def staff(self, name: str, password: str = PASSWORD) -> Peer:
        """An existing account, logged in and connected."""
        return await self.connect_staff(name, password)
