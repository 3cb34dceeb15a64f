"""Messages and typing between a chatter and their volunteer (echoed to monitoring
supervisors).

A message is stored before its acknowledgement and delivered after; storing and delivering
take the conversation's turn (`ctx.worker.turns`), so none is stored after the end and none is
lost or doubled while the chatter resumes on another socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatserver import access, events
from chatserver.actions.common import live_conversation
from chatserver.actions.conversations import current
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.connections import ChatterConnection
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.live import LiveConversation
from chatserver.realtime.transport import NamedAck
from chatserver.store import MessageRow


async def chatter_message(ctx: Context, chatter: ChatterConnection, text: str,
                          client_id: str | None) -> dict[str, Any]:
    if chatter.conversation_id is None:
        raise ChatError("not_in_conversation")
    async with ctx.worker.turns.hold(chatter.conversation_id):  # never stored after the end
        conv = await current(ctx, chatter)
        row = await ctx.store.messages.add(
            conv.id, "chatter", text, ctx.clock.now(), client_id=client_id
        )
    if not row.duplicate:
        await ctx.outbox.message_to_staff(conv, events.message_payload(row))
        if conv.volunteer_id and ctx.redactor.status == "ready":
            ctx.worker.spawn(_hint(ctx, conv, row), "hints")
    return {"ok": True, "id": row.id, "ts": iso(row.ts)}


async def _hint(ctx: Context, conv: LiveConversation, row: MessageRow) -> None:
    """Deliver first, hint after: the spans the pipeline suspects, without the text."""
    entities = await ctx.redactor.hints(row.text)
    if entities:
        await ctx.outbox.hints(conv, row.id, [
            {"type": e["type"], "start": e["start"], "end": e["end"]} for e in entities])


async def chatter_typing(ctx: Context, chatter: ChatterConnection, typing: bool
                         ) -> dict[str, Any]:
    conv = await current(ctx, chatter)
    if conv.volunteer_id:
        await ctx.outbox.chatter_typing(conv, typing)
    return {"ok": True}


async def staff_message(ctx: Context, member: StaffMember, conversation_id: str, text: str,
                        *, from_sid: str | None = None) -> dict[str, Any]:
    """The volunteer's message: stored, delivered to the chatter, echoed to the volunteer's
    other sockets (not `from_sid`) and to monitoring supervisors."""
    # Stored before the end or refused: a message accepted while `end` ran reached nobody.
    # Both reads see Redis as it is now, never a copy that merely awaits its invalidation: an
    # end, requeue or resume on another worker must be seen here (a soak test lost a message
    # to a stale read). On Redis each checks the cached copy's version (one small HGET).
    async with ctx.worker.turns.hold(conversation_id):
        conv = await live_conversation(ctx, conversation_id)
        access.require_own(conv.volunteer_id, member)
        row = await ctx.store.messages.add(
            conv.id, "volunteer", text, ctx.clock.now(), staff_id=member.id
        )
        # The chatter's socket as it is now: it may have resumed while the row was written.
        await deliver_to_chatter(ctx, await ctx.live.current_conversation(conv.id) or conv, row)
    await ctx.outbox.message_to_staff(conv, events.message_payload(row), skip_sid=from_sid)
    return {"ok": True, "id": row.id, "ts": iso(row.ts)}


async def deliver_to_chatter(ctx: Context, conv: LiveConversation, row: MessageRow) -> None:
    """A volunteer message to the chatter, acknowledged so that `resume` knows what arrived:
    the worker holding the chatter's socket records the acknowledgement (`DELIVERED`)."""
    if conv.chatter_sid is None:
        return
    await ctx.outbox.message_to_chatter(conv, events.message_payload(row),
                                        delivered=NamedAck(DELIVERED, conv.id, row.seq),
                                        local=ctx.connections.has_chatter(conv.chatter_sid))


DELIVERED = "delivered"


def delivered(ctx: Context) -> Callable[..., None]:
    """The handler of `DELIVERED`, registered on every worker: the chatter's client
    acknowledged the conversation's messages up to `seq`. Recorded in the database with the
    next batch of messages; `resume` reads it there."""

    def handler(conversation_id: str, seq: int, *_: Any) -> None:
        if isinstance(conversation_id, str) and isinstance(seq, int):
            ctx.store.messages.mark_delivered(conversation_id, seq)

    return handler


async def staff_typing(ctx: Context, member: StaffMember, conversation_id: str, typing: bool
                       ) -> dict[str, Any]:
    conv = await live_conversation(ctx, conversation_id)
    access.require_own(conv.volunteer_id, member)
    await ctx.outbox.volunteer_typing(conv.id, typing)
    return {"ok": True}
