"""`chatserver keys generate | status | rotate`: the data keys that seal free text at rest.

Rotation re-seals every sealed value not under the current key, batch by batch, each batch its
own transaction: it can be stopped at any point and run again, and it is idle when done."""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, update

from chatserver.config import Settings
from chatserver.store.models import conversations, messages, staff_users
from chatserver.store.sealing import PREFIX, Sealer, SealError
from chatserver.store.store import Store


def totp_context(user_id: str) -> str:
    """Associated data of a sealed TOTP secret: bound to its account, apart from other ids."""
    return f"totp:{user_id}"


@dataclass(frozen=True)
class SealedColumn:
    """One column of sealed values: where it is, how rows are walked, what a value is bound to."""

    name: str
    table: Table
    order: Column[Any]
    column: Column[Any]
    context: Callable[[Any], str]


SEALED: tuple[SealedColumn, ...] = (
    SealedColumn("messages.text", messages, messages.c.seq, messages.c.text, lambda r: r.id),
    SealedColumn("conversations.chatter_topic", conversations, conversations.c.id,
                 conversations.c.chatter_topic, lambda r: r.id),
    SealedColumn("staff_users.totp_secret", staff_users, staff_users.c.id,
                 staff_users.c.totp_secret, lambda r: totp_context(r.id)),
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


async def key_counts(store: Store) -> dict[str, Counter[str]]:
    """Per sealed column: how many values are sealed under each key id."""
    out: dict[str, Counter[str]] = {}
    for col in SEALED:
        # Only the head of each value crosses the connection: prefix and key id fit in 24.
        head = func.substr(col.column, 1, 24)
        async with store.engine.connect() as conn:
            result = await conn.stream(select(head).where(col.column.is_not(None)))
            counts: Counter[str] = Counter()
            async for (value,) in result:
                counts[key_id_of(value)] += 1
        out[col.name] = counts
    return out


@dataclass
class RotationReport:
    resealed: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


async def rotate(store: Store, batch: int = 500,
                 on_batch: Callable[[str, int], None] | None = None) -> RotationReport:
    """Re-seal every sealed value that is not under the store's current key.

    Rows are walked in key order, so a value that cannot be opened (its key is no longer
    configured, or it was tampered with) is counted and passed, never retried for ever. A value
    changed meanwhile (a redaction) is left alone: it was sealed anew by the server."""
    sealer = store.sealer
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
        after: Any = None
        while True:
            q = (
                select(col.table)
                .where(col.column.is_not(None), ~col.column.startswith(current, autoescape=True))
                .order_by(col.order)
                .limit(batch)
            )
            if after is not None:
                q = q.where(col.order > after)
            async with store.tx() as conn:
                rows = (await conn.execute(q)).all()
                if not rows:
                    break
                params = []
                for r in rows:
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
            after = getattr(rows[-1], col.order.name)
            report.resealed[col.name] += len(params)
            report.batches += 1
            if on_batch is not None:
                on_batch(col.name, len(params))
    await store.checkpoint()
    report.seconds = time.perf_counter() - started
    return report


# -- the command line -------------------------------------------------------------------------


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="data keys that encrypt conversations at rest")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    gen = ksub.add_parser("generate", help="print a new `kid:base64` key for CHATSERVER_DATA_KEY")
    gen.add_argument("--id", dest="key_id", help="the key id (letters and digits, at most 16)")
    gen.set_defaults(run=_generate)
    status = ksub.add_parser("status", help="how many values are sealed under each key id")
    status.set_defaults(run=lambda settings, args: asyncio.run(_status(settings)))
    rot = ksub.add_parser("rotate", help="re-encrypt everything under the current (first) key")
    rot.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
    rot.set_defaults(run=lambda settings, args: asyncio.run(_rotate(settings, args)))


def _store(settings: Settings) -> Store:
    return Store(settings.database_url, Sealer(settings.data_keys),
                 sqlite_synchronous=settings.sqlite_synchronous)


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    try:
        print(new_key(args.key_id))
    except ValueError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return 2
    print("Put it first in CHATSERVER_DATA_KEY, keep the old keys after it, restart, run "
          "`chatserver keys rotate`, then drop the old keys once `keys status` shows none.",
          file=sys.stderr)
    return 0


async def _status(settings: Settings) -> int:
    store = _store(settings)
    await store.start()
    try:
        counts = await key_counts(store)
    finally:
        await store.close()
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


async def _rotate(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= 100_000:
        print("chatserver: --batch must be between 1 and 100000", file=sys.stderr)
        return 2
    store = _store(settings)
    await store.start()
    try:
        report = await rotate(store, args.batch)
    finally:
        await store.close()
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
