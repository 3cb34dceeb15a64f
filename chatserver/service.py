"""The domain actions of the helpline: start, relay, pair, end, flag, moderate.

Handlers call these. Each action validates, stores (durably, before any ack), then hands what
leaves the server to the outbox (outbox.py), the only module that emits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func

from chatserver import access, events, moderation
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.connections import ChatterConnection, StaffConnection
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import CHAT, STAFF, Reason
from chatserver.live import LiveConversation, LiveUnavailable, Pairing
from chatserver.locks import KeyedLock
from chatserver.privacy import references
from chatserver.store import ConversationRecord, MessageRow, new_id, utc
from chatserver.store.models import conversations

log = logging.getLogger(__name__)

__all__ = ["CHAT", "STAFF", "ChatService"]

try:
    LOCAL_TZ: Any = ZoneInfo("Europe/Amsterdam")
except Exception:  # noqa: BLE001 - no tz database: fall back to UTC in Dutch messages
    LOCAL_TZ = None


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


class ChatService:
    def __init__(self, ctx: Context) -> None:
        self.settings = ctx.settings
        self.store = ctx.store
        self.live = ctx.live
        self.outbox = ctx.outbox
        self.clock = ctx.clock
        self.redactor = ctx.redactor
        self.connections = ctx.connections
        self._grace: dict[str, asyncio.Task[None]] = {}
        # What this worker last told its own clients: queue positions, the queue's size.
        self._positions: dict[str, int] = {}
        self._waiting = -1
        self._queue_lock = asyncio.Lock()
        # Storing and delivering a volunteer message, and `resume` switching the chatter's
        # socket, take turns per conversation: a message is in the resume reply or reaches
        # the new socket, never neither and never both.
        self._delivery = KeyedLock()
        self._queue_dirty = False
        self._worker: asyncio.Task[None] | None = None
        self._names: dict[str, str] = {}
        self._pair_wanted = asyncio.Event()
        self._pairer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flag_slots = asyncio.Semaphore(2)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.live.subscribe(self._notified)
        await self.live.start()
        await self.live.heartbeat()  # alive before any socket is counted
        await self._restore()
        self._pairer = asyncio.create_task(self._pairing_loop(), name="pairing")
        self._worker = asyncio.create_task(self._worker_loop(), name="heartbeat")
        self.request_pairing()

    async def close(self) -> None:
        for task in [*self._grace.values(), *self._tasks, self._pairer, self._worker]:
            if task is not None:
                task.cancel()
        for task in [*self._grace.values(), *self._tasks, self._pairer, self._worker]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _restore(self) -> None:
        """After a restart, the open conversations of the database become live again; their
        volunteers and chatters get the usual grace period to come back."""
        rows = await self.store.conversations.open()
        for row in rows:
            if await self.live.conversation(row.id) is not None:
                continue
            conv = LiveConversation(
                id=row.id,
                alias=row.alias,
                address_hash=row.address_hash or "",
                contact_count=row.contact_count,
                started_at=iso(utc(row.created_at) or self.clock.now()),
                age=row.chatter_age,
                topic=self._open_topic(row),
                volunteer_id=row.volunteer_id if row.status == "active" else None,
                delivered_seq=row.delivered_seq,
            )
            await self.live.add_conversation(conv, queue=row.status != "active")
            self._start_grace(f"c:{row.id}", self.settings.chatter_grace_seconds,
                              self._chatter_gone, row.id)
            if conv.volunteer_id:
                self._start_grace(f"v:{conv.volunteer_id}", self.settings.volunteer_grace_seconds,
                                  self._volunteer_gone, conv.volunteer_id)
        if rows:
            log.info("restored %d open conversations", len(rows))

    async def _reassert(self) -> None:
        """Redis lost its data and was rebuilt from SQL: say again what only this worker knows
        (its sockets, who of its staff is available)."""
        wid = self.live.worker_id
        for sid, chatter in list(self.connections.chatters.items()):
            if chatter.conversation_id:
                await self.live.update(chatter.conversation_id, chatter_sid=sid,
                                       chatter_worker=wid)
        for sid, staff in list(self.connections.staff.items()):
            await self.live.staff_joined(staff.member.id, sid)
            if staff.capacity:
                await self.live.set_available(staff.member.id, staff.capacity, self._now())
        self._positions.clear()
        await self.broadcast_queue()
        self.request_pairing()

    # -- workers -----------------------------------------------------------------------------

    def _now(self) -> float:
        """Seconds for the live state's idle times: wall clock, comparable across machines."""
        return self.clock.now().timestamp()

    async def _worker_loop(self) -> None:
        """Heartbeat; take over what dead workers left; rebuild a Redis that lost its data."""
        every = self.settings.worker_heartbeat_seconds
        down = False
        while True:
            await asyncio.sleep(every)
            try:
                beat = await self.live.heartbeat()
                if down:
                    log.info("live state reachable again")
                    down = False
                if beat.reset:
                    log.warning("live state was lost; rebuilding it from the database")
                    await self._restore()
                    await self._reassert()
                for worker in beat.dead_workers:
                    await self._take_over(worker)
            except asyncio.CancelledError:
                raise
            except LiveUnavailable:
                if not down:
                    log.warning("live state unreachable")
                down = True
            except Exception:  # the heartbeat must outlive one bad round
                log.exception("heartbeat round failed")

    async def _take_over(self, worker: str) -> None:
        """A worker died: its chatters get the grace period to resume elsewhere, its volunteers
        theirs to reconnect."""
        released = await self.live.release_worker(worker)
        for cid in released.conversations:
            self._start_grace(f"c:{cid}", self.settings.chatter_grace_seconds,
                              self._chatter_gone, cid)
        for uid in released.volunteers:
            self._start_grace(f"v:{uid}", self.settings.volunteer_grace_seconds,
                              self._volunteer_gone, uid)
        log.info("took over from a dead worker: %d conversations, %d volunteers",
                 len(released.conversations), len(released.volunteers))

    async def _notified(self, kind: str, data: dict[str, Any]) -> None:
        """A change notification from any worker (this one included)."""
        if kind in ("queue", "resync"):
            await self._send_queue()
        elif kind == "logout":
            await self._disconnect_session(str(data.get("session", "")))

    def _open_topic(self, row: Any) -> str | None:
        if not row.chatter_topic:
            return None
        return self.store.sealer.open(row.chatter_topic, row.id)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed: %s", task.get_name(),
                      type(task.exception()).__name__)

    # -- grace periods -----------------------------------------------------------------------

    def _start_grace(
        self, key: str, seconds: float, then: Callable[[str], Awaitable[None]], arg: str
    ) -> None:
        self._cancel_grace(key)

        async def run() -> None:
            await asyncio.sleep(seconds)
            self._grace.pop(key, None)  # `then` may cancel this key's timer: not itself
            while True:
                try:
                    await then(arg)
                    break
                except LiveUnavailable:
                    await asyncio.sleep(1)  # decide once Redis is back
                except Exception:  # logged here: nobody awaits a grace timer
                    log.exception("grace timer %s failed", key[:2])
                    break

        self._grace[key] = asyncio.create_task(run(), name=f"grace-{key[:2]}")

    def _cancel_grace(self, key: str) -> None:
        task = self._grace.pop(key, None)
        if task is not None:
            task.cancel()

    # -- emitting ----------------------------------------------------------------------------

    async def _deliver_to_chatter(self, conv: LiveConversation, row: MessageRow) -> None:
        """A volunteer message to the chatter, acknowledged so that `resume` knows what arrived."""
        if conv.chatter_sid is None:
            return
        seq, cid = row.seq, conv.id

        async def delivered(*_: Any) -> None:
            self.store.messages.mark_delivered(cid, seq)
            await self.live.advance_delivered(cid, seq)

        await self.outbox.message_to_chatter(conv, events.message_payload(row), delivered=delivered,
                                             local=self.connections.has_chatter(conv.chatter_sid))

    async def _display_name(self, user_id: str) -> str:
        name = self._names.get(user_id)
        if name is None:
            names = await self.store.staff.volunteer_names({user_id})
            name = names.get(user_id, "Vrijwilliger")
            self._names[user_id] = name
        return name

    async def _assigned_payload(self, conv: LiveConversation) -> events.Assigned:
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

    async def _conversations_changed(self) -> None:
        await self.outbox.conversations_changed()

    async def broadcast_queue(self) -> None:
        """The queue changed: every worker tells its own chatters and staff what changed."""
        try:
            await self.live.publish("queue", {})
        except LiveUnavailable:
            log.warning("queue change not published: live state unreachable")

    async def _send_queue(self) -> None:
        """Positions and the queue's size to this worker's clients; one pass at a time, and a
        change during a pass brings another, so the last word is the newest queue."""
        self._queue_dirty = True
        if self._queue_lock.locked():
            return
        async with self._queue_lock:
            while self._queue_dirty:
                self._queue_dirty = False
                await self._send_queue_once()

    async def _send_queue_once(self) -> None:
        queue = await self.live.queue()
        local = self.connections.local_conversations()
        for pos, cid in enumerate(queue, start=1):
            if cid in local and self._positions.get(cid) != pos:
                self._positions[cid] = pos
                await self.outbox.queue_position(cid, pos)
        if len(self._positions) > len(queue):
            waiting = set(queue)
            for cid in [c for c in self._positions if c not in waiting]:
                del self._positions[cid]
        if len(queue) != self._waiting:
            self._waiting = len(queue)
            await self.outbox.queue_size(len(queue))

    # -- pairing -----------------------------------------------------------------------------

    def request_pairing(self) -> None:
        self._pair_wanted.set()

    async def _pairing_loop(self) -> None:
        while True:
            await self._pair_wanted.wait()
            self._pair_wanted.clear()
            try:
                for pairing in await self.live.pair(self._now()):
                    await self._assign(pairing)
                await self.broadcast_queue()
            except asyncio.CancelledError:
                raise
            except LiveUnavailable:
                log.warning("pairing round skipped: live state unreachable")
            except Exception:
                log.exception("pairing round failed")

    async def _assign(self, pairing: Pairing) -> None:
        cid, vid = pairing.conversation_id, pairing.volunteer_id
        conv = await self.live.conversation(cid)
        if conv is None:
            return
        now = self.clock.now()
        await self.store.conversations.update(
            cid, status="active", volunteer_id=vid,
            paired_at=func.coalesce(conversations.c.paired_at, now),
        )
        self._positions.pop(cid, None)
        name = await self._display_name(vid)
        await self.outbox.paired(cid, name)
        await self.outbox.assigned(vid, await self._assigned_payload(conv))
        await self._conversations_changed()

    # -- chatters ----------------------------------------------------------------------------

    async def _sanction_refusal(self, address_hash: str) -> dict[str, str] | None:
        """The refusal for a timed-out or blocked address, checked against the clock now."""
        sanction = await self.store.sanctions.active(address_hash, self.clock.now())
        if sanction is None:
            return None
        until = utc(sanction.until)
        assert until is not None
        return refusal(sanction.kind, until)

    async def chatter_connect(self, sid: str, address_hash: str) -> None:
        refused = await self._sanction_refusal(address_hash)
        if refused is not None:
            raise Refused(refused)
        self.connections.add_chatter(sid, address_hash)

    async def _chatter_conversation(self, conn: ChatterConnection) -> LiveConversation:
        if conn.conversation_id is None:
            raise ChatError("not_in_conversation")
        conv = await self.live.conversation(conn.conversation_id)
        if conv is None:
            raise ChatError("not_in_conversation")
        return conv

    async def start_chat(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.chatter(sid)
        data = events.obj(payload)
        age = events.integer(data, "age", 0, 120)
        topic = events.optional_text(data, "topic", 100)
        if conn.starting or (
            conn.conversation_id and await self.live.conversation(conn.conversation_id)
        ):
            raise ChatError("already_started")
        conn.starting = True  # two `start`s racing on one socket make one conversation
        try:
            return await self._start_chat(conn, sid, age, topic)
        finally:
            conn.starting = False

    async def _start_chat(self, conn: ChatterConnection, sid: str, age: int | None,
                          topic: str | None) -> dict[str, Any]:
        # A socket that stayed open through a time-out or block may not start a new chat either.
        refused = await self._sanction_refusal(conn.address_hash)
        if refused is not None:
            raise ChatError(refused["code"], refused["message"], until=refused["until"])
        if len(await self.live.queue()) >= self.settings.max_queue:
            raise ChatError("queue_full")
        now = self.clock.now()
        cid = new_id()
        token = references.new_resume_token()
        alias = references.new_alias()
        contact_count = await self.store.conversations.start(
            {
                "id": cid,
                "alias": alias,
                "address_hash": conn.address_hash,
                "resume_hash": references.resume_hash(self.settings.secret_key, token),
                "status": "waiting",
                "created_at": now,
                "chatter_age": age,
                "chatter_topic": self.store.sealer.seal(topic, cid) if topic else None,
            }
        )
        timeouts = await self.store.sanctions.count(
            conn.address_hash, "timeout", now - timedelta(days=self.settings.timeout_window_days)
        )
        conv = LiveConversation(
            id=cid, alias=alias, address_hash=conn.address_hash, contact_count=contact_count,
            started_at=iso(now), age=age, topic=topic, chatter_sid=sid,
            chatter_worker=self.live.worker_id,
            extra={"timeouts": str(timeouts)} if timeouts else {},
        )
        position = await self.live.add_conversation(conv, queue=True)
        conn.conversation_id = cid
        await self.outbox.join_conversation(sid, cid)
        self._positions[cid] = position
        self._spawn(self._after_start(), "after-start")
        return {"ok": True, "conversation_id": cid, "position": position, "resume_token": token}

    async def _after_start(self) -> None:
        await self.broadcast_queue()
        await self._conversations_changed()
        self.request_pairing()

    async def chatter_message(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.chatter(sid)
        data = events.obj(payload)
        text = events.text(data, self.settings.max_text_length)
        client_id = events.ident(data, "client_id", required=False)
        if conn.conversation_id is None:
            raise ChatError("not_in_conversation")
        async with self._delivery.hold(conn.conversation_id):  # never stored after the end
            conv = await self._chatter_conversation(conn)
            row = await self.store.messages.add(
                conv.id, "chatter", text, self.clock.now(), client_id=client_id
            )
        if not row.duplicate:
            await self.outbox.message_to_staff(conv, events.message_payload(row))
            if conv.volunteer_id and self.redactor.status == "ready":
                self._spawn(self._hint(conv, row), "hints")
        return {"ok": True, "id": row.id, "ts": iso(row.ts)}

    async def _hint(self, conv: LiveConversation, row: MessageRow) -> None:
        """Deliver first, hint after: the spans the pipeline suspects, without the text."""
        entities = await self.redactor.hints(row.text)
        if entities:
            await self.outbox.hints(conv, row.id, [
                {"type": e["type"], "start": e["start"], "end": e["end"]} for e in entities])

    async def chatter_typing(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.chatter(sid)
        typing = events.boolean(events.obj(payload), "typing")
        conv = await self._chatter_conversation(conn)
        if conv.volunteer_id:
            await self.outbox.chatter_typing(conv, typing)
        return {"ok": True}

    async def leave(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.chatter(sid)
        events.obj(payload)
        conv = await self._chatter_conversation(conn)
        reference = await self.end(conv.id, "chatter")
        conn.conversation_id = None
        return {"ok": True, "reference": reference}

    async def resume(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.chatter(sid)
        data = events.obj(payload)
        token = data.get("resume_token")
        if not isinstance(token, str) or not 0 < len(token) <= 200:
            raise ChatError("invalid", "`resume_token` ontbreekt of is ongeldig.")
        after = events.ident(data, "after", required=False)
        row = await self.store.conversations.find_by(
            resume_hash=references.resume_hash(self.settings.secret_key, token)
        )
        if row is None:
            raise ChatError("not_found")
        async with self._delivery.hold(row.id):
            return await self._resume(conn, sid, row, after)

    async def _resume(self, conn: ChatterConnection, sid: str, row: ConversationRecord,
                      after: str | None) -> dict[str, Any]:
        cid = row.id
        anchor = None if after is None else await self.store.messages.get(cid, after)
        if after is not None and anchor is None:
            raise ChatError("not_found", "Dat bericht bestaat niet (meer).")
        conv = await self.live.conversation(cid)
        if conv is not None:
            if conn.conversation_id and conn.conversation_id != cid:
                other = await self.live.conversation(conn.conversation_id)
                if other is not None:
                    raise ChatError("already_started")
            # The new socket first, then what it missed: a message stored meanwhile (by a
            # volunteer on another worker) reaches the socket or the reply, never neither.
            self._cancel_grace(f"c:{cid}")
            conn.conversation_id = cid
            await self.live.update(cid, chatter_sid=sid, chatter_worker=self.live.worker_id)
        if anchor is not None:
            missed = await self.store.messages.of_conversation(cid, anchor.seq)
        else:
            since = max(row.delivered_seq, conv.delivered_seq if conv else 0)
            missed = [m for m in await self.store.messages.of_conversation(cid, since)
                      if m.sender != "chatter"]
        # What the chatter saw before may have been redacted since: its text as it is now.
        sent = {m.id for m in missed}
        earlier = [m for m in await self.store.messages.redacted(cid) if m.id not in sent]
        reply: dict[str, Any] = {
            "ok": True,
            "conversation_id": cid,
            "messages": [events.message_payload(m) for m in missed],
            "redacted": [{"message_id": m.id, "text": m.text} for m in earlier],
        }
        if conv is None:
            reply.update(status="ended", reference=references.reference_for(
                self.settings.secret_key, cid))
            return reply
        if missed:
            await self.live.update(cid, delivered_seq=max(conv.delivered_seq, missed[-1].seq))
            self.store.messages.mark_delivered(cid, missed[-1].seq)
        await self.outbox.join_conversation(sid, cid)
        if conv.volunteer_id:
            reply.update(status="active", volunteer=await self._display_name(conv.volunteer_id))
        else:
            queue = await self.live.queue()
            position = queue.index(cid) + 1 if cid in queue else 1
            self._positions[cid] = position
            reply.update(status="waiting", position=position)
        return reply

    async def chatter_disconnect(self, sid: str) -> None:
        conn = self.connections.drop_chatter(sid)
        if conn is None or conn.conversation_id is None:
            return
        cid = conn.conversation_id
        try:
            conv = await self.live.conversation(cid)
            if conv is None or conv.chatter_sid != sid:
                return
            await self.live.update(conv.id, chatter_sid=None, chatter_worker=None)
        except LiveUnavailable:
            pass  # the timer decides once Redis is back
        self._start_grace(
            f"c:{cid}", self.settings.chatter_grace_seconds, self._chatter_gone, cid
        )

    async def _chatter_gone(self, cid: str) -> None:
        conv = await self.live.conversation(cid)
        if conv is None:
            return
        # No socket, or one of this worker's that is gone (its departure was not recorded).
        gone = conv.chatter_sid is None or (
            conv.chatter_worker == self.live.worker_id and not self.connections.has_chatter(conv.chatter_sid)
        )
        if gone:
            await self.end(cid, "chatter")

    # -- ending ------------------------------------------------------------------------------

    async def end(self, cid: str, reason: Reason) -> str:
        """End a live conversation for everyone; returns the chatter's personal reference.
        Waits for a message being stored in it: that message reaches the chatter first."""
        async with self._delivery.hold(cid):
            conv = await self.live.remove(cid, self._now())
            if conv is None:
                raise ChatError("conversation_ended")
            self._cancel_grace(f"c:{cid}")
            self._positions.pop(cid, None)
            reference = references.reference_for(self.settings.secret_key, cid)
            await self.store.conversations.update(
                cid, status="ended", ended_at=self.clock.now(), end_reason=reason,
                reference_hash=references.reference_hash(self.settings.secret_key, reference),
            )
            await self.outbox.ended(conv, reason, reference)
        await self.broadcast_queue()
        await self._conversations_changed()
        self.request_pairing()
        return reference

    # -- staff -------------------------------------------------------------------------------

    async def staff_connect(self, sid: str, member: StaffMember) -> None:
        self.connections.add_staff(sid, member)
        await self.live.staff_joined(member.id, sid)
        self._cancel_grace(f"v:{member.id}")
        await self.outbox.join_staff(sid, member.id, member.token_hash[:32],
                                     supervisor=member.can("supervisor"))
        self.request_pairing()  # an available volunteer back from their grace period
        self._spawn(self.staff_state(sid), "staff-state")

    async def staff_state(self, sid: str) -> None:
        await asyncio.sleep(0)  # after the CONNECT packet, which is queued first
        conn = self.connections.staff.get(sid)
        if conn is None:
            return
        member = conn.member
        available, capacity, active = await self.live.volunteer(member.id)
        convs: list[events.Listed] = []
        for cid in active:
            conv = await self.live.conversation(cid)
            if conv is not None:
                convs.append({**await self._assigned_payload(conv), "status": "active",
                              "volunteer": member.display_name})
        await self.outbox.state(sid, {
            "user": {"username": member.username, "display_name": member.display_name,
                     "role": member.role},
            "available": available,
            "capacity": capacity,
            "waiting": len(await self.live.queue()),
            "conversations": convs,
        })

    async def _live_conversation(self, data: dict[str, Any]) -> LiveConversation:
        cid = events.ident(data, "conversation_id")
        assert cid is not None
        conv = await self.live.conversation(cid)
        if conv is not None:
            return conv
        if await self.store.conversations.get(cid) is None:
            raise ChatError("not_found")
        raise ChatError("conversation_ended")

    async def staff_disconnect(self, sid: str) -> None:
        conn = self.connections.drop_staff(sid)
        if conn is None:
            return
        uid = conn.member.id
        try:
            if await self.live.staff_left(uid, sid):
                return  # another socket of theirs is still there, on some worker
            available, _, active = await self.live.volunteer(uid)
            if not (available or active):
                return
        except LiveUnavailable:
            pass  # the timer decides once Redis is back
        self._start_grace(
            f"v:{uid}", self.settings.volunteer_grace_seconds, self._volunteer_gone, uid
        )

    async def _volunteer_gone(self, uid: str) -> None:
        """The volunteer did not come back in time: their chats go to the front of the queue."""
        if await self.live.staff_present(uid):
            return
        await self.live.set_unavailable(uid)
        _, _, active = await self.live.volunteer(uid)
        for cid in reversed(active):
            await self.live.requeue(cid)
            await self.store.conversations.update(cid, status="waiting", volunteer_id=None)
        queue = await self.live.queue()
        for cid in active:
            position = queue.index(cid) + 1 if cid in queue else 1
            self._positions[cid] = position
            await self.outbox.requeued(cid, position)
        if active:
            log.info("requeued %d conversations of a volunteer who left", len(active))
        await self.broadcast_queue()
        await self._conversations_changed()
        self.request_pairing()

    async def available(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        data = events.obj(payload)
        capacity = events.integer(data, "capacity", 1, self.settings.max_capacity) or 1
        await self.live.set_available(conn.member.id, capacity, self._now())
        conn.capacity = capacity
        self.request_pairing()
        return {"ok": True, "capacity": capacity}

    async def unavailable(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        events.obj(payload)
        await self.live.set_unavailable(conn.member.id)
        conn.capacity = None
        return {"ok": True}

    async def staff_message(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        data = events.obj(payload)
        text = events.text(data, self.settings.max_text_length)
        cid = events.ident(data, "conversation_id")
        assert cid is not None
        # Stored before the end or refused: a message accepted while `end` ran reached nobody.
        async with self._delivery.hold(cid):
            conv = await self._live_conversation(data)
            access.require_own(conv.volunteer_id, conn.member)
            row = await self.store.messages.add(
                conv.id, "volunteer", text, self.clock.now(), staff_id=conn.member.id
            )
            # The chatter's socket as it is now: it may have resumed while the row was written.
            await self._deliver_to_chatter(await self.live.conversation(conv.id) or conv, row)
        await self.outbox.message_to_staff(conv, events.message_payload(row), skip_sid=sid)
        return {"ok": True, "id": row.id, "ts": iso(row.ts)}

    async def staff_typing(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        data = events.obj(payload)
        typing = events.boolean(data, "typing")
        conv = await self._live_conversation(data)
        access.require_own(conv.volunteer_id, conn.member)
        await self.outbox.volunteer_typing(conv.id, typing)
        return {"ok": True}

    async def staff_end(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        conv = await self._live_conversation(events.obj(payload))
        access.require_own(conv.volunteer_id, conn.member, or_role="supervisor")
        await self.end(conv.id, "volunteer")
        return {"ok": True}

    async def register(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        data = events.obj(payload)
        cid = events.ident(data, "conversation_id")
        age = events.integer(data, "age", 0, 120)
        topic = events.topic(data, self.settings.topics)
        row = await self.store.conversations.get(cid or "")
        if row is None:
            raise ChatError("not_found")
        access.require_own(row.volunteer_id, conn.member)
        values: dict[str, Any] = {"registered_at": self.clock.now(),
                                  "registered_by": conn.member.id}
        if age is not None:
            values["age"] = age
        if topic is not None:
            values["topic"] = topic
        await self.store.conversations.update(row.id, **values)
        return {"ok": True}

    async def monitor(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid, "supervisor")
        conv = await self._live_conversation(events.obj(payload))
        await self.outbox.monitor(sid, conv.id)
        conn.monitoring.add(conv.id)
        await self.audit(conn.member, "monitor", conv.id)
        rows = await self.store.messages.of_conversation(conv.id)
        return {
            "ok": True,
            "conversation": await self._assigned_payload(conv),
            "messages": [events.transcript_entry(r) for r in rows],
        }

    async def unmonitor(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid, "supervisor")
        cid = events.ident(events.obj(payload), "conversation_id")
        assert cid is not None
        await self.outbox.unmonitor(sid, cid)
        conn.monitoring.discard(cid)
        return {"ok": True}

    async def whisper(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid, "supervisor")
        data = events.obj(payload)
        text = events.text(data, self.settings.max_text_length)
        conv = await self._live_conversation(data)
        if conv.volunteer_id is None:
            raise ChatError("not_found", "Dit gesprek heeft nog geen vrijwilliger.")
        ts = iso(self.clock.now())
        await self.outbox.whisper(conv.volunteer_id, {
            "conversation_id": conv.id, "from": conn.member.display_name, "text": text, "ts": ts})
        await self.audit(conn.member, "whisper", conv.id)
        return {"ok": True, "ts": ts}

    async def list_conversations(self, sid: str, payload: Any) -> dict[str, Any]:
        self.connections.require(sid, "supervisor")
        events.obj(payload)
        items: list[events.Listed] = []
        for conv in await self.live.conversations():
            volunteer = await self._display_name(conv.volunteer_id) if conv.volunteer_id else None
            items.append({
                **await self._assigned_payload(conv),
                "status": "active" if conv.volunteer_id else "waiting",
                "volunteer": volunteer,
            })
        items.sort(key=lambda c: c["started_at"])
        return {"ok": True, "waiting": len(await self.live.queue()), "conversations": items}

    # -- flagging and redaction --------------------------------------------------------------

    async def _flaggable(self, conn: StaffConnection, data: dict[str, Any]) -> tuple[Any, MessageRow]:
        cid = events.ident(data, "conversation_id")
        mid = events.ident(data, "message_id")
        assert cid is not None and mid is not None
        row = await self.store.conversations.get(cid)
        if row is None:
            raise ChatError("not_found")
        access.require_reader(row.volunteer_id, conn.member)
        message = await self.store.messages.get(cid, mid)
        if message is None:
            raise ChatError("not_found")
        return row, message

    async def flag(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        # The redactor works one message at a time anyway; letting only a few flags at once near
        # the database keeps a burst of flags from queueing ahead of chat messages.
        async with self._flag_slots:
            return await self._flag(conn, payload)

    async def _flag(self, conn: StaffConnection, payload: Any) -> dict[str, Any]:
        row, message = await self._flaggable(conn, events.obj(payload))
        text, entities = await self.redactor.redact(message.text)
        changed = text != message.text
        await self.store.messages.replace_text(message.id, text, redacted=changed)
        if changed:
            await self.outbox.redacted(row.id, row.volunteer_id, message.id, text)
        await self.audit(conn.member, "flag", row.id,
                         {"message_id": message.id, "entities": [e["type"] for e in entities]})
        return {
            "ok": True,
            "text": text,
            "entities": entities,
            "redacted": changed or message.redacted,
            "checked": True,
        }

    async def redact_span(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        async with self._flag_slots:
            return await self._redact_span(conn, payload)

    async def _redact_span(self, conn: StaffConnection, payload: Any) -> dict[str, Any]:
        data = events.obj(payload)
        row, message = await self._flaggable(conn, data)
        span = events.span(data, len(message.text))
        text = await self.redactor.redact_span(message.text, span.start, span.end, span.type)
        await self.store.messages.replace_text(message.id, text, redacted=True)
        await self.outbox.redacted(row.id, row.volunteer_id, message.id, text)
        await self.audit(conn.member, "redact_span", row.id,
                         {"message_id": message.id, "type": span.type})
        return {"ok": True, "text": text}

    # -- moderation --------------------------------------------------------------------------

    async def timeout(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid)
        data = events.obj(payload)
        s = self.settings
        minutes = events.integer(data, "minutes", s.timeout_min_minutes, s.timeout_max_minutes)
        conv = await self._live_conversation(data)
        access.require_own(conv.volunteer_id, conn.member, or_role="supervisor")
        now = self.clock.now()
        until = now + timedelta(minutes=minutes or s.timeout_default_minutes)
        await moderation.impose(self.store, moderation.Sanction(
            "timeout", conv.address_hash, conv.id, until, conn.member.id), now)
        await self.audit(conn.member, "timeout", conv.id, {"until": iso(until)})
        await self.end(conv.id, "timeout")
        return {"ok": True, "until": iso(until)}

    async def block(self, sid: str, payload: Any) -> dict[str, Any]:
        conn = self.connections.require(sid, "coordinator")
        return await self.block_conversation(conn.member, events.obj(payload))

    async def block_conversation(self, member: StaffMember, data: dict[str, Any]
                                 ) -> dict[str, Any]:
        """Block the chatter of a conversation (live or past) for `days`; ends their live chats."""
        member.require("coordinator")
        cid = events.ident(data, "conversation_id")
        days = events.integer(data, "days", 1, 3650) or self.settings.block_default_days
        reason = events.optional_text(data, "reason", 500)
        row = await self.store.conversations.get(cid or "")
        if row is None or not row.address_hash:
            raise ChatError("not_found")
        now = self.clock.now()
        until = now + timedelta(days=days)
        sanction_id = await moderation.impose(self.store, moderation.Sanction(
            "block", row.address_hash, row.id, until, member.id, reason), now)
        await self.audit(member, "block", row.id,
                         {"until": iso(until), "reason": reason, "sanction_id": sanction_id})
        for conv in await self.live.conversations():
            if conv.address_hash == row.address_hash:
                await self.end(conv.id, "blocked")
        return {"ok": True, "until": iso(until), "id": sanction_id}

    async def lift(self, member: StaffMember, sanction_id: str, reason: str | None
                   ) -> dict[str, Any]:
        member.require("coordinator")
        row = await self.store.sanctions.get(sanction_id)
        if row is None:
            raise ChatError("not_found")
        now = self.clock.now()
        if row.lifted_at is not None or (utc(row.until) or now) <= now:
            raise ChatError("conflict", "Deze maatregel is al opgeheven of verlopen.")
        await self.store.sanctions.lift(sanction_id, now, member.id)
        await self.audit(member, f"{row.kind}_lifted", row.conversation_id,
                         {"sanction_id": sanction_id, "reason": reason})
        return {"ok": True}

    # -- audit -------------------------------------------------------------------------------

    async def audit(self, member: StaffMember | None, action: str, conversation_id: str | None,
                    detail: dict[str, Any] | None = None) -> None:
        await self.store.audit.record(
            self.clock.now(), action,
            actor_id=member.id if member else None, actor=member.username if member else None,
            conversation_id=conversation_id, detail=detail,
        )

    async def logout_sockets(self, member: StaffMember) -> None:
        """Logout revokes at once: the session's live sockets are closed too, on every worker."""
        try:
            await self.live.publish("logout", {"session": member.token_hash})
        except LiveUnavailable:
            log.warning("logout not published: other workers keep the session's sockets")

    async def _disconnect_session(self, token_hash: str) -> None:
        for sid in self.connections.of_session(token_hash):
            await self.outbox.disconnect_staff(sid)
