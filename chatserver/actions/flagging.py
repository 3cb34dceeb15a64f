"""Flagging: a volunteer (or supervisor) has a message checked by the redactor, or redacts a
span by hand; the redacted text replaces the original everywhere, and it is audited."""

from __future__ import annotations

from typing import Any

from chatserver import access, events
from chatserver.actions.common import audit, stored_conversation
from chatserver.auth import StaffMember
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.events import Span
from chatserver.store import ConversationRecord, MessageRow


async def flaggable(ctx: Context, member: StaffMember, conversation_id: str, message_id: str
                    ) -> tuple[ConversationRecord, MessageRow]:
    """The conversation and message a member may flag, or `not_found` / `forbidden`."""
    row = await stored_conversation(ctx, conversation_id)
    access.require_reader(row.volunteer_id, member)
    message = await ctx.store.messages.get(conversation_id, message_id)
    if message is None:
        raise ChatError("not_found")
    return row, message


async def flag(ctx: Context, member: StaffMember, conversation_id: str, message_id: str
               ) -> dict[str, Any]:
    async with ctx.worker.flag_slots:
        row, message = await flaggable(ctx, member, conversation_id, message_id)
        text, entities = await ctx.redactor.redact(message.text)
        changed = text != message.text
        await ctx.store.messages.replace_text(message.id, text, redacted=changed)
        if changed:
            await ctx.outbox.redacted(row.id, row.volunteer_id, message.id, text)
        await audit(ctx, member, "flag", row.id,
                    {"message_id": message.id, "entities": [e["type"] for e in entities]})
    return {
        "ok": True,
        "text": text,
        "entities": entities,
        "redacted": changed or message.redacted,
        "checked": True,
    }


async def redact_span(ctx: Context, member: StaffMember, conversation_id: str,
                      message_id: str, span: Span) -> dict[str, Any]:
    """Redact `span` of a message by hand (a span parsed against the longest text; checked
    here against the message's own)."""
    async with ctx.worker.flag_slots:
        row, message = await flaggable(ctx, member, conversation_id, message_id)
        span = events.span({"start": span.start, "end": span.end, "type": span.type},
                           len(message.text))
        text = await ctx.redactor.redact_span(message.text, span.start, span.end, span.type)
        await ctx.store.messages.replace_text(message.id, text, redacted=True)
        await ctx.outbox.redacted(row.id, row.volunteer_id, message.id, text)
        await audit(ctx, member, "redact_span", row.id,
                    {"message_id": message.id, "type": span.type})
    return {"ok": True, "text": text}
