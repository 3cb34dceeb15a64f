"""Every process the server starts dies with it, also when the server is killed with SIGKILL
while the redactor is still warming up, or after it is ready."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.harness.processes import ROOT, SITE, spawn
from tests.helpers import TIMEOUT, Subprocess

pytest.importorskip("redaction")


class BareServer(Subprocess):
    """Without the harness's sitecustomize, which makes every Python child die with its
    parent: here the server's children must die by the server's own doing."""

    def launch(self) -> None:
        paths = self.env.get("PYTHONPATH", "").split(os.pathsep)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p and p != str(SITE))
        with open(self.log_path, "ab") as log:
            self.proc = spawn(self.command(), env=self.env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)


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


def wait_for(condition: object, what: str, seconds: float = 3 * TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.02)  # polling /proc: no event announces a process's start or end


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("moment", ["warming", "ready"])
def test_sigkill_of_the_server_leaves_no_process_behind(tmp_path: Path, moment: str) -> None:
    server = BareServer(tmp_path / "data", CHATSERVER_REDACTOR="true")
    server.start()
    assert server.proc is not None
    pid = server.proc.pid

    def redactor_is(status: str) -> bool:
        return bool(httpx.get(server.url + "/healthz", timeout=5).json().get("redactor") == status
                    and tree(pid))

    try:
        wait_for(lambda: redactor_is(moment), f"redactor never {moment}", 180)
        left = tree(pid)
        assert left
        server.kill(signal.SIGKILL)
        wait_for(lambda: not any(alive(p) for p in left), f"survivors: {sorted(left)}")
    finally:
        server.stop()
