"""The servers a benchmark runs against, started by the tests' harness (tests/harness/): the
chat server as a user starts it (`chatserver serve`) and the bare python-socketio relay
(bench/bare_relay.py), each pinned to one core, a child process that dies with the benchmark;
and the set-up of volunteers, chatters and relay pairs through the load generators."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.harness.generator import Generators
from bench.harness.measure import split
from bench.harness.profile import Spy
from tests.harness.servers import ServerProcess, Subprocess, clean_env

PASSWORD = "bench-password-long-enough"
mono = time.monotonic


def _keep_log_if_errors(srv: ServerProcess) -> None:
    text = srv.log()
    if any(w in text for w in ("Traceback", "ERROR", "error")):
        keep = Path(tempfile.gettempdir()) / f"chatbench-{srv.name.replace(' ', '-')}-{srv.port}.log"
        keep.write_text(text)
        print(f"  {srv.name} logged errors: see {keep}", flush=True)


class ChatServer(Subprocess):
    """`chatserver serve` in a data directory of its own, removed when it stops. Chatters
    arrive through 127.0.0.1 as a trusted proxy with X-Forwarded-For addresses of their own,
    as behind the production proxy (one address would share one hash and its limits)."""

    def __init__(self, cpu: int | None, env: dict[str, str], *args: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chatbench-"))
        super().__init__(self.root / "data", *args, cpu=cpu, log_path=self.root / "server.log",
                         **{"CHATSERVER_LOG_LEVEL": "warning",
                            "CHATSERVER_TRUSTED_PROXIES": "127.0.0.1", **env})

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> None:
        super().stop(sig, timeout)
        _keep_log_if_errors(self)
        shutil.rmtree(self.root, ignore_errors=True)


class Relay(ServerProcess):
    """The bare python-socketio relay, the baseline (bench/bare_relay.py)."""

    name = "bare relay"

    def __init__(self, cpu: int | None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bare-relay-"))
        super().__init__(clean_env(), self.root / "relay.log", cpu)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.bare_relay", "--port", str(self.port)]

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> None:
        super().stop(sig, timeout)
        _keep_log_if_errors(self)
        shutil.rmtree(self.root, ignore_errors=True)


def start_chatserver(cpu: int | None, env: dict[str, str], volunteers: list[str],
                     *args: str, within: float = 60.0) -> ChatServer:
    """A chat server with these volunteer accounts, answering /healthz."""
    srv = ChatServer(cpu, env, *args)
    srv.add_accounts(dict.fromkeys(volunteers, "volunteer"), PASSWORD)
    srv.start(within)
    return srv


def start_relay(cpu: int | None) -> Relay:
    srv = Relay(cpu)
    srv.start(30)
    return srv


def setup_chatserver(gens: Generators, srv: ChatServer, conversations: int, capacity: int,
                     volunteers: list[str], spy_dir: str | None = None) -> None:
    """Volunteers log in and become available, then chatters start and are paired."""
    t = mono()
    per = [[] for _ in gens.pipes]  # type: list[list[tuple[str, str]]]
    for i, name in enumerate(volunteers):
        per[i % len(per)].append((name, f"10.250.{i // 250}.{i % 250 + 1}"))
    replies = gens.call([{"op": "setup_staff", "ws_url": srv.ws_url, "http_url": srv.url,
                          "password": PASSWORD, "volunteers": p, "capacity": capacity}
                         for p in per], 300)
    ready = sum(r["volunteers"] for r in replies)
    errs = [r["errors"] for r in replies if r["errors"]]
    print(f"  {ready} volunteers available (capacity {capacity}) in {mono() - t:.1f} s"
          + (f"; errors {errs}" if errs else ""), flush=True)
    t = mono()
    spy = Spy(spy_dir, srv, "setup-chatters", 600)
    replies = gens.call([{"op": "setup_chatters", "count": k} for k in
                         split(conversations, len(gens.pipes))], 300)
    spy.done()
    paired = sum(r["paired"] for r in replies)
    errs = [r["errors"] for r in replies if r["errors"]]
    deadline = mono() + 30
    while mono() < deadline:
        assigned = sum(r["assigned"] for r in gens.all({"op": "status"}, 30))
        if assigned >= paired:
            break
        time.sleep(0.5)
    print(f"  {paired} chatters paired ({assigned} assignments seen by volunteers) in "
          f"{mono() - t:.1f} s" + (f"; errors {errs}" if errs else ""), flush=True)
    if paired < conversations:
        print(f"  WARNING: only {paired} of {conversations} conversations paired", flush=True)


def setup_relay(gens: Generators, srv: Relay, pairs: int) -> None:
    t = mono()
    replies = gens.call([{"op": "setup_relay", "ws_url": srv.ws_url, "pairs": k}
                         for k in split(pairs, len(gens.pipes))], 300)
    sockets = sum(r["sockets"] for r in replies)
    errs = [r["errors"] for r in replies if r["errors"]]
    print(f"  {sockets} relay sockets in {sockets // 2} rooms in {mono() - t:.1f} s"
          + (f"; errors {errs}" if errs else ""), flush=True)
