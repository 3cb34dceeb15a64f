"""The queue as chatters and staff see it: each chatter its position, staff the queue's size.

Any worker that changes the queue publishes it; every worker then tells its own clients."""

from __future__ import annotations

import logging

from chatserver.context import Context
from chatserver.live import LiveUnavailable

log = logging.getLogger(__name__)


async def broadcast(ctx: Context) -> None:
    """The queue changed: every worker tells its own chatters and staff what changed."""
    try:
        await ctx.live.publish("queue", {})
    except LiveUnavailable:
        log.warning("queue change not published: live state unreachable")


async def changed(ctx: Context) -> None:
    """After a conversation started, was paired, requeued or ended: the queue to everyone,
    staff's overview refreshed, and another pairing round."""
    await broadcast(ctx)
    await ctx.outbox.conversations_changed()
    ctx.worker.request_pairing()


async def send(ctx: Context) -> None:
    """Positions and the queue's size to this worker's clients; one pass at a time, and a
    change during a pass brings another, so the last word is the newest queue."""
    worker = ctx.worker
    worker.queue_dirty = True
    if worker.queue_lock.locked():
        return
    async with worker.queue_lock:
        while worker.queue_dirty:
            worker.queue_dirty = False
            await _send_once(ctx)


async def _send_once(ctx: Context) -> None:
    worker = ctx.worker
    positions = worker.positions
    queue = await ctx.live.queue()
    local = ctx.connections.local_conversations()
    for pos, cid in enumerate(queue, start=1):
        if cid in local and positions.get(cid) != pos:
            positions[cid] = pos
            await ctx.outbox.queue_position(cid, pos)
    if len(positions) > len(queue):
        waiting = set(queue)
        for cid in [c for c in positions if c not in waiting]:
            del positions[cid]
    if len(queue) != worker.waiting:
        worker.waiting = len(queue)
        await ctx.outbox.queue_size(len(queue))


async def position(ctx: Context, conversation_id: str) -> int:
    """A waiting conversation's place in the queue (1 if it is just being put back)."""
    queue = await ctx.live.queue()
    pos = queue.index(conversation_id) + 1 if conversation_id in queue else 1
    ctx.worker.positions[conversation_id] = pos
    return pos
