"""Moderation actions: a time-out (ends the conversation), a block (ends every live
conversation of that chatter), lifting either. The rules of sanctions themselves live in
chatserver/moderation.py; these actions impose them, audit them and end what they end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chatserver import access, moderation
from chatserver.actions.common import audit, live_conversation, stored_conversation
from chatserver.actions.conversations import end
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.store import utc


async def timeout(ctx: Context, member: StaffMember, conversation_id: str,
                  minutes: int | None) -> dict[str, Any]:
    """Time the chatter out for `minutes` (the default when None) and end the conversation."""
    conv = await live_conversation(ctx, conversation_id)
    access.require_own(conv.volunteer_id, member, or_role="supervisor")
    now = ctx.clock.now()
    until = now + timedelta(minutes=minutes or ctx.settings.timeout_default_minutes)
    await moderation.impose(ctx.store, moderation.Sanction(
        "timeout", conv.address_hash, conv.id, until, member.id), now)
    await audit(ctx, member, "timeout", conv.id, {"until": iso(until)})
    await end(ctx, conv.id, "timeout")
    return {"ok": True, "until": iso(until)}


async def block(ctx: Context, member: StaffMember, conversation_id: str | None,
                days: int | None, reason: str | None) -> dict[str, Any]:
    """Block the chatter of a conversation (live or past) for `days` (the default when None);
    ends their live chats."""
    member.require("coordinator")
    row = await stored_conversation(ctx, conversation_id)
    if not row.address_hash:
        raise ChatError("not_found")
    now = ctx.clock.now()
    until = now + timedelta(days=days or ctx.settings.block_default_days)
    sanction_id = await moderation.impose(ctx.store, moderation.Sanction(
        "block", row.address_hash, row.id, until, member.id, reason), now)
    await audit(ctx, member, "block", row.id,
                {"until": iso(until), "reason": reason, "sanction_id": sanction_id})
    for conv in await ctx.live.conversations():
        if conv.address_hash == row.address_hash:
            await end(ctx, conv.id, "blocked")
    return {"ok": True, "until": iso(until), "id": sanction_id}


async def lift(ctx: Context, member: StaffMember, sanction_id: str, reason: str | None
               ) -> dict[str, Any]:
    member.require("coordinator")
    row = await ctx.store.sanctions.get(sanction_id)
    if row is None:
        raise ChatError("not_found")
    now = ctx.clock.now()
    if row.lifted_at is not None or (utc(row.until) or now) <= now:
        raise ChatError("conflict", "Deze maatregel is al opgeheven of verlopen.")
    await ctx.store.sanctions.lift(sanction_id, now, member.id)
    await audit(ctx, member, f"{row.kind}_lifted", row.conversation_id,
                {"sanction_id": sanction_id, "reason": reason})
    return {"ok": True}
