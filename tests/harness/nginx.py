"""Debian's nginx with the shipped `deploy/nginx.conf`, in front of test workers: a throwaway
certificate, every path (pid, logs, temp files) in the test's directory, never the system service.

The site file is used as shipped; only what a deployment changes anyway is replaced (listen
addresses, certificate paths, the workers' addresses), each asserted to be found. nginx's worker
processes do not die with their master, so nginx runs as pid 1 of a PID namespace of its own
(`unshare --pid --kill-child`): when the test process goes, however it goes, `unshare` gets
SIGKILL (tests/harness/processes.py), nginx with it, and the kernel ends the whole namespace."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.harness.processes import ROOT, free_port, run, spawn
from tests.harness.waiting import wait_until

SITE = ROOT / "deploy" / "nginx.conf"
SHIPPED_WORKERS = ("127.0.0.1:8001", "127.0.0.1:8002")
SHIPPED_CERT = "/etc/letsencrypt/live/chat.example.nl/fullchain.pem"
SHIPPED_KEY = "/etc/letsencrypt/live/chat.example.nl/privkey.pem"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                     else None)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60)
    return cert, key


def _replace(text: str, old: str, new: str, count: int) -> str:
    found = text.count(old)
    assert found == count, f"deploy/nginx.conf: {old!r} found {found} times, not {count}"
    return text.replace(old, new)


class Nginx:
    def __init__(self, workdir: Path, workers: Sequence[int]) -> None:
        assert len(workers) == len(SHIPPED_WORKERS)
        self.binary = nginx_binary()
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.http_port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def site(self, cert: Path, key: Path) -> str:
        text = SITE.read_text()
        text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;", 1)
        text = _replace(text, "listen 80;", f"listen 127.0.0.1:{self.http_port};", 1)
        text = _replace(text, SHIPPED_CERT, str(cert), 1)
        text = _replace(text, SHIPPED_KEY, str(key), 1)
        for shipped, port in zip(SHIPPED_WORKERS, self.workers, strict=True):
            text = _replace(text, f"server {shipped};", f"server 127.0.0.1:{port};", 2)
        return text

    def main_conf(self) -> str:
        """What Debian's /etc/nginx/nginx.conf would be, with every path in the work dir."""
        w = self.workdir
        return "\n".join([
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            # Root's test directories are private: the worker reads and writes them as root.
            "user root root;" if os.geteuid() == 0 else "",
            f"pid {w}/nginx.pid;",
            f"error_log {w}/error.log info;",
            "events { worker_connections 512; }",
            "http {",
            *(f"    {kind}_temp_path {w}/{kind}_temp;"
              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
            f"    include {w}/chatserver.conf;",
            "}",
            "",
        ])

    def start(self) -> None:
        if self.binary is None:
            raise RuntimeError("nginx is not installed (bin/setup --test installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        cert, key = self_signed(self.workdir)
        (self.workdir / "chatserver.conf").write_text(self.site(cert, key))
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.main_conf())
        args = [self.binary, "-c", str(conf), "-p", str(self.workdir),
                "-e", str(self.workdir / "error.log")]
        checked = run([*args, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        with open(self.workdir / "nginx.out", "ab") as out:
            self.proc = spawn(["unshare", "--pid", "--fork", "--kill-child=SIGKILL", *args],
                              stdout=out, stderr=out)
        wait_until(self._listening, 15, "nginx listening", self.proc)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # the namespace goes with it
            self.proc.wait(timeout=10)
        self.proc = None
