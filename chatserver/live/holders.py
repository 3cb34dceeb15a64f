"""Which other workers hold a socket in each room this worker holds (chatserver/live/delivery.py).

A worker that holds a room listens to its channel. Knowing who else does lets it skip the
publish altogether when nobody else does (a conversation whose sockets are all here costs
Redis nothing). The knowledge is kept by events on the room's own channel, never by a read
per message:

- joining (first socket of the room here): subscribe, then publish `hello` with a nonce on the
  room's channel; Redis answers how many subscribers received it; every other holder adds the
  newcomer and answers `here` on the newcomer's worker channel. Once as many answers arrived
  as there were other receivers, the newcomer knows the room's holders (`known`).
- leaving (last socket gone): publish `bye`; holders forget the worker.
- until a room is known (answers missing, Redis reconnecting, a worker slow to answer) every
  emit to it is published: being unsure costs a publish, never a lost event. A holder that
  died without `bye` only costs publishes nobody receives.

A holder learns of a newcomer when it reads the newcomer's `hello`, before it answers; the
newcomer's `enter_room` returns after the answers: every emit after that reaches the new socket."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field


@dataclass
class Shake:
    nonce: str = field(default_factory=lambda: secrets.token_hex(4))
    acks: set[str] = field(default_factory=set)
    needed: int | None = None  # receivers of the hello other than this worker
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def answered(self) -> bool:
        """Redis said how many received it, and that many have answered."""
        return self.needed is not None and len(self.acks) >= self.needed


class Watch:
    """Which *sparse* rooms (usually held by nobody: `monitor:<conversation>`) other workers
    hold, so that an emit to one nobody holds is not published at all.

    Kept on one channel every worker reads (`<prefix>sio:sparse`), never by a read per emit:

    - roll call (the listener (re)subscribed): publish `roll`; Redis answers how many received
      it; every other worker answers `holding` with the sparse rooms it holds. Once all have
      answered, the picture is complete (`known`); until then every emit is published.
    - holding a sparse room (its first socket here): publish `hold`; every other worker notes
      it and answers `noted`; `enter_room` returns once all have: an emit anywhere after that
      reaches the new socket (the supervisor's transcript is read after it).
    - the last socket gone: `release`. A worker that died without releasing costs publishes
      nobody receives, never a lost event."""

    def __init__(self) -> None:
        self.held: dict[str, set[str]] = {}  # room channel -> other workers holding it
        self.known = False
        self.roll: Shake | None = None
        self.shakes: dict[str, Shake] = {}  # announcement nonce -> its shake

    def unheld(self, channel: str) -> bool:
        """Nobody else holds the sparse room, for sure: no need to publish to it."""
        return self.known and not self.held.get(channel)

    def reset(self) -> Shake:
        """A new roll call: nothing is known until every worker answered."""
        self.known = False
        self.held.clear()
        for shake in self.shakes.values():
            shake.done.set()
        self.shakes.clear()
        if self.roll is not None:
            self.roll.done.set()
        self.roll = Shake()
        return self.roll

    def hold(self, channel: str, host: str) -> None:
        self.held.setdefault(channel, set()).add(host)

    def release(self, channel: str, host: str) -> None:
        hosts = self.held.get(channel)
        if hosts is not None:
            hosts.discard(host)
            if not hosts:
                del self.held[channel]

    def holding(self, host: str, nonce: str, channels: list[str]) -> None:
        """An answer to this worker's roll call."""
        for channel in channels:
            self.hold(channel, host)
        if self.roll is not None and self.roll.nonce == nonce:
            self.roll.acks.add(host)
            self._check_roll()

    def counted_roll(self, receivers: int) -> None:
        if self.roll is not None:
            self.roll.needed = receivers - 1
            self._check_roll()

    def _check_roll(self) -> None:
        roll = self.roll
        if roll is not None and roll.answered:
            self.known = True
            self.roll = None
            roll.done.set()

    def announce(self) -> Shake:
        shake = Shake()
        self.shakes[shake.nonce] = shake
        return shake

    def noted(self, host: str, nonce: str) -> None:
        shake = self.shakes.get(nonce)
        if shake is not None:
            shake.acks.add(host)
            self._check(shake)

    def counted(self, shake: Shake, receivers: int) -> None:
        shake.needed = receivers - 1
        self._check(shake)

    def _check(self, shake: Shake) -> None:
        if shake.answered:
            self.shakes.pop(shake.nonce, None)
            shake.done.set()


class Holders:
    def __init__(self) -> None:
        self.wanted: set[str] = set()  # room channels with a socket here (subscribed or to be)
        self.known: set[str] = set()  # ... whose other holders are known
        self.others: dict[str, set[str]] = {}
        self.shakes: dict[str, Shake] = {}

    def solo(self, channel: str) -> bool:
        """Nobody else holds the room, for sure: no need to publish to it."""
        return channel in self.known and not self.others.get(channel)

    def want(self, channel: str) -> None:
        self.wanted.add(channel)

    def drop(self, channel: str) -> None:
        self.wanted.discard(channel)
        self.known.discard(channel)
        self.others.pop(channel, None)
        self.shakes.pop(channel, None)

    def reset(self) -> None:
        """Subscriptions were lost (Redis away): nothing is known until shaken hands again."""
        self.known.clear()
        self.others.clear()
        for shake in self.shakes.values():
            shake.done.set()
        self.shakes.clear()

    def begin(self, channel: str) -> Shake:
        self.known.discard(channel)
        shake = self.shakes[channel] = Shake()
        return shake

    def counted(self, channel: str, shake: Shake, receivers: int) -> None:
        """Redis says how many received the hello (this worker among them)."""
        shake.needed = receivers - 1
        self._check(channel, shake)

    def hello(self, channel: str, host: str) -> bool:
        """Another worker joined the room; whether this one holds it."""
        if channel not in self.wanted:
            return False
        self.others.setdefault(channel, set()).add(host)
        return True

    def bye(self, channel: str, host: str) -> None:
        self.others.get(channel, set()).discard(host)

    def here(self, channel: str, host: str, nonce: str, held: bool) -> None:
        """An answer to this worker's hello."""
        if held and channel in self.wanted:
            self.others.setdefault(channel, set()).add(host)
        shake = self.shakes.get(channel)
        if shake is not None and shake.nonce == nonce:
            shake.acks.add(host)
            self._check(channel, shake)

    def _check(self, channel: str, shake: Shake) -> None:
        if not shake.answered:
            return
        if self.shakes.get(channel) is shake:
            del self.shakes[channel]
            if channel in self.wanted:
                self.known.add(channel)
        shake.done.set()
