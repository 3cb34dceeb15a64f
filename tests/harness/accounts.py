"""Staff accounts written with the server's own store code: what `chatserver users add` does,
without a process start and an argon2id hash per account (one hash serves them all).

In this process, `await add_accounts(settings, {name: role}, password)`; for a server in a child
process, in a child with the server's environment: `python -m tests.harness.accounts`, with the
password on the first line of standard input and a `name role` per line after it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from chatserver.auth import hash_password
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.store import Store


async def add_accounts(settings: Settings, roles: Mapping[str, str], password: str) -> None:
    """An account per name with its role; display name: the name, capitalised."""
    store = Store.from_settings(settings)
    await store.start()
    try:
        digest = hash_password(password)
        now = Clock().now()
        for name, role in roles.items():
            await store.staff.add_user(name, name.title(), role, digest, now)
    finally:
        await store.close()


def main() -> None:
    password, *lines = sys.stdin.read().splitlines()
    roles = dict(line.split() for line in lines if line.strip())
    asyncio.run(add_accounts(Settings.from_env(), roles, password))


if __name__ == "__main__":
    main()
