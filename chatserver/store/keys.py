"""The data keys that seal free text at rest: which key each sealed value is under, rotation.

Rotation re-seals every sealed value not under the current key, batch by batch, each batch its
own transaction: it can be stopped at any point and run again, and it is idle when done."""

from __future__ import annotations

import base64
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, update

from chatserver.store.db import Database
from chatserver.store.models import conversations, messages, staff_users
from chatserver.store.sealing import PREFIX, Sealer, SealError


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

    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    async def counts(self) -> dict[str, Counter[str]]:
        """Per sealed column: how many values are sealed under each key id."""
        out: dict[str, Counter[str]] = {}
        for col in SEALED:
            # Only the head of each value crosses the connection: prefix and key id fit in 24.
            head = func.substr(col.column, 1, 24)
            async with self.db.engine.connect() as conn:
                result = await conn.stream(select(head).where(col.column.is_not(None)))
                counts: Counter[str] = Counter()
                async for (value,) in result:
                    counts[key_id_of(value)] += 1
            out[col.name] = counts
        return out

    async def rotate(self, batch: int = 500,
                     on_batch: Callable[[str, int], None] | None = None) -> RotationReport:
        """Re-seal every sealed value that is not under the store's current key.

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
            after: Any = None
            while True:
                q = (
                    select(col.table)
                    .where(col.column.is_not(None),
                           ~col.column.startswith(current, autoescape=True))
                    .order_by(col.order)
                    .limit(batch)
                )
                if after is not None:
                    q = q.where(col.order > after)
                async with self.db.tx() as conn:
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
        await self.db.checkpoint()
        report.seconds = time.perf_counter() - started
        return report
