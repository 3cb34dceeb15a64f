"""py-spy sampling of the server during one phase of a benchmark (`--py-spy DIR`). py-spy is
not a project dependency: `pip install --target /tmp/pyspy py-spy`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness.processes import spawn

if TYPE_CHECKING:
    from tests.harness.servers import ServerProcess as Server

PY_SPY = os.environ.get("PY_SPY") or shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy"


class Spy:
    """py-spy (installed outside the project venv) sampling the server during one phase."""

    def __init__(self, out_dir: str | None, srv: Server, name: str, seconds: float) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if not out_dir or not Path(PY_SPY).exists():
            return
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        self.out = Path(out_dir) / f"{name}.txt"
        self.proc = spawn(
            [PY_SPY, "record", "--pid", str(srv.pid), "--duration", str(int(seconds)),
             "--rate", os.environ.get("PY_SPY_RATE", "200"), "--nonblocking", "--subprocesses", "--gil", "--format", "raw", "-o", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def done(self, top: int = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes what it has so far
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return
        print(f"  py-spy profile: {self.out}")
        print_profile(self.out, top)


def print_profile(path: Path, top: int = 20) -> None:
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    if not total:
        return
    print(f"    {total} samples; top self time:")
    for f, n in own.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {f[:150]}")
    print("    top inclusive (chatserver/socketio/engineio/sqlalchemy frames):")
    shown = 0
    for f, n in incl.most_common():
        if any(k in f for k in ("chatserver/", "socketio/", "engineio/", "sqlalchemy/",
                                "aiosqlite", "uvicorn/", "websockets/")):
            print(f"    {100 * n / total:5.1f}%  {f[:150]}")
            shown += 1
            if shown >= top:
                break
