"""The data keys that seal free text at rest: master keys and their rotation, and each
conversation's own data key (crypto-shredding).

Rotation re-seals every sealed value not under the current master key, batch by batch, each batch
its own transaction: it can be stopped at any point and run again, and it is idle when done.
Conversation keys are among those values (they are sealed under the master key); the messages
sealed under them need no re-sealing when the master key changes.

A conversation's messages are sealed under its key (`ConversationKeys`). Redaction of a message
gives the conversation a fresh key, re-seals its messages under it and deletes the old key;
erasure and retention delete the conversation's keys. A copy of the old ciphertext (a backup, the
WAL, a dead row version on PostgreSQL) then finds no key that opens it."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatserver.locks import KeyedLock
from chatserver.store.db import Database
from chatserver.store.models import (
    conversation_keys,
    conversations,
    messages,
    research_messages,
    staff_users,
)
from chatserver.store.research import research_context
from chatserver.store.sealing import (
    CONVERSATION_PREFIX,
    PREFIX,
    Sealer,
    SealError,
    conversation_version,
    open_under,
    seal_under,
)

log = logging.getLogger(__name__)


def totp_context(staff_id: str) -> str:
    """Associated data of a sealed TOTP secret: bound to its account, apart from other ids."""
    return f"totp:{staff_id}"


@dataclass(frozen=True)
class SealedColumn:
    """One column of sealed values: where it is, how rows are walked, what a value is bound to."""

    name: str
    table: Table
    order: Column[Any]
    column: Column[Any]
    context: Callable[[Any], str]
    # Values starting with this are sealed under something else (a conversation key): skipped.
    other_prefix: str | None = None


def conversation_key_context(key_id: str) -> str:
    """Associated data of a sealed conversation key: bound to its row."""
    return f"ckey:{key_id}"


SEALED: tuple[SealedColumn, ...] = (
    # Only messages written before migration 0006: the rest are under their conversation's key.
    SealedColumn("messages.text", messages, messages.c.seq, messages.c.text, lambda r: r.id,
                 other_prefix=f"{CONVERSATION_PREFIX}:"),
    SealedColumn("conversation_keys.key", conversation_keys, conversation_keys.c.id,
                 conversation_keys.c.key, lambda r: conversation_key_context(r.id)),
    SealedColumn("conversations.chatter_topic", conversations, conversations.c.id,
                 conversations.c.chatter_topic, lambda r: r.id),
    SealedColumn("staff_users.totp_secret", staff_users, staff_users.c.id,
                 staff_users.c.totp_secret, lambda r: totp_context(r.id)),
    SealedColumn("research_messages.text", research_messages, research_messages.c.id,
                 research_messages.c.text, lambda r: research_context(r.id)),
)


def new_key(key_id: str | None = None) -> str:
    """A fresh `kid:base64` for CHATSERVER_DATA_KEY (32 random bytes, AES-256)."""
    kid = key_id or "k" + datetime.now(UTC).strftime("%Y%m%d") + secrets.token_hex(2)
    if not kid.isalnum() or len(kid) > 16:
        raise ValueError("a key id is 1-16 letters or digits")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def key_id_of(value: str) -> str:
    """The key id a stored value is sealed under, or `(plain)` for a value that is not sealed."""
    prefix, sep, rest = value.partition(":")
    kid = rest.partition(":")[0]
    return kid if sep and prefix == PREFIX and kid else "(plain)"


@dataclass
class RotationReport:
    resealed: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


class DataKeys:
    """The sealed columns, counted and re-sealed under the current key."""

    def __init__(self, db: Database, sealer: Sealer,
                 conversation_keys: ConversationKeys | None = None) -> None:
        self.db = db
        self.sealer = sealer
        self.conversation_keys = conversation_keys

    async def counts(self) -> dict[str, Counter[str]]:
        """Per sealed column: how many values are sealed under each key id."""
        out: dict[str, Counter[str]] = {}
        for col in SEALED:
            # Only the head of each value crosses the connection: prefix and key id fit in 24.
            head = func.substr(col.column, 1, 24)
            where: list[Any] = [col.column.is_not(None)]
            if col.other_prefix:
                where.append(~col.column.startswith(col.other_prefix, autoescape=True))
            async with self.db.engine.connect() as conn:
                result = await conn.stream(select(head).where(*where))
                counts: Counter[str] = Counter()
                async for (value,) in result:
                    counts[key_id_of(value)] += 1
            out[col.name] = counts
        return out

    async def rotate(self, batch: int = 500,
                     on_batch: Callable[[str, int], None] | None = None) -> RotationReport:
        """Re-seal every sealed value that is not under the store's current key; messages
        written before conversation keys move to their conversation's key.

        Rows are walked in key order, so a value that cannot be opened (its key is no longer
        configured, or it was tampered with) is counted and passed, never retried for ever. A
        value changed meanwhile (a redaction) is left alone: it was sealed anew by the server."""
        sealer = self.sealer
        current = f"{PREFIX}:{sealer.current_kid}:"
        report = RotationReport()
        started = time.perf_counter()
        for col in SEALED:
            pk = col.table.primary_key.columns.values()[0]
            stmt = (
                update(col.table)
                .where(pk == bindparam("b_pk"), col.column == bindparam("b_old"))
                .values({col.column.name: bindparam("b_new")})
            )
            # Old messages move to conversation keys even when under the current master key.
            to_conversation_keys = (col.name == "messages.text"
                                    and self.conversation_keys is not None)
            after: Any = None
            while True:
                q = select(col.table).where(col.column.is_not(None)).order_by(col.order).limit(batch)
                if not to_conversation_keys:
                    q = q.where(~col.column.startswith(current, autoescape=True))
                if after is not None:
                    q = q.where(col.order > after)
                if col.other_prefix:
                    q = q.where(~col.column.startswith(col.other_prefix, autoescape=True))
                moving: list[str] = []
                async with self.db.tx() as conn:
                    rows = (await conn.execute(q)).all()
                    if not rows:
                        break
                    if to_conversation_keys:
                        # Messages written before migration 0006 move to their conversation's
                        # own key (those of a conversation that is gone: the master key).
                        moving = list(dict.fromkeys(r.conversation_id for r in rows))
                        moving = list((await conn.execute(
                            select(conversations.c.id).where(conversations.c.id.in_(moving))
                        )).scalars())
                    params = []
                    for r in rows if not moving else [
                            r for r in rows if r.conversation_id not in moving]:
                        old = getattr(r, col.column.name)
                        context = col.context(r)
                        try:
                            plain = sealer.open(old, context)
                        except (SealError, ValueError):
                            report.unreadable[col.name] += 1
                            continue
                        params.append({"b_pk": getattr(r, pk.name), "b_old": old,
                                       "b_new": sealer.seal(plain, context)})
                    if params:
                        await conn.execute(stmt, params)
                done = len(params)
                for conversation_id in moving:
                    assert self.conversation_keys is not None
                    moved = await self.conversation_keys.rekey(conversation_id, fresh=False)
                    done += moved.resealed
                    if moved.unreadable:
                        report.unreadable[col.name] += moved.unreadable
                after = getattr(rows[-1], col.order.name)
                report.resealed[col.name] += done
                report.batches += 1
                if on_batch is not None:
                    on_batch(col.name, done)
        await self.db.checkpoint()
        report.seconds = time.perf_counter() - started
        return report


# -- conversation keys --------------------------------------------------------------------------

# Unwrapped current keys kept in memory: one per conversation this worker wrote to lately.
CACHE_MAX = 4096
# Seconds a key is used from memory before it is read again, with one worker: once an hour for a
# live conversation costs nothing, and a key destroyed meanwhile leaves memory within the hour.
IDLE_TTL = 3600.0


@dataclass(frozen=True)
class ConversationKey:
    version: str
    aead: AESGCM
    loaded: float  # time.monotonic() when read or made


@dataclass
class RekeyReport:
    resealed: int = 0
    unreadable: int = 0
    destroyed: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationKeys:
    """Each conversation's data key: made with the conversation, kept in memory while this worker
    writes its messages (sealing costs no query), replaced on redaction, destroyed with it.

    With one worker (`grace` 0) a replaced key is deleted as soon as the messages of this worker
    that were sealed under it are written and re-sealed. With several workers another worker may
    still hold the old key in memory for up to `ttl` seconds: the old key is retired, and deleted
    by `sweep` once `grace` seconds have passed and no message is under it any more."""

    def __init__(self, db: Database, sealer: Sealer, *, ttl: float = IDLE_TTL,
                 grace: float = 0.0) -> None:
        self.db = db
        self.sealer = sealer
        self.ttl = ttl
        self.grace = grace
        self._current: OrderedDict[str, ConversationKey] = OrderedDict()
        # Messages sealed and not yet written, per conversation and key version.
        self._inflight: dict[tuple[str, str], int] = {}
        self._written: dict[str, asyncio.Event] = {}
        self._rekeying = KeyedLock()

    # -- making, caching, reading -------------------------------------------------------------

    def new_row(self, conversation_id: str) -> tuple[dict[str, Any], ConversationKey]:
        """A fresh key: its row (the key sealed under the current master key) and the key."""
        version = secrets.token_hex(4)
        raw = secrets.token_bytes(32)
        key_id = f"{conversation_id}.{version}"
        row = {
            "id": key_id, "conversation_id": conversation_id, "version": version,
            "key": self.sealer.seal(base64.b64encode(raw).decode(),
                                    conversation_key_context(key_id)),
            "created_at": _now(), "retired_at": None,
        }
        return row, ConversationKey(version, AESGCM(raw), time.monotonic())

    def _unwrap(self, row: Any) -> AESGCM:
        return AESGCM(base64.b64decode(self.sealer.open(row.key, conversation_key_context(row.id))))

    def remember(self, conversation_id: str, key: ConversationKey) -> None:
        self._current[conversation_id] = key
        self._current.move_to_end(conversation_id)
        # Oldest first: beyond the bound, or read longer ago than `ttl` (an ended conversation's
        # key does not stay in memory for ever).
        while self._current:
            oldest = next(iter(self._current.values()))
            if len(self._current) <= CACHE_MAX and time.monotonic() - oldest.loaded <= self.ttl:
                break
            self._current.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        self._current.pop(conversation_id, None)

    def cached(self, conversation_id: str) -> ConversationKey | None:
        key = self._current.get(conversation_id)
        if key is not None and time.monotonic() > key.loaded + self.ttl:
            return None
        return key

    async def current(self, conversation_id: str) -> ConversationKey:
        """The key new messages are sealed under: from memory, else the newest key not retired
        (one is made for a conversation that has none: started before migration 0006)."""
        key = self.cached(conversation_id)
        if key is not None:
            return key
        q = (select(conversation_keys)
             .where(conversation_keys.c.conversation_id == conversation_id,
                    conversation_keys.c.retired_at.is_(None))
             .order_by(conversation_keys.c.created_at.desc(), conversation_keys.c.id.desc())
             .limit(1))
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        if row is not None:
            key = ConversationKey(row.version, self._unwrap(row), time.monotonic())
        else:
            values, key = self.new_row(conversation_id)
            async with self.db.tx() as conn:
                await conn.execute(conversation_keys.insert().values(**values))
        self.remember(conversation_id, key)
        return key

    async def for_reading(self, conversation_id: str, versions: Iterable[str]
                          ) -> dict[str, AESGCM]:
        """The keys of these versions that still exist (a destroyed one is simply absent)."""
        # Read from the database, not memory: a key destroyed elsewhere (retention's move to
        # research, another worker) must not open anything here either.
        wanted = set(versions)
        if not wanted:
            return {}
        async with self.db.engine.connect() as conn:
            return await self._versions(conn, conversation_id, wanted)

    async def _versions(self, conn: AsyncConnection, conversation_id: str,
                        versions: Iterable[str]) -> dict[str, AESGCM]:
        wanted = sorted(set(versions))
        if not wanted:
            return {}
        rows = await conn.execute(
            select(conversation_keys).where(conversation_keys.c.conversation_id == conversation_id,
                                            conversation_keys.c.version.in_(wanted)))
        return {r.version: self._unwrap(r) for r in rows}

    # -- messages on their way to the writer --------------------------------------------------

    def writing(self, conversation_id: str, version: str) -> None:
        key = (conversation_id, version)
        self._inflight[key] = self._inflight.get(key, 0) + 1

    def written(self, conversation_id: str, version: str) -> None:
        key = (conversation_id, version)
        n = self._inflight[key] - 1
        if n:
            self._inflight[key] = n
        else:
            del self._inflight[key]
        if self._written:  # only while a re-keying waits
            event = self._written.get(conversation_id)
            if event is not None:
                event.set()

    def draining(self, conversation_id: str) -> bool:
        """Whether a re-keying of the conversation waits for messages on their way."""
        return conversation_id in self._written

    async def _drain(self, conversation_id: str, keep: str) -> None:
        """Until every message this worker sealed under another version than `keep` is written
        (or failed): it would otherwise land after the re-seal, under a deleted key."""
        while any(c == conversation_id and v != keep for c, v in self._inflight):
            event = self._written.setdefault(conversation_id, asyncio.Event())
            event.clear()
            await event.wait()
        self._written.pop(conversation_id, None)

    # -- replacing and destroying -------------------------------------------------------------

    async def rekey(self, conversation_id: str, replace: Mapping[str, str] | None = None, *,
                    fresh: bool = True, values: Mapping[str, Any] | None = None) -> RekeyReport:
        """Re-seal the conversation's messages under a fresh key (or, `fresh=False`, under its
        current one), with the texts of `replace` ({message id: new text}, stored with `values`)
        instead of the old ones, then delete the keys no message is sealed under any more.

        After this no key exists that opens the old text of a replaced message: the copies a
        backup, the WAL or a dead row version kept of it are noise."""
        replace = dict(replace or {})
        report = RekeyReport()
        async with self._rekeying.hold(conversation_id):
            if fresh:
                row, key = self.new_row(conversation_id)
                async with self.db.tx() as conn:
                    await conn.execute(conversation_keys.insert().values(**row))
                self.remember(conversation_id, key)
            else:
                self.forget(conversation_id)
                key = await self.current(conversation_id)
            await self._drain(conversation_id, key.version)
            now = _now()
            async with self.db.tx() as conn:
                # A write first: SQLite takes the write lock now, not after the reads (a reader
                # that turns writer after another committed would fail).
                await conn.execute(
                    update(conversation_keys)
                    .where(conversation_keys.c.conversation_id == conversation_id,
                           conversation_keys.c.version != key.version,
                           conversation_keys.c.retired_at.is_(None))
                    .values(retired_at=now))
                q = select(messages.c.id, messages.c.text).where(
                    messages.c.conversation_id == conversation_id)
                if not self.db.is_sqlite:
                    q = q.with_for_update()  # another worker re-keying waits for this one
                rows = (await conn.execute(q)).all()
                stale = [r for r in rows
                         if r.id in replace or conversation_version(r.text) != key.version]
                olds = await self._versions(conn, conversation_id, {
                    v for r in stale if (v := conversation_version(r.text)) is not None})
                params = []
                for r in stale:
                    plain = replace.get(r.id)
                    if plain is None:
                        try:
                            plain = self._open(olds, r.text, r.id)
                        except (SealError, ValueError):
                            report.unreadable += 1
                            continue
                    params.append({"b_id": r.id, "b_old": r.text,
                                   "b_new": seal_under(key.aead, key.version, plain, r.id)})
                moved = [p for p in params if p["b_id"] not in replace]
                if moved:  # a value changed meanwhile (by whom else?) is left alone
                    await conn.execute(
                        update(messages)
                        .where(messages.c.id == bindparam("b_id"),
                               messages.c.text == bindparam("b_old"))
                        .values(text=bindparam("b_new")), moved)
                for p in params:
                    if p["b_id"] in replace:  # the new text wins, whatever was there
                        await conn.execute(update(messages).where(messages.c.id == p["b_id"])
                                           .values(text=p["b_new"], **(values or {})))
                report.resealed = len(params)
                report.destroyed = await self._destroy_unused(conn, conversation_id, now)
        if report.unreadable:
            log.warning("re-keying a conversation: %d messages could not be opened",
                        report.unreadable)
        return report

    async def _destroy_unused(self, conn: AsyncConnection, conversation_id: str,
                              now: datetime) -> int:
        """Delete the conversation's retired keys that no message is sealed under (and, with
        several workers, that no worker can still hold in memory)."""
        heads = await conn.execute(
            select(func.substr(messages.c.text, 1, 24))
            .where(messages.c.conversation_id == conversation_id))
        in_use = {v for (head,) in heads if (v := conversation_version(head)) is not None}
        where = [conversation_keys.c.conversation_id == conversation_id,
                 conversation_keys.c.retired_at.is_not(None),
                 conversation_keys.c.retired_at <= now - timedelta(seconds=self.grace)]
        if in_use:
            where.append(conversation_keys.c.version.not_in(sorted(in_use)))
        gone = await conn.execute(delete(conversation_keys).where(*where))
        return int(gone.rowcount or 0)

    def _open(self, keys: Mapping[str, AESGCM], sealed: str, context: str) -> str:
        version = conversation_version(sealed)
        if version is None:
            return self.sealer.open(sealed, context)  # written before migration 0006
        aead = keys.get(version)
        if aead is None:
            raise SealError("the key of this value was destroyed")
        return open_under(aead, sealed, context)

    def opener(self, keys: Mapping[str, AESGCM]) -> Callable[[str, str], str]:
        return lambda sealed, context: self._open(keys, sealed, context)

    async def sweep(self) -> int:
        """Delete retired keys past the grace period, re-sealing the messages another worker
        wrote under them meanwhile. Returns how many keys went."""
        cutoff = _now() - timedelta(seconds=self.grace)
        async with self.db.engine.connect() as conn:
            ids = (await conn.execute(
                select(conversation_keys.c.conversation_id).distinct()
                .where(conversation_keys.c.retired_at.is_not(None),
                       conversation_keys.c.retired_at <= cutoff))).scalars().all()
        destroyed = 0
        for conversation_id in ids:
            destroyed += (await self.rekey(conversation_id, fresh=False)).destroyed
        return destroyed

    async def destroy(self, conn: AsyncConnection, conversation_id: str) -> int:
        """Delete every key of the conversation, within the caller's transaction (erasure,
        retention): none of its text opens any more, wherever a copy of it lies."""
        self.forget(conversation_id)
        gone = await conn.execute(
            delete(conversation_keys).where(conversation_keys.c.conversation_id == conversation_id))
        return int(gone.rowcount or 0)
