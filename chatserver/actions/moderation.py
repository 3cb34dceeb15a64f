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
                days: int | None, reason: str | None, override_reason: str | None = None
                ) -> dict[str, Any]:
    """Block the chatter of a conversation (live or past) for `days` (the default when None);
    the rule (at most 90 days, an earlier time-out or an override reason) is
    `chatserver.moderation.block`. Ends their live chats."""
    member.require("coordinator")
    row = await stored_conversation(ctx, conversation_id)
    if not row.address_hash:
        raise ChatError("not_found")
    blocked = await moderation.block(
        ctx.store, ctx.settings, member, row.address_hash, row.id, days=days, reason=reason,
        override_reason=override_reason, now=ctx.clock.now())
    for conv in await ctx.live.conversations():
        if conv.address_hash == row.address_hash:
            await end(ctx, conv.id, "blocked")
    return {"ok": True, "until": iso(blocked.until), "id": blocked.id}


async def lift(ctx: Context, member: StaffMember, sanction_id: str, reason: str | None
               ) -> dict[str, Any]:
    """Lift a sanction in force; the reason stays on the sanction, the audit entry holds ids."""
    member.require("coordinator")
    await moderation.lift(ctx.store, member, sanction_id, reason, ctx.clock.now())
    return {"ok": True}
