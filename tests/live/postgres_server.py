"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests: `postgres` itself is the child
process (not a daemon started by pg_ctl), so it dies with its parent, also on `kill -9`. Run as
the `postgres` user when the tests run as root (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.harness.processes import free_port, run, spawn
from tests.harness.waiting import wait_until


def binaries() -> Path | None:
    for pattern in ("/usr/lib/postgresql/*/bin",):
        for found in sorted(glob.glob(pattern), reverse=True):
            if Path(found, "initdb").exists():
                return Path(found)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binaries()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="chatserver-pg-"))
        self.user = "postgres" if os.geteuid() == 0 else None
        self.proc: subprocess.Popen[bytes] | None = None

    def _run(self, program: str, *args: str) -> None:
        assert self.bin is not None
        run([self.bin / program, *args], user=self.user, check=True, capture_output=True,
            timeout=120)

    def start(self) -> None:
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (bin/setup --test installs it)")
        if self.user:
            shutil.chown(self.dir, self.user)
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "chat", "--no-sync")
        with open(self.dir / "log", "ab") as log:
            self.proc = spawn(
                [self.bin / "postgres", "-D", data, "-k", self.dir, "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                user=self.user, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.ready, 30, "PostgreSQL", self.proc, every=0.1)

    def ready(self) -> bool:
        assert self.bin is not None
        done = run([self.bin / "pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                   capture_output=True, timeout=10)
        return done.returncode == 0

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "chat", name)
        return f"postgresql+asyncpg://chat@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # immediate shutdown: nothing here to keep
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
