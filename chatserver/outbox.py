"""The only place that emits: one method per outbound event, with its typed payload.

Who receives what is decided here, by room: a conversation's chatter (`chatter:<id>` on /chat),
its volunteer (`user:<id>`) and monitoring supervisors (`monitor:<id>`) on /staff, every staff
member (`staff`), supervisors (`supervisors`). No payload carries an address or its hash: the
definitions in events.py have no field for one, and the test clients check every event
against them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio

from chatserver import events
from chatserver.events import CHAT, STAFF, Reason
from chatserver.live import LiveConversation
from chatserver.realtime.transport import NamedAck


def staff_rooms(conversation_id: str, volunteer_id: str | None) -> list[str]:
    """Who on /staff sees a conversation: its monitoring supervisors and its volunteer."""
    rooms = [f"monitor:{conversation_id}"]
    if volunteer_id:
        rooms.append(f"user:{volunteer_id}")
    return rooms


def chatter_room(conversation_id: str) -> str:
    return f"chatter:{conversation_id}"


class Outbox:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    # -- rooms ---------------------------------------------------------------------------------

    async def join_conversation(self, sid: str, conversation_id: str) -> None:
        """A chatter's socket receives its conversation's events from now on."""
        await self.sio.enter_room(sid, chatter_room(conversation_id), namespace=CHAT)

    async def join_staff(self, sid: str, member_id: str, session_key: str, *,
                         supervisor: bool) -> None:
        for room in (f"user:{member_id}", f"session:{session_key}", "staff"):
            await self.sio.enter_room(sid, room, namespace=STAFF)
        if supervisor:
            await self.sio.enter_room(sid, "supervisors", namespace=STAFF)

    async def monitor(self, sid: str, conversation_id: str) -> None:
        await self.sio.enter_room(sid, f"monitor:{conversation_id}", namespace=STAFF)

    async def unmonitor(self, sid: str, conversation_id: str) -> None:
        await self.sio.leave_room(sid, f"monitor:{conversation_id}", namespace=STAFF)

    async def disconnect_staff(self, sid: str) -> None:
        await self.sio.disconnect(sid, namespace=STAFF, ignore_queue=True)

    # -- to the chatter ------------------------------------------------------------------------

    async def _chatter(self, conversation_id: str, event: str, data: Any, *,
                       local: bool = False) -> None:
        await self.sio.emit(event, data, room=chatter_room(conversation_id), namespace=CHAT,
                            ignore_queue=local)

    async def queue_position(self, conversation_id: str, position: int) -> None:
        """Only this worker's chatters are told (each worker tells its own)."""
        payload: events.Queue = {"position": position}
        await self._chatter(conversation_id, "queue", payload, local=True)

    async def paired(self, conversation_id: str, volunteer: str) -> None:
        payload: events.Paired = {"conversation_id": conversation_id, "volunteer": volunteer}
        await self._chatter(conversation_id, "paired", payload)

    async def requeued(self, conversation_id: str, position: int) -> None:
        payload: events.Requeued = {"conversation_id": conversation_id, "position": position}
        await self._chatter(conversation_id, "requeued", payload)
        queue: events.Queue = {"position": position}
        await self._chatter(conversation_id, "queue", queue)

    async def volunteer_typing(self, conversation_id: str, typing: bool) -> None:
        payload: events.ChatterTyping = {"from": "volunteer", "typing": typing}
        await self._chatter(conversation_id, "typing", payload)

    def delivery(self) -> tuple[bool, int]:
        """Delivery between workers (delivery.TargetedManager, with Redis): whether this
        worker's listener is subscribed, and how many events for other workers it dropped.
        In one process: (True, 0)."""
        manager = self.sio.manager
        return (bool(getattr(manager, "subscribed", True)),
                int(getattr(manager, "counters", {}).get("dropped", 0)))

    def on_ack(self, name: str, handler: Callable[..., Any]) -> None:
        """The handler of a named acknowledgement (`NamedAck`), on this worker."""
        self.sio.manager.register_ack(name, handler)

    async def message_to_chatter(self, conv: LiveConversation, message: events.Message, *,
                                 local: bool, delivered: NamedAck) -> None:
        """A volunteer's message, acknowledged by the chatter's client (`delivered` runs then,
        on the worker that holds the chatter's socket). A chatter on this worker is reached
        directly, not through Redis (FACTS: every worker would decode it); elsewhere the Redis
        manager carries the message and the name of the acknowledgement."""
        await self.sio.emit("message", message, to=conv.chatter_sid, namespace=CHAT,
                            callback=delivered, ignore_queue=local)

    # -- to staff ------------------------------------------------------------------------------

    async def assigned(self, volunteer_id: str, payload: events.Assigned) -> None:
        await self.sio.emit("assigned", payload, room=f"user:{volunteer_id}", namespace=STAFF)

    async def message_to_staff(self, conv: LiveConversation, message: events.Message, *,
                               skip_sid: str | None = None) -> None:
        await self.sio.emit("message", message, room=staff_rooms(conv.id, conv.volunteer_id),
                            skip_sid=skip_sid, namespace=STAFF)

    async def chatter_typing(self, conv: LiveConversation, typing: bool) -> None:
        payload: events.StaffTyping = {"conversation_id": conv.id, "from": "chatter",
                                       "typing": typing}
        await self.sio.emit("typing", payload, room=staff_rooms(conv.id, conv.volunteer_id),
                            namespace=STAFF)

    async def hints(self, conv: LiveConversation, message_id: str,
                    entities: list[events.Entity]) -> None:
        payload: events.Hints = {"conversation_id": conv.id, "message_id": message_id,
                                 "entities": entities}
        await self.sio.emit("hints", payload, room=staff_rooms(conv.id, conv.volunteer_id),
                            namespace=STAFF)

    async def whisper(self, volunteer_id: str, payload: events.Whisper) -> None:
        await self.sio.emit("whisper", payload, room=f"user:{volunteer_id}", namespace=STAFF)

    async def queue_size(self, waiting: int) -> None:
        """Only this worker's staff are told (each worker tells its own)."""
        payload: events.QueueSize = {"waiting": waiting}
        await self.sio.emit("queue_size", payload, room="staff", namespace=STAFF,
                            ignore_queue=True)

    async def state(self, sid: str, payload: events.State) -> None:
        await self.sio.emit("state", payload, to=sid, namespace=STAFF)

    async def conversations_changed(self) -> None:
        payload: events.Empty = {}
        await self.sio.emit("conversations_changed", payload, room="supervisors",
                            namespace=STAFF)

    # -- to everyone in a conversation ---------------------------------------------------------

    async def redacted(self, conversation_id: str, volunteer_id: str | None, message_id: str,
                       text: str) -> None:
        payload: events.Redacted = {"conversation_id": conversation_id,
                                    "message_id": message_id, "text": text}
        await self._chatter(conversation_id, "redacted", payload)
        await self.sio.emit("redacted", payload, room=staff_rooms(conversation_id, volunteer_id),
                            namespace=STAFF)

    async def ended(self, conv: LiveConversation, reason: Reason, reference: str) -> None:
        """The chatter gets their reference; staff never do."""
        to_chatter: events.ChatterEnded = {"conversation_id": conv.id, "reason": reason,
                                           "reference": reference}
        await self._chatter(conv.id, "ended", to_chatter)
        to_staff: events.StaffEnded = {"conversation_id": conv.id, "reason": reason}
        await self.sio.emit("ended", to_staff, room=staff_rooms(conv.id, conv.volunteer_id),
                            namespace=STAFF)
