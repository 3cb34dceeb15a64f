"""Every process the server starts dies with it: the redaction worker, and with `--workers N`
uvicorn's workers and their redaction workers, whether the server is killed with SIGKILL while
the redactor is still warming up or after it is ready, stopped with SIGTERM or SIGINT while it
warms, or fails at start-up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.processes import ROOT, SITE, spawn
from tests.helpers import TIMEOUT, Subprocess
from tests.live.redis_server import RedisServer

pytest.importorskip("redaction")
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

# Every process of one server's tree carries this in its environment, so that a survivor is
# found even after it was handed to another parent (pid 1).
MARK = "CHATSERVER_LIFELINE_TEST"


class BareServer(Subprocess):
    """Without the harness's sitecustomize, which makes every Python child die with its
    parent: here the server's children must die by the server's own doing."""

    def __init__(self, data_dir: Path, *args: str, **env: str) -> None:
        self.mark = uuid.uuid4().hex
        super().__init__(data_dir, *args, CHATSERVER_REDACTOR="true", **{MARK: self.mark}, **env)

    def launch(self) -> None:
        paths = self.env.get("PYTHONPATH", "").split(os.pathsep)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p and p != str(SITE))
        with open(self.log_path, "ab") as log:
            self.proc = spawn(self.command(), env=self.env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)

    def marked(self) -> set[int]:
        """Live processes, wherever they are now, that this server's tree started."""
        needle = f"{MARK}={self.mark}".encode()
        found = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and alive(int(entry)):
                try:
                    if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                        found.add(int(entry))
                except OSError:
                    continue
        return found

    def redactor(self) -> str:
        try:
            return str(httpx.get(self.url + "/healthz", timeout=5).json().get("redactor"))
        except (httpx.HTTPError, ValueError):
            return ""

    def clean_up(self) -> None:
        """Whatever happened: no process of this test outlives it."""
        self.stop(signal.SIGKILL)
        for pid in self.marked():
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def tree(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_for(condition: Callable[[], object], what: str, seconds: float = 3 * TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.02)  # polling /proc: no event announces a process's start or end


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield server.url
    server.stop()


def server_with(tmp_path: Path, workers: int, redis_url: Callable[[], str]) -> BareServer:
    if workers == 1:
        return BareServer(tmp_path / "data")
    return BareServer(tmp_path / "data", "--workers", str(workers),
                      CHATSERVER_REDIS_URL=redis_url())


def started(server: BareServer, workers: int, moment: str) -> set[int]:
    """Start `server`, wait until each worker has its redaction worker and the redactor is
    `moment`; the whole tree then."""
    server.launch()
    assert server.proc is not None
    pid = server.proc.pid
    wait_for(lambda: len(spawned_redactors(pid, workers)) == workers
             and server.redactor() == moment, f"redactor never {moment}", 180)
    return tree(pid)


def spawned_redactors(pid: int, workers: int) -> set[int]:
    level = children(pid) if workers == 1 else {g for c in children(pid) for g in children(c)}
    return {p for p in level if "multiprocessing" in cmdline(p) and "resource_tracker"
            not in cmdline(p)}


@pytest.fixture
def redis(request: pytest.FixtureRequest) -> Callable[[], str]:
    return lambda: str(request.getfixturevalue("redis_url"))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("moment", ["warming", "ready"])
def test_sigkill_of_the_server_leaves_no_process_behind(
    tmp_path: Path, moment: str, workers: int, redis: Callable[[], str],
) -> None:
    server = server_with(tmp_path, workers, redis)
    try:
        left = started(server, workers, moment)
        assert len(left) >= 2 * workers  # workers, redaction workers, resource tracker
        server.kill(signal.SIGKILL)
        wait_for(lambda: not any(alive(p) for p in left),
                 f"survivors: {[(p, cmdline(p)) for p in left if alive(p)]}")
        assert server.marked() == set()
    finally:
        server.clean_up()


@pytest.mark.parametrize(("sig", "workers"), [
    (signal.SIGTERM, 1), (signal.SIGTERM, 2), (signal.SIGINT, 1),
])
def test_a_stop_while_the_redactor_warms_ends_every_process(
    tmp_path: Path, sig: signal.Signals, workers: int, redis: Callable[[], str],
) -> None:
    server = server_with(tmp_path, workers, redis)
    try:
        left = started(server, workers, "warming")
        code = server.kill(sig, timeout=60)
        assert code in (0, -sig), server.log()[-3000:]
        wait_for(lambda: not any(alive(p) for p in left),
                 f"survivors: {[(p, cmdline(p)) for p in left if alive(p)]}")
        assert server.marked() == set()
        assert "Traceback" not in server.log()
    finally:
        server.clean_up()


def test_a_failed_start_leaves_no_process_behind(tmp_path: Path) -> None:
    """The port is taken: uvicorn fails after the app started, redaction worker and all."""
    server = BareServer(tmp_path / "data")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        try:
            server.launch()
            assert server.proc is not None
            assert server.proc.wait(timeout=120) != 0
            wait_for(lambda: not server.marked(), "survivors of a failed start")
            log = server.log()
            assert "chat server stopped" in log and "address already in use" in log, log
        finally:
            server.clean_up()
