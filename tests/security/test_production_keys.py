"""A server reachable from outside never keeps its keys beside its data: `chatserver serve` on
an address other than loopback refuses to read or generate keys in the data directory unless
`--dev` is given, and the Procfile runs production."""

from __future__ import annotations

import base64
import os
import secrets
import signal
from pathlib import Path

import pytest

from tests.harness.processes import BIN, ROOT, run
from tests.harness.servers import ServerProcess, server_env

KEY_FILES = ("data_key", "secret_key", "ip_hash_key")
SECRETS = {
    "CHATSERVER_SECRET_KEY": "s" * 40,
    "CHATSERVER_IP_HASH_KEY": "i" * 40,
    "CHATSERVER_DATA_KEY": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
}


class Serve(ServerProcess):
    """`chatserver serve` on any host, reached through 127.0.0.1."""

    def __init__(self, data_dir: Path, host: str, *args: str, **env: str) -> None:
        super().__init__(server_env(data_dir, **env), data_dir.parent / "serve.log")
        self.host = host
        self.args = args

    def command(self) -> list[str]:
        return [str(BIN / "chatserver"), "serve", "--host", self.host, "--port", str(self.port),
                *self.args]


def serve(data_dir: Path, host: str, *args: str, **env: str) -> tuple[int, str]:
    """Exit code and stderr of a `chatserver serve` that is expected to refuse at once."""
    done = run([BIN / "chatserver", "serve", "--host", host, "--port", "1", *args],
               capture_output=True, text=True, env=server_env(data_dir, **env), cwd=ROOT,
               timeout=60)
    return done.returncode, done.stdout + done.stderr


def key_files(data_dir: Path) -> list[str]:
    return sorted(name for name in KEY_FILES if (data_dir / name).exists())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "chat.example.nl"])
def test_an_outside_address_without_keys_is_refused_and_nothing_is_generated(
    tmp_path: Path, host: str,
) -> None:
    data_dir = tmp_path / "data"
    code, output = serve(data_dir, host)
    assert code == 2, output
    assert "Traceback" not in output
    assert output.startswith("chatserver: configuration error: refusing"), output
    for name in ("CHATSERVER_DATA_KEY", "CHATSERVER_SECRET_KEY", "CHATSERVER_IP_HASH_KEY",
                 "--dev"):
        assert name in output
    assert key_files(data_dir) == []


def test_the_app_run_by_uvicorn_directly_takes_keys_from_the_environment_only(
    tmp_path: Path,
) -> None:
    """`uvicorn chatserver.asgi:app` cannot know which address it serves (docs/scaling.md
    shows it with --workers 4): keys beside the data are not read or generated, even ones
    that `chatserver serve` on loopback generated there before."""
    data_dir = tmp_path / "data"
    done = run([BIN / "uvicorn", "chatserver.asgi:app", "--host", "127.0.0.1", "--port", "1"],
               capture_output=True, text=True, env=server_env(data_dir), cwd=ROOT, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "configuration error: refusing" in output, output
    assert "uvicorn directly" in output and key_files(data_dir) == []
    code, output = serve(data_dir, "127.0.0.1", "--workers", "2")  # generated on loopback
    assert code == 2 and "CHATSERVER_REDIS_URL" in output, output
    assert key_files(data_dir) == sorted(KEY_FILES)
    done = run([BIN / "uvicorn", "chatserver.asgi:app", "--host", "127.0.0.1", "--port", "1"],
               capture_output=True, text=True, env=server_env(data_dir), cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "refusing" in done.stdout + done.stderr


def test_keys_already_in_the_data_directory_are_not_read_either(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, output = serve(data_dir, "127.0.0.1", "--workers", "2")  # loopback: generated ...
    assert code == 2 and "CHATSERVER_REDIS_URL" in output, output
    assert key_files(data_dir) == sorted(KEY_FILES)
    code, output = serve(data_dir, "0.0.0.0")  # ... but not read on an outside address
    assert code == 2 and "refusing" in output, output
    code, output = serve(data_dir, "0.0.0.0",  # a secret that is set is not enough on its own
                         CHATSERVER_SECRET_KEY=SECRETS["CHATSERVER_SECRET_KEY"])
    assert code == 2 and "CHATSERVER_DATA_KEY" in output, output
    assert "CHATSERVER_SECRET_KEY" not in output  # only the missing ones are named


@pytest.mark.parametrize("how", ["secrets from the environment", "--dev"])
def test_an_outside_address_serves_with_keys_from_the_environment_or_with_dev(
    tmp_path: Path, how: str,
) -> None:
    data_dir = tmp_path / "data"
    server = (Serve(data_dir, "0.0.0.0", **SECRETS) if how != "--dev"
              else Serve(data_dir, "0.0.0.0", "--dev"))
    try:
        server.start()
    finally:
        server.stop(signal.SIGTERM)
    assert key_files(data_dir) == ([] if how != "--dev" else sorted(KEY_FILES))


def test_the_procfile_runs_production(tmp_path: Path) -> None:
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                 if line.strip())
    env = server_env(tmp_path / "data", PORT="1")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("web", "worker"):
        done = run(["sh", "-c", lines[name]], capture_output=True, text=True, env=env, cwd=ROOT,
                   timeout=60)
        assert done.returncode == 2, (name, done.stderr)
        assert "CHATSERVER_ENV=production needs" in done.stderr, (name, done.stderr)
    assert key_files(tmp_path / "data") == []
