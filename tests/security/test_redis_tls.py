"""Production talks to Redis over TLS: a `redis://` URL is refused at start-up with a clear
configuration error, unless the operator waives it (`CHATSERVER_REDIS_ALLOW_PLAINTEXT=1`)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from chatserver.config import Settings
from chatserver.errors import ConfigError
from tests.harness.processes import BIN, ROOT, run
from tests.harness.servers import server_env

PRODUCTION = {
    "CHATSERVER_ENV": "production",
    "CHATSERVER_SECRET_KEY": "s" * 40,
    "CHATSERVER_IP_HASH_KEY": "i" * 40,
    "CHATSERVER_DATA_KEY": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "CHATSERVER_ALLOWED_ORIGINS": "https://chat.example.nl",
}


def test_production_refuses_plaintext_redis_and_serve_exits_like_other_config_errors(
    tmp_path: Path,
) -> None:
    env = server_env(tmp_path / "data", **PRODUCTION,
                     CHATSERVER_REDIS_URL="redis://redis.internal:6379/0")
    with pytest.raises(ConfigError, match="rediss://"):
        Settings.from_env(env)
    done = run([BIN / "chatserver", "serve", "--port", "1"], capture_output=True, text=True,
               env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("chatserver: configuration error: CHATSERVER_ENV=production "
                                  "needs TLS to Redis"), done.stderr
    assert "CHATSERVER_REDIS_ALLOW_PLAINTEXT" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("url, extra", [
    ("rediss://redis.internal:6380/0", {}),
    ("unix:///run/redis/redis.sock", {}),
    ("redis://127.0.0.1:6379/0", {"CHATSERVER_REDIS_ALLOW_PLAINTEXT": "1"}),
])
def test_production_accepts_tls_a_socket_or_an_explicit_waiver(
    tmp_path: Path, url: str, extra: dict[str, str],
) -> None:
    env = server_env(tmp_path / "data", **PRODUCTION, CHATSERVER_REDIS_URL=url, **extra)
    assert Settings.from_env(env).redis_url == url


def test_development_keeps_plaintext_redis(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", CHATSERVER_REDIS_URL="redis://127.0.0.1:6379/0")
    assert Settings.from_env(env).redis_url == "redis://127.0.0.1:6379/0"


def test_the_waiver_must_be_a_clear_yes_or_no(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", **PRODUCTION, CHATSERVER_REDIS_URL="redis://r:6379",
                     CHATSERVER_REDIS_ALLOW_PLAINTEXT="maybe")
    with pytest.raises(ConfigError, match="CHATSERVER_REDIS_ALLOW_PLAINTEXT"):
        Settings.from_env(env)
