"""The live-state interface that the in-memory and Redis backends both implement.

Every method is atomic with respect to every worker: no chatter is paired twice, no volunteer
is filled beyond capacity. A backend that cannot reach its store raises `LiveUnavailable`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chatserver.errors import ChatError


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
    chatter_worker: str | None = None  # the worker holding `chatter_sid`
    # The last volunteer message a `resume` sent. The chatter's acknowledgements are recorded
    # in the database (`messages.mark_delivered`), which `resume` reads too.
    delivered_seq: int = 0
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pairing:
    conversation_id: str
    volunteer_id: str


@dataclass(frozen=True)
class Heartbeat:
    """What a worker learns when it says it is alive."""

    dead_workers: list[str] = field(default_factory=list)  # claimed by this worker: its to clean
    reset: bool = False  # the shared state was lost (a Redis without persistence restarted)


@dataclass(frozen=True)
class Released:
    """What a dead worker left behind."""

    conversations: list[str] = field(default_factory=list)  # their chatter was on it
    volunteers: list[str] = field(default_factory=list)  # now with no socket anywhere


# A change notification: (kind, data). Every worker's subscribers get every notification once.
Listener = Callable[[str, dict[str, Any]], Awaitable[None]]


class LiveUnavailable(ChatError):
    """The shared live state cannot be reached (Redis is down); the client may retry."""

    def __init__(self) -> None:
        super().__init__("unavailable")


class LiveState(Protocol):
    worker_id: str

    async def start(self) -> None:
        """Connect and begin delivering notifications to subscribers."""
        ...

    async def add_conversation(self, conv: LiveConversation, *, queue: bool, front: bool = False) -> int:
        """Register a conversation; when `queue`, put it in the queue and return its position.

        A conversation that is already live is left as it is (its position is returned)."""
        ...

    async def conversation(self, conversation_id: str) -> LiveConversation | None:
        """The conversation as it is now (on Redis: read from Redis)."""
        ...

    async def current_conversation(self, conversation_id: str) -> LiveConversation | None:
        """The conversation as it is now, like `conversation` (an end or any other change on
        another worker is seen; on Redis: the cached copy if its version is still the one in
        Redis, else a full read)."""
        ...

    async def cached_conversation(self, conversation_id: str) -> LiveConversation | None:
        """The conversation, possibly as this worker last read it: a change made by another
        worker may reach it a moment later (on Redis: after its invalidation arrives). Only
        for reads where that is harmless."""
        ...

    async def update(self, conversation_id: str, **values: object) -> None: ...

    async def release_chatter(self, conversation_id: str, sid: str) -> bool:
        """Forget the chatter's socket `sid` (and its worker) if it is still the conversation's
        socket, in one step: a `resume` that set a newer socket meanwhile, on any worker, keeps
        it. True when `sid` was let go."""
        ...

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

    # -- presence of staff sockets, across workers ---------------------------------------------

    async def staff_joined(self, staff_id: str, sid: str) -> None:
        """A socket of this staff member connected to this worker."""
        ...

    async def staff_left(self, staff_id: str, sid: str) -> int:
        """The socket went; returns how many sockets of the member remain on live workers."""
        ...

    async def staff_present(self, staff_id: str) -> int:
        """Sockets of the member on live workers."""
        ...

    # -- workers -------------------------------------------------------------------------------

    async def heartbeat(self) -> Heartbeat:
        """Say this worker is alive; claim workers whose heartbeat lapsed."""
        ...

    async def release_worker(self, worker_id: str) -> Released:
        """Forget a dead worker's sockets: its chatters' conversations lose their socket."""
        ...

    # -- change notifications ------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None: ...

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Tell every worker's subscribers (this worker's at once, before returning)."""
        ...

    async def ping(self) -> bool:
        """Whether the shared state is reachable (for /healthz)."""
        ...

    async def close(self) -> None: ...
