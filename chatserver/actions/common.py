"""What several actions share: the live conversation by id, volunteers' display names, the
payload that describes a conversation to staff, audit entries, and the clock for live state."""

from __future__ import annotations

from typing import Any

from chatserver import events
from chatserver.auth import StaffMember
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.live import LiveConversation
from chatserver.store import ConversationRecord


def now_seconds(ctx: Context) -> float:
    """Seconds for the live state's idle times: wall clock, comparable across machines."""
    return ctx.clock.now().timestamp()


async def live_conversation(ctx: Context, conversation_id: str) -> LiveConversation:
    """The live conversation as it is now (an end on another worker is seen; `delivered_seq`
    may lag); `not_found` if it never existed, `conversation_ended` if over."""
    conv = await ctx.live.current_conversation(conversation_id)
    if conv is not None:
        return conv
    if await ctx.store.conversations.get(conversation_id) is None:
        raise ChatError("not_found")
    raise ChatError("conversation_ended")


async def stored_conversation(ctx: Context, conversation_id: str | None) -> ConversationRecord:
    """The conversation's row (live or past), or `not_found`."""
    row = await ctx.store.conversations.get(conversation_id or "")
    if row is None:
        raise ChatError("not_found")
    return row


async def display_name(ctx: Context, volunteer_id: str) -> str:
    names = ctx.worker.names
    name = names.get(volunteer_id)
    if name is None:
        found = await ctx.store.staff.volunteer_names({volunteer_id})
        name = names[volunteer_id] = found.get(volunteer_id, "Vrijwilliger")
    return name


def assigned_payload(conv: LiveConversation) -> events.Assigned:
    """A conversation as its volunteer (and a supervisor) sees it: never the address hash."""
    payload: events.Assigned = {
        "conversation_id": conv.id,
        "chatter": conv.alias,
        "contact_count": conv.contact_count,
        "started_at": conv.started_at,
    }
    if conv.age is not None:
        payload["age"] = conv.age
    if conv.topic is not None:
        payload["topic"] = conv.topic
    timeouts = int(conv.extra.get("timeouts", "0"))
    if timeouts:
        payload["timeout_count"] = timeouts
    return payload


def open_topic(ctx: Context, row: ConversationRecord) -> str | None:
    """The chatter's topic of a stored conversation (sealed at rest)."""
    if not row.chatter_topic:
        return None
    return ctx.store.sealer.open(row.chatter_topic, row.id)


async def audit(ctx: Context, member: StaffMember | None, action: str,
                conversation_id: str | None, detail: dict[str, Any] | None = None) -> None:
    await ctx.store.audit.record(
        ctx.clock.now(), action,
        actor_id=member.id if member else None, actor=member.username if member else None,
        conversation_id=conversation_id, detail=detail,
    )
