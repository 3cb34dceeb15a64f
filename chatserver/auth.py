"""Staff accounts, passwords (argon2id), server-side sessions and roles.

Sessions live in SQL so that logout revokes at once; tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chatserver.errors import ChatError
from chatserver.store import Store
from chatserver.store.store import utc

ROLES = ("volunteer", "supervisor", "coordinator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
COOKIE = "chatserver_session"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def at_least(role: str, minimum: str) -> bool:
    return RANK.get(role, -1) >= RANK[minimum]


@dataclass(frozen=True)
class StaffMember:
    id: str
    username: str
    display_name: str
    role: str
    token_hash: str

    def can(self, minimum: str) -> bool:
        return at_least(self.role, minimum)

    def require(self, minimum: str) -> None:
        if not self.can(minimum):
            raise ChatError("forbidden")


class Sessions:
    """Creates, checks and revokes staff sessions (idle and absolute expiry)."""

    def __init__(self, store: Store, idle: timedelta, absolute: timedelta) -> None:
        self.store = store
        self.idle = idle
        self.absolute = absolute
        # last write of last_seen_at per session, so activity is recorded about once a minute
        self._touched: dict[str, datetime] = {}

    async def login(self, username: str, password: str, now: datetime) -> tuple[str, StaffMember]:
        user = await self.store.user_by_name(username)
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok or user.disabled_at is not None:
            raise ChatError("invalid_credentials")
        token = secrets.token_urlsafe(32)
        th = token_hash(token)
        await self.store.add_session(th, user.id, now, now + self.absolute)
        return token, StaffMember(user.id, user.username, user.display_name, user.role, th)

    async def check(self, token: str | None, now: datetime) -> StaffMember:
        if not token or len(token) > 200:
            raise ChatError("unauthorized")
        th = token_hash(token)
        row = await self.store.session(th)
        if row is None or row.revoked_at is not None or row.disabled_at is not None:
            raise ChatError("unauthorized")
        expires_at = utc(row.expires_at)
        last_seen = utc(self._touched.get(th)) or utc(row.last_seen_at)
        assert expires_at is not None and last_seen is not None
        if now >= expires_at or now - last_seen > self.idle:
            raise ChatError("unauthorized")
        if now - last_seen > timedelta(seconds=60):
            self._touched[th] = now
            await self.store.touch_session(th, now)
        return StaffMember(row.user_id, row.username, row.display_name, row.role, th)

    async def logout(self, member: StaffMember, now: datetime) -> None:
        self._touched.pop(member.token_hash, None)
        await self.store.revoke_session(member.token_hash, now)
