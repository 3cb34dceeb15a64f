"""Live state in this process's memory: the embedded default (one worker).

Atomicity comes from the single event loop: no method awaits while it changes state."""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from chatserver.live.base import Heartbeat, Listener, LiveConversation, Pairing, Released
from chatserver.pairing import VolunteerLoad, choose_volunteer

log = logging.getLogger(__name__)


@dataclass
class _Volunteer:
    available: bool = False
    capacity: int = 1
    idle_since: float = 0.0
    active: list[str] = field(default_factory=list)


class MemoryLiveState:
    def __init__(self) -> None:
        self._conversations: dict[str, LiveConversation] = {}
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._volunteers: dict[str, _Volunteer] = {}
        self._presence: dict[str, set[str]] = {}
        self._listeners: list[Listener] = []
        self.worker_id = uuid.uuid4().hex[:12]

    async def start(self) -> None:
        return None

    async def add_conversation(
        self, conv: LiveConversation, *, queue: bool, front: bool = False
    ) -> int:
        if conv.id in self._conversations:
            return list(self._queue).index(conv.id) + 1 if conv.id in self._queue else 0
        self._conversations[conv.id] = conv
        if conv.volunteer_id:
            vol = self._volunteers.setdefault(conv.volunteer_id, _Volunteer())
            if conv.id not in vol.active:
                vol.active.append(conv.id)
        if not queue:
            return 0
        self._queue[conv.id] = None
        if front:
            self._queue.move_to_end(conv.id, last=False)
        return list(self._queue).index(conv.id) + 1

    async def conversation(self, conversation_id: str) -> LiveConversation | None:
        return self._conversations.get(conversation_id)

    async def current_conversation(self, conversation_id: str) -> LiveConversation | None:
        return self._conversations.get(conversation_id)

    async def cached_conversation(self, conversation_id: str) -> LiveConversation | None:
        return self._conversations.get(conversation_id)  # one process: always current

    async def update(self, conversation_id: str, **values: object) -> None:
        conv = self._conversations.get(conversation_id)
        if conv is not None:
            for key, value in values.items():
                setattr(conv, key, value)

    async def release_chatter(self, conversation_id: str, sid: str) -> bool:
        conv = self._conversations.get(conversation_id)
        if conv is None or conv.chatter_sid != sid:
            return False
        conv.chatter_sid = conv.chatter_worker = None
        return True

    def _release(self, conv: LiveConversation) -> None:
        if conv.volunteer_id and conv.volunteer_id in self._volunteers:
            vol = self._volunteers[conv.volunteer_id]
            if conv.id in vol.active:
                vol.active.remove(conv.id)
        conv.volunteer_id = None

    async def requeue(self, conversation_id: str) -> int:
        conv = self._conversations.get(conversation_id)
        if conv is None:
            return 0
        self._release(conv)
        self._queue[conv.id] = None
        self._queue.move_to_end(conv.id, last=False)
        return 1

    async def remove(self, conversation_id: str, now: float) -> LiveConversation | None:
        conv = self._conversations.pop(conversation_id, None)
        self._queue.pop(conversation_id, None)
        if conv is not None and conv.volunteer_id in self._volunteers:
            vol = self._volunteers[conv.volunteer_id]
            if conversation_id in vol.active:
                vol.active.remove(conversation_id)
                vol.idle_since = now
        return conv

    async def queue(self) -> list[str]:
        return list(self._queue)

    async def set_available(self, volunteer_id: str, capacity: int, now: float) -> None:
        vol = self._volunteers.setdefault(volunteer_id, _Volunteer())
        if not vol.available:
            vol.idle_since = now
        vol.available = True
        vol.capacity = capacity

    async def set_unavailable(self, volunteer_id: str) -> None:
        vol = self._volunteers.setdefault(volunteer_id, _Volunteer())
        vol.available = False

    async def volunteer(self, volunteer_id: str) -> tuple[bool, int, list[str]]:
        vol = self._volunteers.get(volunteer_id)
        if vol is None:
            return False, 0, []
        return vol.available, vol.capacity, list(vol.active)

    async def pair(self, now: float) -> list[Pairing]:
        pairings = []
        while self._queue:
            loads = [
                VolunteerLoad(staff_id, v.capacity, len(v.active), v.idle_since)
                for staff_id, v in self._volunteers.items()
                if v.available and self._presence.get(staff_id)  # none in their grace period
            ]
            staff_id = choose_volunteer(loads)
            if staff_id is None:
                break
            cid, _ = self._queue.popitem(last=False)
            vol = self._volunteers[staff_id]
            vol.active.append(cid)
            vol.idle_since = now
            self._conversations[cid].volunteer_id = staff_id
            pairings.append(Pairing(cid, staff_id))
        return pairings

    async def conversations(self) -> list[LiveConversation]:
        return list(self._conversations.values())

    async def staff_joined(self, staff_id: str, sid: str) -> None:
        self._presence.setdefault(staff_id, set()).add(sid)

    async def staff_left(self, staff_id: str, sid: str) -> int:
        sids = self._presence.get(staff_id, set())
        sids.discard(sid)
        if not sids:
            self._presence.pop(staff_id, None)
        return len(sids)

    async def staff_present(self, staff_id: str) -> int:
        return len(self._presence.get(staff_id, ()))

    async def heartbeat(self) -> Heartbeat:
        return Heartbeat()  # one process: no other worker can die

    async def release_worker(self, worker_id: str) -> Released:
        return Released()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                await listener(kind, data)
            except Exception:
                log.exception("listener of %s failed", kind)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None
