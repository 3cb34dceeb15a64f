"""Development only: make sure there is an account to log in with, and say how.

Creates `beheerder` (admin) with a random password the first time; shows it again later."""

from __future__ import annotations

import asyncio
import os
import secrets

from chatserver.auth import hash_password
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.store import Store


async def ensure(settings: Settings) -> str:
    path = settings.data_dir / "dev-login.txt"
    store = Store.from_settings(settings)
    await store.start()
    try:
        if not await store.staff.users():
            password = secrets.token_urlsafe(12)
            await store.staff.add_user("beheerder", "Beheerder", "admin", hash_password(password),
                                       Clock().now())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"beheerder {password}\n")
    finally:
        await store.close()
    if path.exists():
        name, password = path.read_text(encoding="utf-8").split()
        return (f"Console: /console on the address below; log in as {name} / {password}\n"
                f"(development account, kept in {path}; add others with "
                "`chatserver users add NAME --role volunteer --password-stdin`)")
    return "Log in with an account made by `chatserver users add NAME --role … --password-stdin`."


if __name__ == "__main__":
    print(asyncio.run(ensure(Settings.from_env())))
