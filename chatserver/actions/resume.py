"""`resume`: a chatter back on a new socket (a reload, a lost connection) takes their
conversation up again with what they missed, or learns that it ended and its reference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chatserver import events
from chatserver.actions import queue
from chatserver.actions.common import display_name
from chatserver.connections import ChatterConnection
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.privacy import references
from chatserver.store import ConversationRecord, utc

# How long a resume token works after its conversation ended.
RESUME_AFTER_END = timedelta(minutes=2)


async def resume(ctx: Context, chatter: ChatterConnection, token: str, after: str | None
                 ) -> dict[str, Any]:
    row = await ctx.store.conversations.find_by(
        resume_hash=references.resume_hash(ctx.settings.secret_key, token)
    )
    if row is None or _expired(ctx, row):
        raise ChatError("not_found")
    # The socket switches and the missed messages are read in the conversation's turn: a
    # volunteer's message stored meanwhile is in the reply or reaches the new socket.
    async with ctx.worker.turns.hold(row.id):
        return await _resume(ctx, chatter, row, after)


def _expired(ctx: Context, row: ConversationRecord) -> bool:
    """The token works until `RESUME_AFTER_END` after the end: long enough for the chatter's
    own reconnect to fetch the goodbye and the reference, not for anyone later."""
    ended = utc(row.ended_at)
    return ended is not None and ctx.clock.now() - ended > RESUME_AFTER_END


async def _resume(ctx: Context, chatter: ChatterConnection, row: ConversationRecord,
                  after: str | None) -> dict[str, Any]:
    cid = row.id
    messages = ctx.store.messages
    anchor = None if after is None else await messages.get(cid, after)
    if after is not None and anchor is None:
        raise ChatError("not_found", "Dat bericht bestaat niet (meer).")
    conv = await ctx.live.conversation(cid)
    if conv is not None:
        if chatter.conversation_id and chatter.conversation_id != cid:
            other = await ctx.live.conversation(chatter.conversation_id)
            if other is not None:
                raise ChatError("already_started")
        # The new socket first, then what it missed: a message stored meanwhile (by a
        # volunteer on another worker) reaches the socket or the reply, never neither.
        ctx.worker.cancel_grace(f"c:{cid}")
        chatter.conversation_id = cid
        await ctx.live.update(cid, chatter_sid=chatter.sid, chatter_worker=ctx.live.worker_id)
    if anchor is not None:
        missed = await messages.of_conversation(cid, anchor.seq)
    else:
        # The database has an acknowledgement once its mark is committed (db.MARK_DELAY); one
        # that reached this worker just before a reload counts already.
        since = max(row.delivered_seq, conv.delivered_seq if conv else 0,
                    messages.acknowledged(cid))
        missed = [m for m in await messages.of_conversation(cid, since)
                  if m.sender != "chatter"]
    # What the chatter saw before may have been redacted since: its text as it is now.
    sent = {m.id for m in missed}
    earlier = [m for m in await messages.redacted(cid) if m.id not in sent]
    reply: dict[str, Any] = {
        "ok": True,
        "conversation_id": cid,
        "messages": [events.message_payload(m) for m in missed],
        "redacted": [{"message_id": m.id, "text": m.text} for m in earlier],
    }
    if conv is None:
        chatter.ended_conversation_id = cid  # the chatter may still erase it (`erase`)
        reply.update(status="ended", reference=references.reference_for(
            ctx.settings.secret_key, cid))
        return reply
    if missed:
        await ctx.live.update(cid, delivered_seq=max(conv.delivered_seq, missed[-1].seq))
        messages.mark_delivered(cid, missed[-1].seq)
    await ctx.outbox.join_conversation(chatter.sid, cid)
    if conv.volunteer_id:
        reply.update(status="active", volunteer=await display_name(ctx, conv.volunteer_id))
    else:
        reply.update(status="waiting", position=await queue.position(ctx, cid))
    return reply
