"""Staff accounts written with the server's own store code: what `chatserver users add` does,
without a process start and an argon2id hash per account (one hash serves them all).

In this process, `await add_accounts(settings, names)`; for a server in a child process, in a
child with the server's environment: `python -m tests.harness.accounts ROLE`, with the password
on the first line of standard input and the names after it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable

from chatserver.auth import hash_password
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.store import Store
from chatserver.store.sealing import Sealer


async def add_accounts(settings: Settings, names: Iterable[str], password: str,
                       role: str = "volunteer") -> None:
    store = Store(settings.database_url, Sealer(settings.data_keys),
                  sqlite_synchronous=settings.sqlite_synchronous)
    await store.start()
    try:
        digest = hash_password(password)
        now = Clock().now()
        for name in names:
            await store.add_user(name, name.title(), role, digest, now)
    finally:
        await store.close()


def main() -> None:
    password, *names = sys.stdin.read().split()
    asyncio.run(add_accounts(Settings.from_env(), names, password, sys.argv[1]))


if __name__ == "__main__":
    main()
