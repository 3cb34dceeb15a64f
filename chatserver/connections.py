"""Who is connected to this worker: chatters and staff by socket id, each connection with its
own event bucket. `chatter(sid)` and `require(sid, role)` are how an action learns who acts.

One instance per worker; with several workers each knows only its own sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chatserver.auth import StaffMember
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.errors import ChatError
from chatserver.ratelimit import Bucket


@dataclass
class ChatterConnection:
    sid: str
    address_hash: str
    bucket: Bucket
    conversation_id: str | None = None
    # The conversation that ended while this socket had it: what `erase` erases.
    ended_conversation_id: str | None = None
    starting: bool = False  # a `start` is under way: a second one on this socket waits its turn


@dataclass
class StaffConnection:
    sid: str
    member: StaffMember
    bucket: Bucket
    monitoring: set[str] = field(default_factory=set)
    capacity: int | None = None  # when available: said again if Redis lost its state
    # When the socket's session ends unless used again (idle) or at all (absolute): checked
    # by every staff action and by the sweep (chatserver/actions/sessions.py).
    session_ends: datetime | None = None
    session_checked_at: datetime | None = None  # when the store last said it is open


class Connections:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.chatters: dict[str, ChatterConnection] = {}
        self.staff: dict[str, StaffConnection] = {}

    def _bucket(self) -> Bucket:
        s = self.settings
        return Bucket(s.rate_per_second, s.rate_burst, s.rate_burst, self.clock.monotonic())

    # -- chatters ------------------------------------------------------------------------------

    def add_chatter(self, sid: str, address_hash: str) -> ChatterConnection:
        conn = self.chatters[sid] = ChatterConnection(sid, address_hash, self._bucket())
        return conn

    def chatter(self, sid: str) -> ChatterConnection:
        """The chatter behind a socket, one event taken from its bucket."""
        conn = self.chatters.get(sid)
        if conn is None:
            raise ChatError("not_in_conversation")
        if not conn.bucket.take(self.clock.monotonic()):
            raise ChatError("rate_limited")
        return conn

    def drop_chatter(self, sid: str) -> ChatterConnection | None:
        return self.chatters.pop(sid, None)

    def has_chatter(self, sid: str | None) -> bool:
        return sid in self.chatters

    def chatters_in(self, conversation_id: str) -> list[ChatterConnection]:
        """This worker's chatter sockets of one conversation."""
        return [c for c in self.chatters.values() if c.conversation_id == conversation_id]

    def local_conversations(self) -> set[str]:
        """The conversations whose chatter is connected to this worker."""
        return {c.conversation_id for c in self.chatters.values() if c.conversation_id}

    # -- staff ---------------------------------------------------------------------------------

    def add_staff(self, sid: str, member: StaffMember) -> StaffConnection:
        conn = self.staff[sid] = StaffConnection(sid, member, self._bucket(),
                                                 session_ends=member.session_ends,
                                                 session_checked_at=self.clock.now())
        return conn

    def require(self, sid: str, role: str = "volunteer") -> StaffConnection:
        """The staff member behind a socket, at least `role`, one event taken from the bucket."""
        conn = self.staff.get(sid)
        if conn is None:
            raise ChatError("unauthorized")
        if not conn.bucket.take(self.clock.monotonic()):
            raise ChatError("rate_limited")
        conn.member.require(role)
        return conn

    def drop_staff(self, sid: str) -> StaffConnection | None:
        return self.staff.pop(sid, None)

    def of_session(self, token_hash: str) -> list[str]:
        """This worker's sockets of one staff session."""
        return [sid for sid, conn in self.staff.items()
                if token_hash and conn.member.token_hash == token_hash]
