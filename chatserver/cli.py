"""`chatserver serve | users | keys …`: the command line of the server.

Errors are one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import importlib
import ipaddress
import os
import sys
from collections.abc import Sequence
from typing import Any

from chatserver.auth import ROLES, hash_password, new_totp_secret, totp_uri
from chatserver.clock import Clock
from chatserver.config import SERVE_SECRETS_FROM_DATA_DIR, Settings
from chatserver.errors import ConfigError
from chatserver.store import Store
from chatserver.store.keys import SEALED, new_key, totp_context


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chatserver", description="Chat server of a youth helpline.")
    sub = p.add_subparsers(dest="command", required=True)
    _register_core(sub)
    _register_keys(sub)
    # Each area adds its own commands; `run(settings, args) -> exit code` is set as a default.
    for module in ("chatserver.privacy.commands",):
        try:
            register = importlib.import_module(module).register
        except (ImportError, AttributeError):
            continue
        register(sub)
    return p


def _register_core(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (more than 1 needs CHATSERVER_REDIS_URL)")
    serve.add_argument("--log-level", default=os.environ.get("CHATSERVER_LOG_LEVEL", "info"))
    serve.add_argument("--dev", action="store_true",
                       help="allow development secrets from the data directory on an address "
                            "other than loopback")
    serve.set_defaults(run=serve_command)

    users = sub.add_parser("users", help="manage staff accounts")
    users.set_defaults(run=lambda settings, args: asyncio.run(users_command(settings, args)))
    usub = users.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="create a staff account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.add_argument("--display-name")
    usub.add_parser("list", help="list staff accounts")
    disable = usub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("name")
    totp = usub.add_parser("totp", help="enrol an account in TOTP (authenticator app) login")
    totp.add_argument("name")
    totp.add_argument("--remove", action="store_true", help="remove the account's TOTP secret")


def _register_keys(sub: Any) -> None:
    keys = sub.add_parser("keys", help="data keys that encrypt conversations at rest")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    gen = ksub.add_parser("generate", help="print a new `kid:base64` key for CHATSERVER_DATA_KEY")
    gen.add_argument("--id", dest="key_id", help="the key id (letters and digits, at most 16)")
    gen.set_defaults(run=keys_generate_command)
    status = ksub.add_parser("status", help="how many values are sealed under each key id")
    status.set_defaults(run=lambda settings, args: asyncio.run(keys_status_command(settings)))
    rot = ksub.add_parser("rotate", help="re-encrypt everything under the current (first) key")
    rot.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
    rot.set_defaults(run=lambda settings, args: asyncio.run(keys_rotate_command(settings, args)))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(secrets_from_data_dir=_may_use_data_dir_secrets(args))
    except ConfigError as exc:
        print(f"chatserver: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command != "serve":  # serve installs its own level
        from chatserver import logs

        logs.configure("WARNING")
    code: int = args.run(settings, args)
    return code


def _may_use_data_dir_secrets(args: argparse.Namespace) -> bool:
    """Keys kept beside the database are for a server that only this machine reaches: a
    server bound to any other address gets them from its environment, unless `--dev`."""
    if getattr(args, "command", None) != "serve" or args.dev:
        return True
    return is_loopback(args.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from chatserver import logs
    from chatserver.app import create_app

    if args.workers > 1 and not settings.redis_url:
        print("chatserver: --workers above 1 needs CHATSERVER_REDIS_URL (shared live state)",
              file=sys.stderr)
        return 2
    log_config = logs.configure(args.log_level.upper())
    gc.set_threshold(50_000, 50, 100)
    common = {
        "host": args.host,
        "port": args.port,
        "access_log": False,
        "log_config": log_config,
        # We apply CHATSERVER_TRUSTED_PROXIES ourselves; uvicorn would trust 127.0.0.1's XFF.
        "proxy_headers": False,
        "server_header": False,
        "date_header": False,
        "ws_max_size": settings.max_http_buffer_size,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 5,
        "lifespan": "on",
    }
    try:
        if args.workers > 1:
            # A worker imports the whole app (seconds on a busy machine): uvicorn's default of 5 s
            # to answer its supervisor's health check killed workers before they ever started.
            # The workers build their settings again: they may use keys in the data
            # directory exactly when this process may (bare uvicorn may not).
            os.environ[SERVE_SECRETS_FROM_DATA_DIR] = (
                "1" if _may_use_data_dir_secrets(args) else "0")
            uvicorn.run("chatserver.asgi:app", workers=args.workers,
                        timeout_worker_healthcheck=30, **common)
        else:
            uvicorn.run(create_app(settings), **common)
    except KeyboardInterrupt:
        pass
    return 0


async def users_command(settings: Settings, args: argparse.Namespace) -> int:
    store = Store.from_settings(settings)
    async with _started(store):
        now = Clock().now()
        if args.users_command == "add":
            return await _add_user(store, args, now)
        if args.users_command == "list":
            for u in await store.staff.users():
                state = "uitgeschakeld" if u.disabled_at else "actief"
                print(f"{u.username}\t{u.role}\t{u.display_name}\t{state}")
            return 0
        if args.users_command == "disable":
            user = await store.staff.user_by_name(args.name)
            if user is None:
                print(f"chatserver: no account named {args.name!r}", file=sys.stderr)
                return 1
            await store.staff.update_user(user.id, disabled_at=now)
            await store.staff.revoke_user_sessions(user.id, now)
            await store.audit.record(now, "account_disabled", actor_id=None, actor="cli",
                                     detail={"username": args.name})
            print(f"disabled {args.name}")
            return 0
        if args.users_command == "totp":
            return await _totp(store, args, now)
    return 2


async def _totp(store: Store, args: argparse.Namespace, now: object) -> int:
    """Enrol (a new secret replaces the old one) or remove; existing sessions end either way."""
    user = await store.staff.user_by_name(args.name)
    if user is None:
        print(f"chatserver: no account named {args.name!r}", file=sys.stderr)
        return 1
    if args.remove:
        await store.staff.update_user(user.id, totp_secret=None)
    else:
        secret = new_totp_secret()
        await store.staff.update_user(user.id, totp_secret=store.sealer.seal(secret, totp_context(user.id)))
    await store.staff.revoke_user_sessions(user.id, now)  # type: ignore[arg-type]
    await store.audit.record(now, "totp_removed" if args.remove else "totp_enrolled",  # type: ignore[arg-type]
                             actor_id=None, actor="cli", detail={"username": args.name})
    if args.remove:
        print(f"removed the TOTP secret of {args.name}")
        return 0
    print(totp_uri(secret, user.username))
    print(f"secret: {secret}")
    print("Scan the URI as a QR code (or type the secret) into an authenticator app; from now "
          "on this account logs in with password and code.", file=sys.stderr)
    return 0


async def _add_user(store: Store, args: argparse.Namespace, now: object) -> int:
    name = args.name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        print("chatserver: a username is 1-64 letters, digits or . _ - @", file=sys.stderr)
        return 2
    if await store.staff.user_by_name(name) is not None:
        print(f"chatserver: an account named {name!r} already exists", file=sys.stderr)
        return 1
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {name}: ")
    if not password:
        print("chatserver: the password is empty", file=sys.stderr)
        return 2
    if len(password) < 12:
        print("chatserver: warning: use a password of 12 characters or more in production",
              file=sys.stderr)
    display = (args.display_name or name).strip()[:100]
    await store.staff.add_user(name, display, args.role, hash_password(password), now)  # type: ignore[arg-type]
    await store.audit.record(now, "account_created", actor_id=None, actor="cli",  # type: ignore[arg-type]
                             detail={"username": name, "role": args.role})
    print(f"created {args.role} {name}")
    return 0


class _started:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def __aenter__(self) -> Store:
        await self.store.start()
        return self.store

    async def __aexit__(self, *exc: object) -> None:
        await self.store.close()


# -- keys: the data keys that seal free text at rest -------------------------------------------


def keys_generate_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        print(new_key(args.key_id))
    except ValueError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return 2
    print("Put it first in CHATSERVER_DATA_KEY, keep the old keys after it, restart, run "
          "`chatserver keys rotate`, then drop the old keys once `keys status` shows none.",
          file=sys.stderr)
    return 0


async def keys_status_command(settings: Settings) -> int:
    async with _started(Store.from_settings(settings)) as store:
        counts = await store.keys.counts()
    configured = [kid for kid, _ in settings.data_keys]
    print(f"current key: {configured[0]}; configured: {', '.join(configured)}")
    missing = False
    for name, per_kid in counts.items():
        for kid, n in sorted(per_kid.items()):
            note = ""
            if kid == configured[0]:
                note = " (current)"
            elif kid not in configured:
                note = " (key not configured: these values cannot be read)"
                missing = True
            print(f"{name}\t{kid}\t{n}{note}")
    return 1 if missing else 0


async def keys_rotate_command(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= 100_000:
        print("chatserver: --batch must be between 1 and 100000", file=sys.stderr)
        return 2
    async with _started(Store.from_settings(settings)) as store:
        report = await store.keys.rotate(args.batch)
        # Who re-sealed what, when: a rotation touches every sealed value (no content here).
        await store.audit.record(Clock().now(), "keys_rotated", actor_id=None, actor="cli",
                                 conversation_id=None, detail={
                                     "key": store.sealer.current_kid,
                                     "resealed": report.total,
                                     "unreadable": sum(report.unreadable.values()),
                                 })
    for name in (c.name for c in SEALED):
        print(f"{name}\tresealed {report.resealed[name]}"
              + (f"\tunreadable {report.unreadable[name]}" if report.unreadable[name] else ""))
    rate = report.total / report.seconds if report.seconds > 0 else 0.0
    print(f"{report.total} values under key {store.sealer.current_kid} in {report.batches} "
          f"batches, {report.seconds:.1f} s ({rate:.0f}/s)")
    if report.unreadable:
        print("chatserver: some values could not be opened with the configured keys; keep the "
              "key they were sealed under in CHATSERVER_DATA_KEY", file=sys.stderr)
        return 1
    return 0
