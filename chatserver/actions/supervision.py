"""Supervision: a supervisor lists the live conversations, monitors one (its messages as
they happen) and whispers to its volunteer. Every look is audited."""

from __future__ import annotations

from typing import Any

from chatserver import events
from chatserver.actions.common import assigned_payload, audit, display_name, live_conversation
from chatserver.clock import iso
from chatserver.connections import StaffConnection
from chatserver.context import Context
from chatserver.errors import ChatError


async def monitor(ctx: Context, conn: StaffConnection, conversation_id: str) -> dict[str, Any]:
    conn.member.require("supervisor")
    conv = await live_conversation(ctx, conversation_id)
    await ctx.outbox.monitor(conn.sid, conv.id)
    conn.monitoring.add(conv.id)
    await audit(ctx, conn.member, "monitor", conv.id)
    rows = await ctx.store.messages.of_conversation(conv.id)
    return {
        "ok": True,
        "conversation": assigned_payload(conv),
        "messages": [events.transcript_entry(r) for r in rows],
    }


async def unmonitor(ctx: Context, conn: StaffConnection, conversation_id: str
                    ) -> dict[str, Any]:
    conn.member.require("supervisor")
    await ctx.outbox.unmonitor(conn.sid, conversation_id)
    conn.monitoring.discard(conversation_id)
    return {"ok": True}


async def whisper(ctx: Context, conn: StaffConnection, conversation_id: str, text: str
                  ) -> dict[str, Any]:
    member = conn.member
    member.require("supervisor")
    conv = await live_conversation(ctx, conversation_id)
    if conv.volunteer_id is None:
        raise ChatError("not_found", "Dit gesprek heeft nog geen vrijwilliger.")
    ts = iso(ctx.clock.now())
    await ctx.outbox.whisper(conv.volunteer_id, {
        "conversation_id": conv.id, "from": member.display_name, "text": text, "ts": ts})
    await audit(ctx, member, "whisper", conv.id)
    return {"ok": True, "ts": ts}


async def list_conversations(ctx: Context, conn: StaffConnection) -> dict[str, Any]:
    conn.member.require("supervisor")
    items: list[events.Listed] = []
    for conv in await ctx.live.conversations():
        volunteer = await display_name(ctx, conv.volunteer_id) if conv.volunteer_id else None
        items.append({
            **assigned_payload(conv),
            "status": "active" if conv.volunteer_id else "waiting",
            "volunteer": volunteer,
        })
    items.sort(key=lambda c: c["started_at"])
    await audit(ctx, conn.member, "conversations_listed", None, {"count": len(items)})
    return {"ok": True, "waiting": len(await ctx.live.queue()), "conversations": items}
