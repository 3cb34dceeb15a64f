"""One Settings object, read from the environment; nothing else reads os.environ.

Every setting has a development default so that `chatserver serve` runs with no configuration."""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from chatserver.errors import ConfigError
from chatserver.privacy.terms import BLOCK_MAX_DAYS

# Until the helpline's own statement is configured: the widget's privacy note on its first screen.
DEFAULT_PRIVACY_URL = "/#privacy-title"

DEFAULT_TOPICS = (
    "Thuis",
    "School",
    "Vrienden",
    "Pesten",
    "Verliefdheid en relaties",
    "Seksualiteit",
    "Lichaam en gezondheid",
    "Somberheid",
    "Zelfbeschadiging",
    "Zelfmoordgedachten",
    "Geweld en misbruik",
    "Online",
    "Verslaving",
    "Anders",
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
N = TypeVar("N", int, float)


def _number(env: Mapping[str, str], name: str, default: N, lo: N, hi: N,
            parse: Callable[[str], N], what: str) -> N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, not {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    return _number(env, name, default, lo, hi, int, "a whole number")


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    return _number(env, name, default, lo, hi, float, "a number")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in env.get(name, "").split(",") if p.strip())


def _networks(raw: tuple[str, ...], name: str) -> tuple[Network, ...]:
    nets = []
    for item in raw:
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{name}: {item!r} is not an address or CIDR") from exc
    return tuple(nets)


def _link(env: Mapping[str, str], name: str, default: str) -> str:
    """A link for the pages: a path on this site or an https:// address."""
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    if len(raw) > 500 or not (raw.startswith("https://") or (
            raw.startswith("/") and not raw.startswith("//"))) or any(
            c.isspace() or c in "\"'<>" for c in raw):
        raise ConfigError(f"{name} must be a path on this site (/...) or an https:// address")
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _secret(data_dir: Path, env: Mapping[str, str], name: str, filename: str) -> bytes:
    """A secret from the environment, or (development) one generated once in the data dir."""
    raw = env.get(name)
    if raw:
        if len(raw) < 32:
            raise ConfigError(f"{name} must be at least 32 characters")
        return raw.encode()
    path = data_dir / filename
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value


def _data_keys(data_dir: Path, env: Mapping[str, str]) -> tuple[tuple[str, bytes], ...]:
    """AES-256 keys for text at rest: `kid:base64key,...`, the first one current.

    Without CHATSERVER_DATA_KEY (development only) one key is generated in the data dir."""
    raw = env.get("CHATSERVER_DATA_KEY", "").strip()
    if not raw:
        raw = "dev1:" + _secret_b64(data_dir / "data_key")
    keys = []
    for item in raw.split(","):
        kid, sep, b64 = item.strip().partition(":")
        if not sep or not kid.isalnum() or len(kid) > 16:
            raise ConfigError("CHATSERVER_DATA_KEY must be `keyid:base64key[,keyid:base64key…]`")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError as exc:
            raise ConfigError(f"CHATSERVER_DATA_KEY: key {kid!r} is not base64") from exc
        if len(key) != 32:
            raise ConfigError(f"CHATSERVER_DATA_KEY: key {kid!r} must be 32 bytes")
        keys.append((kid, key))
    return tuple(keys)


def _secret_b64(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value)
    return value


ENVIRONMENTS = ("development", "production")
# Set by `chatserver serve --workers N` for its workers ("1": they may use keys kept in the
# data directory, as it may); without it `chatserver.asgi` takes keys from the environment only.
SERVE_SECRETS_FROM_DATA_DIR = "_CHATSERVER_SERVE_SECRETS_FROM_DATA_DIR"
ROLE_NAMES = ("volunteer", "supervisor", "coordinator", "admin")
# Secrets that production must get from its operator, never from files generated on the spot.
PRODUCTION_SECRETS = ("CHATSERVER_DATA_KEY", "CHATSERVER_SECRET_KEY", "CHATSERVER_IP_HASH_KEY")


def missing_secrets(env: Mapping[str, str]) -> list[str]:
    """The secrets that `env` does not set: development would read or generate them in the
    data directory."""
    return [name for name in PRODUCTION_SECRETS if not env.get(name, "").strip()]


def _production_check(env: Mapping[str, str]) -> None:
    missing = missing_secrets(env)
    if missing:
        raise ConfigError(
            "CHATSERVER_ENV=production needs " + ", ".join(missing)
            + " (development secrets are never generated in production)"
        )
    if not _list(env, "CHATSERVER_ALLOWED_ORIGINS"):
        raise ConfigError(
            "CHATSERVER_ENV=production needs CHATSERVER_ALLOWED_ORIGINS "
            "(the https origins of the widget and console, e.g. https://chat.example.nl)"
        )
    redis_url = env.get("CHATSERVER_REDIS_URL", "").strip()
    if redis_url.lower().startswith("redis://") and not _bool(
        env, "CHATSERVER_REDIS_ALLOW_PLAINTEXT", False
    ):
        # Live state carries conversation metadata between the workers: not in the clear on a
        # network. A Redis on the same host may be waived explicitly; a unix:// socket needs no TLS.
        raise ConfigError(
            "CHATSERVER_ENV=production needs TLS to Redis: CHATSERVER_REDIS_URL must start "
            "with rediss:// (set CHATSERVER_REDIS_ALLOW_PLAINTEXT=1 only for a Redis that no "
            "network carries, e.g. on the same host)"
        )


def _metrics_token(env: Mapping[str, str]) -> str | None:
    """The operators' bearer token for /metrics; without it the endpoint does not exist."""
    raw = env.get("CHATSERVER_METRICS_TOKEN", "").strip()
    if raw and len(raw) < 32:
        raise ConfigError("CHATSERVER_METRICS_TOKEN must be at least 32 characters")
    return raw or None


def _roles(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    roles = _list(env, name)
    for role in roles:
        if role not in ROLE_NAMES:
            raise ConfigError(f"{name}: {role!r} is not one of {', '.join(ROLE_NAMES)}")
    return roles


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    ip_hash_key: bytes
    secret_key: bytes
    trusted_proxies: tuple[Network, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    embed_origins: tuple[str, ...] = ()
    max_text_length: int = 4000
    max_http_buffer_size: int = 64 * 1024
    # Per connection: a burst of `rate_burst` events, refilled at `rate_per_second`.
    rate_per_second: float = 10.0
    rate_burst: int = 60
    max_queue: int = 500
    volunteer_grace_seconds: float = 5.0
    chatter_grace_seconds: float = 120.0
    # Several workers: how often each says it is alive; silent for 3 beats means dead.
    worker_heartbeat_seconds: float = 2.0
    max_capacity: int = 6
    timeout_default_minutes: int = 30
    timeout_min_minutes: int = 5
    timeout_max_minutes: int = 24 * 60
    timeout_window_days: int = 90
    block_default_days: int = 90
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    retention_days: int = 90
    address_retention_days: int = 183
    # Terms of the research store (from the record's day), of a closed request in the register
    # and of an audit entry (privacy/terms.py).
    research_term_days: int = 1825
    request_register_days: int = 365
    audit_log_days: int = 730
    # How often the server runs the retention sweeper itself; 0 leaves it to a worker process.
    retention_interval_seconds: int = 3600
    topics: tuple[str, ...] = DEFAULT_TOPICS
    # The helpline's privacy statement, linked from the widget (`privacy_url` in /api/config).
    privacy_url: str = DEFAULT_PRIVACY_URL
    sqlite_synchronous: str = "FULL"
    redactor_enabled: bool = True
    test_clock_file: str | None = None
    data_keys: tuple[tuple[str, bytes], ...] = ()
    environment: str = "development"
    # Staff roles that must log in with a TOTP code as well as their password.
    require_totp_for: tuple[str, ...] = ()
    # Engine.IO heartbeat: a client that answers no ping for interval + timeout is dropped.
    # Whole seconds: Engine.IO tells clients int(interval) * 1000 ms, so 0.5 would become 0.
    ping_interval: int = 15
    ping_timeout: int = 10
    # Per address hash: simultaneous /chat connections, new connections, and events across all
    # of them (a burst, refilled at a steady rate). Generous on purpose: one IPv4 address can be a
    # whole school, or thousands of phones behind a mobile carrier's NAT; floods from one
    # connection are held by the per-connection limits above.
    max_connections_per_address: int = 500
    address_connects_per_second: float = 5.0
    address_connects_burst: int = 300
    address_rate_per_second: float = 200.0
    address_rate_burst: int = 1000
    # Bearer token of the operators' /metrics; None: the endpoint answers 404.
    metrics_token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *,
                 secrets_from_data_dir: bool = True) -> Settings:
        """`secrets_from_data_dir=False`: a missing secret is an error instead of being read
        from (or generated into) the data directory, as on a server reachable from outside."""
        env = os.environ if env is None else env
        environment = env.get("CHATSERVER_ENV", "").strip().lower() or "development"
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"CHATSERVER_ENV must be development or production, not {environment!r}")
        if environment == "production":
            _production_check(env)
        elif not secrets_from_data_dir and missing_secrets(env):
            raise ConfigError(
                "refusing to read or generate " + ", ".join(missing_secrets(env))
                + " in the data directory for a server that may be reached from outside (an "
                "address other than loopback, or the app run by uvicorn directly): set them (and "
                "CHATSERVER_ENV=production), or run `chatserver serve --dev` for a development "
                "server"
            )
        data_dir = Path(env.get("CHATSERVER_DATA_DIR") or "./.chatserver").resolve()
        database_url = env.get("CHATSERVER_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{data_dir / 'chatserver.sqlite3'}"
        )
        if "sqlite" in database_url:
            data_dir.mkdir(parents=True, exist_ok=True)
        sync = env.get("CHATSERVER_SQLITE_SYNCHRONOUS", "FULL").upper()
        if sync not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigError("CHATSERVER_SQLITE_SYNCHRONOUS must be FULL, EXTRA or NORMAL")
        topics = _list(env, "CHATSERVER_TOPICS") or DEFAULT_TOPICS
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=env.get("CHATSERVER_REDIS_URL") or None,
            ip_hash_key=_secret(data_dir, env, "CHATSERVER_IP_HASH_KEY", "ip_hash_key"),
            secret_key=_secret(data_dir, env, "CHATSERVER_SECRET_KEY", "secret_key"),
            trusted_proxies=_networks(
                _list(env, "CHATSERVER_TRUSTED_PROXIES"), "CHATSERVER_TRUSTED_PROXIES"
            ),
            allowed_origins=_list(env, "CHATSERVER_ALLOWED_ORIGINS"),
            embed_origins=_list(env, "CHATSERVER_EMBED_ORIGINS"),
            max_text_length=_int(env, "CHATSERVER_MAX_TEXT_LENGTH", 4000, 1, 100_000),
            max_http_buffer_size=_int(
                env, "CHATSERVER_MAX_HTTP_BUFFER_SIZE", 64 * 1024, 1024, 16 * 1024 * 1024
            ),
            rate_per_second=_float(env, "CHATSERVER_RATE_PER_SECOND", 10.0, 0.1, 10_000),
            rate_burst=_int(env, "CHATSERVER_RATE_BURST", 60, 1, 100_000),
            max_queue=_int(env, "CHATSERVER_MAX_QUEUE", 500, 1, 1_000_000),
            volunteer_grace_seconds=_float(env, "CHATSERVER_VOLUNTEER_GRACE_SECONDS", 5, 0, 3600),
            chatter_grace_seconds=_float(env, "CHATSERVER_CHATTER_GRACE_SECONDS", 120, 0, 86400),
            worker_heartbeat_seconds=_float(
                env, "CHATSERVER_WORKER_HEARTBEAT_SECONDS", 2.0, 0.1, 60
            ),
            max_capacity=_int(env, "CHATSERVER_MAX_CAPACITY", 6, 1, 100),
            timeout_default_minutes=_int(env, "CHATSERVER_TIMEOUT_MINUTES", 30, 1, 10_080),
            timeout_min_minutes=_int(env, "CHATSERVER_TIMEOUT_MIN_MINUTES", 5, 1, 10_080),
            timeout_max_minutes=_int(env, "CHATSERVER_TIMEOUT_MAX_MINUTES", 1440, 1, 43_200),
            timeout_window_days=_int(env, "CHATSERVER_TIMEOUT_WINDOW_DAYS", 90, 1, 3650),
            # The default and the longest block: three months at most, shorter if set so.
            block_default_days=_int(env, "CHATSERVER_BLOCK_DAYS", 90, 1, BLOCK_MAX_DAYS),
            session_idle_minutes=_int(env, "CHATSERVER_SESSION_IDLE_MINUTES", 30, 1, 1440),
            session_max_hours=_int(env, "CHATSERVER_SESSION_MAX_HOURS", 12, 1, 168),
            retention_days=_int(env, "CHATSERVER_RETENTION_DAYS", 90, 1, 3650),
            address_retention_days=_int(env, "CHATSERVER_ADDRESS_RETENTION_DAYS", 183, 1, 3650),
            research_term_days=_int(env, "CHATSERVER_RESEARCH_TERM_DAYS", 1825, 1, 36500),
            request_register_days=_int(env, "CHATSERVER_REQUEST_REGISTER_DAYS", 365, 1, 36500),
            audit_log_days=_int(env, "CHATSERVER_AUDIT_LOG_DAYS", 730, 1, 36500),
            retention_interval_seconds=_int(
                env, "CHATSERVER_RETENTION_INTERVAL_SECONDS", 3600, 0, 7 * 86400
            ),
            topics=topics,
            privacy_url=_link(env, "CHATSERVER_PRIVACY_URL", DEFAULT_PRIVACY_URL),
            sqlite_synchronous=sync,
            redactor_enabled=_bool(env, "CHATSERVER_REDACTOR", True),
            test_clock_file=env.get("CHATSERVER_TEST_CLOCK_FILE") or None,
            data_keys=_data_keys(data_dir, env),
            environment=environment,
            require_totp_for=_roles(env, "CHATSERVER_REQUIRE_TOTP_FOR"),
            ping_interval=_int(env, "CHATSERVER_PING_INTERVAL", 15, 1, 300),
            ping_timeout=_int(env, "CHATSERVER_PING_TIMEOUT", 10, 1, 300),
            max_connections_per_address=_int(
                env, "CHATSERVER_MAX_CONNECTIONS_PER_ADDRESS", 500, 1, 100_000
            ),
            address_connects_per_second=_float(
                env, "CHATSERVER_ADDRESS_CONNECTS_PER_SECOND", 5.0, 0.01, 100_000
            ),
            address_connects_burst=_int(
                env, "CHATSERVER_ADDRESS_CONNECTS_BURST", 300, 1, 1_000_000
            ),
            address_rate_per_second=_float(
                env, "CHATSERVER_ADDRESS_RATE_PER_SECOND", 200.0, 0.1, 100_000
            ),
            address_rate_burst=_int(env, "CHATSERVER_ADDRESS_RATE_BURST", 1000, 1, 1_000_000),
            metrics_token=_metrics_token(env),
        )

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
