"""Registration: the volunteer records the chatter's age and topic for the statistics."""

from __future__ import annotations

from typing import Any

from chatserver import access
from chatserver.actions.common import stored_conversation
from chatserver.auth import StaffMember
from chatserver.context import Context


async def register(ctx: Context, member: StaffMember, conversation_id: str | None,
                   age: int | None, topic: str | None) -> dict[str, Any]:
    row = await stored_conversation(ctx, conversation_id)
    access.require_own(row.volunteer_id, member)
    values: dict[str, Any] = {"registered_at": ctx.clock.now(), "registered_by": member.id}
    if age is not None:
        values["age"] = age
    if topic is not None:
        values["topic"] = topic
    await ctx.store.conversations.update(row.id, **values)
    return {"ok": True}
