"""Pairing: whenever something changed (`ctx.worker.request_pairing()`), one round pairs the
longest-waiting chatters with available volunteers (the policy: chatserver/pairing.py)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func

from chatserver.actions import queue
from chatserver.actions.common import assigned_payload, display_name, now_seconds
from chatserver.context import Context
from chatserver.live import LiveUnavailable, Pairing
from chatserver.store.models import conversations

log = logging.getLogger(__name__)


async def loop(ctx: Context) -> None:
    wanted = ctx.worker.pair_wanted
    while True:
        await wanted.wait()
        wanted.clear()
        try:
            for pairing in await ctx.live.pair(now_seconds(ctx)):
                await assign(ctx, pairing)
            await queue.broadcast(ctx)
        except asyncio.CancelledError:
            raise
        except LiveUnavailable:
            log.warning("pairing round skipped: live state unreachable")
        except Exception:
            log.exception("pairing round failed")


async def assign(ctx: Context, pairing: Pairing) -> None:
    cid, staff_id = pairing.conversation_id, pairing.volunteer_id
    conv = await ctx.live.conversation(cid)
    if conv is None:
        return
    now = ctx.clock.now()
    await ctx.store.conversations.update(
        cid, status="active", volunteer_id=staff_id,
        paired_at=func.coalesce(conversations.c.paired_at, now),
    )
    ctx.worker.positions.pop(cid, None)
    await ctx.outbox.paired(cid, await display_name(ctx, staff_id))
    await ctx.outbox.assigned(staff_id, assigned_payload(conv))
    await ctx.outbox.conversations_changed()
