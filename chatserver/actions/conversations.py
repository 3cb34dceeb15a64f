"""A chatter's conversation from start to end: admission (time-outs and blocks refuse),
start, leave, the grace period after a lost connection, and the end for everyone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chatserver import access
from chatserver.actions import queue
from chatserver.actions.common import audit, live_conversation, now_seconds
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.connections import ChatterConnection
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import Reason
from chatserver.live import LiveConversation, LiveUnavailable
from chatserver.privacy import references
from chatserver.privacy.self_erasure import erase_own
from chatserver.store import new_id, utc

try:
    LOCAL_TZ: Any = ZoneInfo("Europe/Amsterdam")
except Exception:  # noqa: BLE001 - no tz database: fall back to UTC in Dutch messages
    LOCAL_TZ = None

log = logging.getLogger(__name__)


def dutch_time(dt: datetime) -> str:
    local = dt.astimezone(LOCAL_TZ) if LOCAL_TZ else dt
    months = (
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
        "september", "oktober", "november", "december",
    )
    return f"{local.day} {months[local.month - 1]} {local.year} om {local:%H:%M}"


def refusal(kind: str, until: datetime) -> dict[str, str]:
    """The `connect_error` data for a timed-out or blocked chatter."""
    when = dutch_time(until)
    if kind == "block":
        message = (
            f"Je bent geblokkeerd tot {when}, omdat je je niet aan de gespreksregels hebt "
            "gehouden. Daarna kun je weer chatten. Is het dringend? Bel dan 112."
        )
        return {"code": "blocked", "until": iso(until), "message": message}
    message = (
        f"Je hebt een time-out gekregen, omdat je je niet aan de gespreksregels hield. "
        f"Je kunt weer chatten vanaf {when}."
    )
    return {"code": "timeout", "until": iso(until), "message": message}


async def sanction_refusal(ctx: Context, address_hash: str) -> dict[str, str] | None:
    """The refusal for a timed-out or blocked address, checked against the clock now."""
    sanction = await ctx.store.sanctions.active(address_hash, ctx.clock.now())
    if sanction is None:
        return None
    until = utc(sanction.until)
    assert until is not None
    return refusal(sanction.kind, until)


async def connect(ctx: Context, sid: str, address_hash: str) -> ChatterConnection:
    """A chatter's socket, unless their address is timed out or blocked (`Refused`)."""
    refused = await sanction_refusal(ctx, address_hash)
    if refused is not None:
        raise Refused(refused)
    return ctx.connections.add_chatter(sid, address_hash)


async def current(ctx: Context, chatter: ChatterConnection) -> LiveConversation:
    """The chatter's live conversation, or `not_in_conversation`.

    From this worker's cache (issue #17: the chatter's per-message read dominated): an end or
    requeue on another worker reaches it with its invalidation, within a pub/sub hop, which
    is also how long the chatter's `ended` takes to arrive. What a stale copy could do here is
    what a fresh read racing the same change does: one chatter message stored just after the
    end, or shown to the volunteer who had it a moment before. A waiting conversation is
    checked against Redis (`current_conversation`): the message of a chatter who was just
    paired must reach the new volunteer."""
    if chatter.conversation_id is None:
        raise ChatError("not_in_conversation")
    conv = await ctx.live.cached_conversation(chatter.conversation_id)
    if conv is not None and conv.volunteer_id is None:
        conv = await ctx.live.current_conversation(chatter.conversation_id)
    if conv is None:
        raise ChatError("not_in_conversation")
    return conv


async def start(ctx: Context, chatter: ChatterConnection, age: int | None,
                topic: str | None) -> dict[str, Any]:
    """A new conversation in the queue; the ack carries the resume token and position."""
    if chatter.starting or (
        chatter.conversation_id and await ctx.live.conversation(chatter.conversation_id)
    ):
        raise ChatError("already_started")
    chatter.starting = True  # two `start`s racing on one socket make one conversation
    try:
        return await _start(ctx, chatter, age, topic)
    finally:
        chatter.starting = False


async def _start(ctx: Context, chatter: ChatterConnection, age: int | None,
                 topic: str | None) -> dict[str, Any]:
    # A socket that stayed open through a time-out or block may not start a new chat either.
    refused = await sanction_refusal(ctx, chatter.address_hash)
    if refused is not None:
        raise ChatError(refused["code"], refused["message"], until=refused["until"])
    s = ctx.settings
    if len(await ctx.live.queue()) >= s.max_queue:
        raise ChatError("queue_full")
    now = ctx.clock.now()
    cid = new_id()
    token = references.new_resume_token()
    alias = references.new_alias()
    # The reference is the chatter's from the start (a chatter who closes the tab early still
    # has it); its hash is stored now, so a request or erasure with it finds the conversation.
    reference = references.reference_for(s.secret_key, cid)
    contact_count = await ctx.store.conversations.start(
        {
            "id": cid,
            "alias": alias,
            "address_hash": chatter.address_hash,
            "resume_hash": references.resume_hash(s.secret_key, token),
            "reference_hash": references.reference_hash(s.secret_key, reference),
            "status": "waiting",
            "created_at": now,
            "chatter_age": age,
            "chatter_topic": ctx.store.sealer.seal(topic, cid) if topic else None,
        }
    )
    timeouts = await ctx.store.sanctions.count(
        chatter.address_hash, "timeout", now - timedelta(days=s.timeout_window_days)
    )
    conv = LiveConversation(
        id=cid, alias=alias, address_hash=chatter.address_hash, contact_count=contact_count,
        started_at=iso(now), age=age, topic=topic, chatter_sid=chatter.sid,
        chatter_worker=ctx.live.worker_id,
        extra={"timeouts": str(timeouts)} if timeouts else {},
    )
    position = await ctx.live.add_conversation(conv, queue=True)
    chatter.conversation_id = cid
    chatter.ended_conversation_id = None  # `erase` now waits for this one's end
    await ctx.outbox.join_conversation(chatter.sid, cid)
    ctx.worker.positions[cid] = position
    ctx.worker.spawn(queue.changed(ctx), "after-start")
    return {"ok": True, "conversation_id": cid, "position": position, "resume_token": token,
            "reference": reference}


async def leave(ctx: Context, chatter: ChatterConnection) -> dict[str, Any]:
    conv = await current(ctx, chatter)
    reference = await end(ctx, conv.id, "chatter")
    chatter.conversation_id = None
    chatter.ended_conversation_id = conv.id
    return {"ok": True, "reference": reference}


async def end(ctx: Context, conversation_id: str, reason: Reason) -> str:
    """End a live conversation for everyone; returns the chatter's personal reference.
    Waits for a message being stored in it: that message reaches the chatter first."""
    cid = conversation_id
    secret = ctx.settings.secret_key
    async with ctx.worker.turns.hold(cid):
        conv = await ctx.live.remove(cid, now_seconds(ctx))
        if conv is None:
            raise ChatError("conversation_ended")
        ctx.worker.cancel_grace(f"c:{cid}")
        ctx.worker.positions.pop(cid, None)
        reference = references.reference_for(secret, cid)
        await ctx.store.conversations.update(
            cid, status="ended", ended_at=ctx.clock.now(), end_reason=reason,
            reference_hash=references.reference_hash(secret, reference),
        )
        await ctx.outbox.ended(conv, reason, reference)
        for chatter in ctx.connections.chatters_in(cid):
            chatter.ended_conversation_id = cid  # what `erase` on that socket erases
    await queue.changed(ctx)
    return reference


async def disconnected(ctx: Context, sid: str) -> None:
    """A chatter's socket closed: the conversation waits the grace period for a `resume`."""
    chatter = ctx.connections.drop_chatter(sid)
    if chatter is None or chatter.conversation_id is None:
        return
    cid = chatter.conversation_id
    # What the chatter acknowledged here is committed before the socket is let go: a page
    # reloaded onto another worker resumes from it (the batched mark may be 0.2 s away), and
    # that worker sees the socket gone only after this.
    acked = ctx.store.messages.acknowledged(cid)
    if acked:
        try:
            await ctx.store.conversations.record_delivered(cid, acked)
        except Exception as exc:  # noqa: BLE001 - the batched mark follows; go on
            log.warning("delivery mark not written at disconnect (%s)", type(exc).__name__)
    try:
        # Let go of this socket only if it is still the conversation's: one step in the live
        # state, so a resume that set its new socket meanwhile (on any worker) keeps it.
        if not await ctx.live.release_chatter(cid, sid):
            return
    except LiveUnavailable:
        pass  # the timer decides once Redis is back
    start_chatter_grace(ctx, cid)


def start_chatter_grace(ctx: Context, conversation_id: str) -> None:
    async def gone(cid: str) -> None:
        await chatter_gone(ctx, cid)

    ctx.worker.start_grace(f"c:{conversation_id}", ctx.settings.chatter_grace_seconds, gone,
                           conversation_id)


async def chatter_gone(ctx: Context, conversation_id: str) -> None:
    """The grace period is over: the conversation ends unless the chatter came back."""
    conv = await ctx.live.conversation(conversation_id)
    if conv is None:
        return
    # No socket, or one of this worker's that is gone (its departure was not recorded).
    gone = conv.chatter_sid is None or (
        conv.chatter_worker == ctx.live.worker_id
        and not ctx.connections.has_chatter(conv.chatter_sid)
    )
    if gone:
        await end(ctx, conversation_id, "chatter")


async def end_by_staff(ctx: Context, member: StaffMember, conversation_id: str
                       ) -> dict[str, Any]:
    """A volunteer ends their conversation (a supervisor any conversation: audited)."""
    conv = await live_conversation(ctx, conversation_id)
    access.require_own(conv.volunteer_id, member, or_role="supervisor")
    await end(ctx, conv.id, "volunteer")
    if conv.volunteer_id != member.id:
        await audit(ctx, member, "conversation_ended", conv.id,
                    {"volunteer_id": conv.volunteer_id})
    return {"ok": True}


async def erase(ctx: Context, chatter: ChatterConnection) -> dict[str, Any]:
    """"Wis mijn gesprek" on the socket that had the conversation, after its end: erased at
    once, as a coordinator's erasure (chatserver/privacy/self_erasure.py)."""
    cid = chatter.ended_conversation_id or chatter.conversation_id
    if cid is None:
        raise ChatError("invalid", "Er is geen afgelopen gesprek om te wissen.")
    if await ctx.live.conversation(cid) is not None:
        raise ChatError("conversation_active", "Je gesprek loopt nog. Stop eerst het gesprek, "
                                               "dan kun je het wissen.")
    result = await erase_own(ctx.store, ctx.clock, ctx.settings.secret_key, cid)
    chatter.ended_conversation_id = None
    if chatter.conversation_id == cid:
        chatter.conversation_id = None
    return result
