"""Staff presence: connecting (joining their rooms, the state they start from), available or
not, and leaving; a volunteer who does not come back within the grace period loses their
conversations to the front of the queue."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chatserver import events
from chatserver.actions import queue
from chatserver.actions.common import assigned_payload, now_seconds
from chatserver.auth import StaffMember
from chatserver.connections import StaffConnection
from chatserver.context import Context
from chatserver.live import LiveUnavailable

log = logging.getLogger(__name__)


async def connect(ctx: Context, sid: str, member: StaffMember) -> StaffConnection:
    conn = ctx.connections.add_staff(sid, member)
    await ctx.live.staff_joined(member.id, sid)
    ctx.worker.cancel_grace(f"v:{member.id}")
    await ctx.outbox.join_staff(sid, member.id, member.token_hash[:32],
                                supervisor=member.can("supervisor"))
    ctx.worker.request_pairing()  # an available volunteer back from their grace period
    ctx.worker.spawn(send_state(ctx, sid), "staff-state")
    return conn


async def send_state(ctx: Context, sid: str) -> None:
    """The console's starting point: who they are, availability, the queue, their chats."""
    await asyncio.sleep(0)  # after the CONNECT packet, which is queued first
    conn = ctx.connections.staff.get(sid)
    if conn is None:
        return
    member = conn.member
    available, capacity, active = await ctx.live.volunteer(member.id)
    convs: list[events.Listed] = []
    for cid in active:
        conv = await ctx.live.conversation(cid)
        if conv is not None:
            convs.append({**assigned_payload(conv), "status": "active",
                          "volunteer": member.display_name})
    await ctx.outbox.state(sid, {
        "user": {"username": member.username, "display_name": member.display_name,
                 "role": member.role},
        "available": available,
        "capacity": capacity,
        "waiting": len(await ctx.live.queue()),
        "conversations": convs,
    })


async def disconnected(ctx: Context, sid: str) -> None:
    conn = ctx.connections.drop_staff(sid)
    if conn is None:
        return
    staff_id = conn.member.id
    try:
        if await ctx.live.staff_left(staff_id, sid):
            return  # another socket of theirs is still there, on some worker
        available, _, active = await ctx.live.volunteer(staff_id)
        if not (available or active):
            return
    except LiveUnavailable:
        pass  # the timer decides once Redis is back
    start_volunteer_grace(ctx, staff_id)


def start_volunteer_grace(ctx: Context, staff_id: str) -> None:
    async def gone(sid: str) -> None:
        await volunteer_gone(ctx, sid)

    ctx.worker.start_grace(f"v:{staff_id}", ctx.settings.volunteer_grace_seconds, gone,
                           staff_id)


async def volunteer_gone(ctx: Context, staff_id: str) -> None:
    """The volunteer did not come back in time: their chats go to the front of the queue."""
    if await ctx.live.staff_present(staff_id):
        return
    await ctx.live.set_unavailable(staff_id)
    _, _, active = await ctx.live.volunteer(staff_id)
    for cid in reversed(active):
        await ctx.live.requeue(cid)
        await ctx.store.conversations.update(cid, status="waiting", volunteer_id=None)
    for cid in active:
        await ctx.outbox.requeued(cid, await queue.position(ctx, cid))
    if active:
        log.info("requeued %d conversations of a volunteer who left", len(active))
    await queue.changed(ctx)


async def available(ctx: Context, conn: StaffConnection, capacity: int) -> dict[str, Any]:
    await ctx.live.set_available(conn.member.id, capacity, now_seconds(ctx))
    conn.capacity = capacity
    ctx.worker.request_pairing()
    return {"ok": True, "capacity": capacity}


async def unavailable(ctx: Context, conn: StaffConnection) -> dict[str, Any]:
    await ctx.live.set_unavailable(conn.member.id)
    conn.capacity = None
    return {"ok": True}
