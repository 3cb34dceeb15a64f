"""Staff accounts, passwords (argon2id), TOTP second factor, server-side sessions and roles.

Sessions live in SQL so that logout revokes at once; tokens are stored only as hashes, TOTP
secrets only sealed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chatserver.errors import ChatError
from chatserver.store import SessionRecord, Store, UserRecord, utc
from chatserver.store.keys import totp_context

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


TOTP_ISSUER = "Chatserver hulplijn"
# A code stays valid one 30-second step either side: phone clocks drift.
TOTP_WINDOW = 1


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


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
    # When the session ends unless used again (idle limit) or at all (absolute limit), as of
    # the check that made this member; None when not known.
    session_ends: datetime | None = None

    def can(self, minimum: str) -> bool:
        return at_least(self.role, minimum)

    def require(self, minimum: str) -> None:
        if not self.can(minimum):
            raise ChatError("forbidden")


class Sessions:
    """Creates, checks and revokes staff sessions (idle and absolute expiry)."""

    def __init__(self, store: Store, idle: timedelta, absolute: timedelta,
                 require_totp_for: tuple[str, ...] = ()) -> None:
        self.store = store
        self.idle = idle
        self.absolute = absolute
        self.require_totp_for = require_totp_for
        # last write of last_seen_at per session, so activity is recorded about once a minute
        self._touched: dict[str, datetime] = {}
        # uses by staff sockets not yet written: saved together by `save_touches`
        self._unsaved: dict[str, datetime] = {}
        # the last TOTP time step used per account: a code works once (no replay)
        self._otp_steps: dict[str, int] = {}
        self._hashing = asyncio.Semaphore(2)

    async def login(self, username: str, password: str, now: datetime,
                    otp: str | None = None) -> tuple[str, StaffMember]:
        user = await self.store.staff.user_by_name(username)
        # argon2id takes ~0.2 s of CPU by design: in a thread, a few at a time, so that a shift of
        # volunteers logging in together never stalls the conversations on the event loop.
        async with self._hashing:
            ok = await asyncio.to_thread(
                verify_password, user.password_hash if user else _DUMMY_HASH, password
            )
        if user is None or not ok or user.disabled_at is not None:
            raise ChatError("invalid_credentials")
        # Only after the password: whether an account has a second factor is not for strangers.
        self._second_factor(user, otp, now)
        token = secrets.token_urlsafe(32)
        th = token_hash(token)
        await self.store.staff.add_session(th, user.id, now, now + self.absolute)
        return token, StaffMember(user.id, user.username, user.display_name, user.role, th)

    def _second_factor(self, user: UserRecord, otp: str | None, now: datetime) -> None:
        if not user.totp_secret:
            if user.role in self.require_totp_for:
                raise ChatError(
                    "otp_not_enrolled",
                    "Voor jouw rol is een tweede stap (authenticator-app) verplicht. "
                    "Vraag een beheerder om die in te stellen.",
                )
            return
        if not otp:
            raise ChatError("otp_required", "Vul de code uit je authenticator-app in.")
        secret = self.store.sealer.open(user.totp_secret, totp_context(user.id))
        totp = pyotp.TOTP(secret)
        code = otp.strip().replace(" ", "")
        step = totp.timecode(now)
        for candidate in range(step - TOTP_WINDOW, step + TOTP_WINDOW + 1):
            if candidate > self._otp_steps.get(user.id, -1) and hmac.compare_digest(
                totp.generate_otp(candidate), code
            ):
                self._otp_steps[user.id] = candidate
                return
        raise ChatError("invalid_otp", "Deze code klopt niet (of is al gebruikt).")

    async def check(self, token: str | None, now: datetime) -> StaffMember:
        if not token or len(token) > 200:
            raise ChatError("unauthorized")
        th = token_hash(token)
        row, ends = await self._valid(th, now, touch=True, save=True)
        return StaffMember(row.user_id, row.username, row.display_name, row.role, th, ends)

    async def verify(self, token_hash: str, now: datetime, *, touch: bool) -> datetime:
        """When an open session ends unless used again; ChatError `unauthorized` when it has
        ended or was revoked. `touch`: this is a use of the session (a staff action on a
        socket), kept in memory and written with the others by `save_touches`: a shift of
        volunteers must not queue a write each ahead of their messages."""
        _, ends = await self._valid(token_hash, now, touch=touch, save=False)
        return ends

    async def save_touches(self) -> None:
        """Write the uses of sessions that staff sockets made since the last call, at once."""
        unsaved, self._unsaved = self._unsaved, {}
        if unsaved:
            await self.store.staff.touch_sessions(unsaved)

    async def _valid(self, th: str, now: datetime, *, touch: bool, save: bool
                     ) -> tuple[SessionRecord, datetime]:
        row = await self.store.staff.session(th)
        if row is None or row.revoked_at is not None or row.disabled_at is not None:
            raise ChatError("unauthorized")
        expires_at = utc(row.expires_at)
        last_seen = utc(self._touched.get(th)) or utc(row.last_seen_at)
        assert expires_at is not None and last_seen is not None
        if now >= expires_at or now - last_seen > self.idle:
            raise ChatError("unauthorized")
        if touch and now - last_seen > timedelta(seconds=60):
            self._touched[th] = now
            if save:
                await self.store.staff.touch_session(th, now)
            else:
                self._unsaved[th] = now
            last_seen = now
        return row, min(expires_at, last_seen + self.idle)

    async def logout(self, member: StaffMember, now: datetime) -> None:
        self._touched.pop(member.token_hash, None)
        self._unsaved.pop(member.token_hash, None)
        await self.store.staff.revoke_session(member.token_hash, now)
