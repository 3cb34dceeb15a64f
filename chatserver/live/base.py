"""The live-state interface that the in-memory and Redis backends both implement.

Every method is atomic with respect to every worker: no chatter is paired twice, no volunteer
is filled beyond capacity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class LiveConversation:
    id: str
    alias: str
    address_hash: str
    contact_count: int
    started_at: str  # ISO timestamp
    age: int | None = None
    topic: str | None = None
    volunteer_id: str | None = None
    chatter_sid: str | None = None
    delivered_seq: int = 0  # highest volunteer message the chatter acknowledged
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pairing:
    conversation_id: str
    volunteer_id: str


class LiveState(Protocol):
    async def add_conversation(self, conv: LiveConversation, *, queue: bool, front: bool = False) -> int:
        """Register a conversation; when `queue`, put it in the queue and return its position."""
        ...

    async def conversation(self, conversation_id: str) -> LiveConversation | None: ...

    async def update(self, conversation_id: str, **values: object) -> None: ...

    async def requeue(self, conversation_id: str) -> int:
        """Take the conversation from its volunteer and put it at the front of the queue."""
        ...

    async def remove(self, conversation_id: str, now: float) -> LiveConversation | None:
        """Forget the conversation (ended): out of the queue, off its volunteer's load (who is
        idle from `now`)."""
        ...

    async def queue(self) -> list[str]:
        """Waiting conversation ids, longest-waiting first."""
        ...

    async def set_available(self, volunteer_id: str, capacity: int, now: float) -> None: ...

    async def set_unavailable(self, volunteer_id: str) -> None: ...

    async def volunteer(self, volunteer_id: str) -> tuple[bool, int, list[str]]:
        """(available, capacity, active conversation ids)."""
        ...

    async def pair(self, now: float) -> list[Pairing]:
        """Match the queue's head with the best free volunteer while both exist."""
        ...

    async def conversations(self) -> list[LiveConversation]: ...

    async def close(self) -> None: ...
