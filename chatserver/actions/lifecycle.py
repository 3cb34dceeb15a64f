"""The worker's life: start (restore what the database holds open, start the loops), the
heartbeat (take over from dead workers, rebuild lost live state), change notifications from
other workers, and stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chatserver.actions import pairing, queue, sessions
from chatserver.actions.common import now_seconds, open_topic
from chatserver.actions.conversations import start_chatter_grace
from chatserver.actions.presence import start_volunteer_grace
from chatserver.clock import iso
from chatserver.context import Context
from chatserver.live import LiveConversation, LiveUnavailable
from chatserver.store import utc

log = logging.getLogger(__name__)


async def start(ctx: Context) -> None:
    async def notified(kind: str, data: dict[str, Any]) -> None:
        await on_notification(ctx, kind, data)

    ctx.live.subscribe(notified)
    await ctx.live.start()
    await ctx.live.heartbeat()  # alive before any socket is counted
    await restore(ctx)
    ctx.worker.run_loop(pairing.loop(ctx), "pairing")
    ctx.worker.run_loop(heartbeat_loop(ctx), "heartbeat")
    ctx.worker.run_loop(sessions.sweep_loop(ctx), "session-sweep")
    ctx.worker.request_pairing()


async def stop(ctx: Context) -> None:
    await ctx.worker.close()
    try:
        await ctx.sessions.save_touches()  # the staff's last uses of their sessions
    except Exception:  # stopping goes on
        log.exception("could not save the sessions' last use")


async def on_notification(ctx: Context, kind: str, data: dict[str, Any]) -> None:
    """A change notification from any worker (this one included)."""
    if kind in ("queue", "resync"):
        await queue.send(ctx)
    elif kind == "logout":
        await sessions.disconnect_session(ctx, str(data.get("session", "")))


async def restore(ctx: Context) -> None:
    """After a restart, the open conversations of the database become live again; their
    volunteers and chatters get the usual grace period to come back."""
    rows = await ctx.store.conversations.open()
    for row in rows:
        if await ctx.live.conversation(row.id) is not None:
            continue
        conv = LiveConversation(
            id=row.id,
            alias=row.alias,
            address_hash=row.address_hash or "",
            contact_count=row.contact_count,
            started_at=iso(utc(row.created_at) or ctx.clock.now()),
            age=row.chatter_age,
            topic=open_topic(ctx, row),
            volunteer_id=row.volunteer_id if row.status == "active" else None,
            delivered_seq=row.delivered_seq,
        )
        await ctx.live.add_conversation(conv, queue=row.status != "active")
        start_chatter_grace(ctx, row.id)
        if conv.volunteer_id:
            start_volunteer_grace(ctx, conv.volunteer_id)
    if rows:
        log.info("restored %d open conversations", len(rows))


async def reassert(ctx: Context) -> None:
    """Redis lost its data and was rebuilt from SQL: say again what only this worker knows
    (its sockets, who of its staff is available)."""
    wid = ctx.live.worker_id
    for sid, chatter in list(ctx.connections.chatters.items()):
        if chatter.conversation_id:
            await ctx.live.update(chatter.conversation_id, chatter_sid=sid, chatter_worker=wid)
    for sid, staff in list(ctx.connections.staff.items()):
        await ctx.live.staff_joined(staff.member.id, sid)
        if staff.capacity:
            await ctx.live.set_available(staff.member.id, staff.capacity, now_seconds(ctx))
    ctx.worker.positions.clear()
    await queue.broadcast(ctx)
    ctx.worker.request_pairing()


async def heartbeat_loop(ctx: Context) -> None:
    """Heartbeat; take over what dead workers left; rebuild a Redis that lost its data."""
    every = ctx.settings.worker_heartbeat_seconds
    down = False
    while True:
        await asyncio.sleep(every)
        try:
            beat = await ctx.live.heartbeat()
            if down:
                log.info("live state reachable again")
                down = False
            if beat.reset:
                log.warning("live state was lost; rebuilding it from the database")
                await restore(ctx)
                await reassert(ctx)
            for worker in beat.dead_workers:
                await take_over(ctx, worker)
        except asyncio.CancelledError:
            raise
        except LiveUnavailable:
            if not down:
                log.warning("live state unreachable")
            down = True
        except Exception:  # the heartbeat must outlive one bad round
            log.exception("heartbeat round failed")


async def take_over(ctx: Context, worker: str) -> None:
    """A worker died: its chatters get the grace period to resume elsewhere, its volunteers
    theirs to reconnect."""
    released = await ctx.live.release_worker(worker)
    for cid in released.conversations:
        start_chatter_grace(ctx, cid)
    for staff_id in released.volunteers:
        start_volunteer_grace(ctx, staff_id)
    log.info("took over from a dead worker: %d conversations, %d volunteers",
             len(released.conversations), len(released.volunteers))
