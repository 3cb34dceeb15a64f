"""Targeted delivery of Socket.IO events between workers on Redis (issue #17).

python-socketio's `AsyncRedisManager` publishes every emit to one channel that every worker
reads and decodes, and delivers even local recipients only once the message has come back
from Redis. `TargetedManager` replaces it when `CHATSERVER_REDIS_URL` is set:

- Recipients on this worker are sent to at once, in order, on the emitting task (as the
  single process's `DirectManager` does); no Redis round trip.
- Other workers are reached through Redis 7 sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, which
  also spreads over a Redis Cluster), one channel per room, `<prefix>sio:r:<namespace>:<room>`.
  A worker is subscribed to a room's channel exactly while it holds a socket in that room
  (`chatter:<conversation>`, `user:<volunteer>`, `monitor:<conversation>`, `staff`, ...), so a
  conversation whose sockets are all on one worker is never received by another.
  `enter_room` returns only once Redis confirmed the subscription: an event emitted anywhere
  after a socket joined a room reaches it.
- A socket id names its worker (`<worker>_<random>`): an event for one socket (`to=sid`, the
  volunteer's message with its delivery acknowledgement), an acknowledgement travelling back,
  or a disconnect of a socket held elsewhere goes to that worker's own channel only. A named
  acknowledgement (`transport.NamedAck`, the volunteer's message) does not travel back at all:
  the worker holding the socket runs it.
- Every worker publishes through one connection, in the order it emitted, what one turn of
  the event loop emitted in one write, without waiting for the replies; every worker reads
  through one connection (both spoken to in RESP directly, resp.py). So events from one
  worker reach each socket in the order they were emitted (per conversation, too).
- Sparse rooms (`monitor:<conversation>`, held by nobody while no supervisor reads along) are
  published only while some worker holds them: every worker follows who holds which on one
  channel (holders.Watch: a roll call when it (re)subscribes, `hold`/`noted` before
  `enter_room` returns, `release` with the last socket). Until its roll call is answered by
  every worker, a worker publishes to them all.
- An emit to several rooms is published once per room channel and carries an id; a worker
  holding several of the rooms delivers the first copy to the union of its local sockets and
  drops the others: each socket gets it exactly once.
- Redis away: local delivery goes on; what is emitted meanwhile waits (up to MAX_BACKLOG)
  for the publisher to reconnect and is dropped with a warning when it cannot; the listener
  reconnects with backoff and subscribes again to every room this worker still holds.

The wire format is JSON (the server never sends bytes: transport.ChatPacket), prefixed with
the publishing worker's id so that a worker skips its own echoes without decoding them."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
from collections.abc import Iterable
from functools import partial
from typing import Any

import redis.asyncio as aioredis
from bidict import ValueDuplicationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from chatserver.live.holders import Holders, Watch
from chatserver.live.resp import RespConnection, command
from chatserver.realtime.transport import DirectManager, NamedAck

log = logging.getLogger(__name__)

HOST_LEN = 12
MAX_BACKLOG = 20_000  # events waiting for Redis; beyond this they are dropped (Redis is away)
MAX_BUFFERED = 32 << 20  # bytes written and not yet taken by Redis; beyond this, dropped
MAX_REMOTE_ACKS = 10_000  # sockets elsewhere with acknowledgements outstanding, remembered
SUBSCRIBE_WAIT = 2.0  # seconds enter_room waits for Redis to confirm a new subscription
ROLL_RETRY = 5.0  # seconds before a roll call that not every worker answered is tried again
# Rooms usually held by nobody (a conversation no supervisor reads along with): an emit to one
# is published only when some worker holds it (holders.Watch), not "to be sure".
SPARSE_PREFIXES = ("monitor:",)


class TargetedManager(DirectManager):
    name = "targeted"

    def __init__(self, url: str, *, prefix: str = "cs:",
                 client: aioredis.Redis | None = None) -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self.host_id = secrets.token_hex(HOST_LEN // 2)
        self._mark = self.host_id.encode()
        # For the odd command (tests, tools); events travel through the two RESP connections
        # below, made as this pool makes its own: no read timeout (the reader may be idle for
        # long), no retries underneath (a silent reconnect would lose the subscriptions; the
        # publisher and the listener reconnect themselves).
        self.redis = client or aioredis.Redis.from_url(url, socket_connect_timeout=2,
                                                       socket_timeout=5)
        self._pool = aioredis.ConnectionPool.from_url(
            url, socket_connect_timeout=2, socket_timeout=None, socket_keepalive=True,
            health_check_interval=0, retry=Retry(NoBackoff(), 0))
        self._pub: RespConnection | None = None  # the publishing connection while open
        # Per SPUBLISH written, in order: who waits for its number of receivers (a handshake).
        self._replies: collections.deque[asyncio.Future[int] | None] = collections.deque()
        # Publishes waiting for the publishing connection (opening, or Redis away).
        self._backlog: collections.deque[tuple[str, bytes, asyncio.Future[int] | None]] = \
            collections.deque()
        self._rooms = f"{prefix}sio:r:"  # room channels: <this><namespace>:<room>
        self.worker_channel = self._channel_of_worker(self.host_id)
        self.all_channel = f"{prefix}sio:all"
        self.holders = Holders()  # the rooms held here, and who else holds them
        self.sparse_channel = f"{prefix}sio:sparse"
        self.watch = Watch()  # the sparse rooms other workers hold
        self._pubsub: RespConnection | None = None  # the listener's connection while subscribed
        self._pending: dict[str, collections.deque[asyncio.Future[None]]] = {}
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remote_acks: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._chores: set[asyncio.Task[None]] = set()
        self._seq = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = False
        # Observable cost: what this worker published, and what it received from others.
        self.counters = collections.Counter[str]()

    # -- names ---------------------------------------------------------------------------------

    def _channel_of_worker(self, host: str) -> str:
        return f"{self.prefix}sio:w:{host}"

    def room_channel(self, namespace: str, room: str) -> str:
        return f"{self._rooms}{namespace}:{room}"

    def _sparse(self, channel: str) -> bool:
        """Whether a room channel (`room_channel`) is a sparse room's."""
        if not channel.startswith(self._rooms):
            return False
        return channel[len(self._rooms):].partition(":")[2].startswith(SPARSE_PREFIXES)

    def worker_of(self, room: Any) -> str | None:
        """The worker holding the socket `room` names, when it is a socket id."""
        if isinstance(room, str) and len(room) > HOST_LEN and room[HOST_LEN] == "_" \
                and ":" not in room:
            return room[:HOST_LEN]
        return None

    def _channels(self, namespace: str, room: Any) -> list[str]:
        """Where an event for `room` (a room, a socket id, a list of them, None: all) goes."""
        if room is None:
            return [self.all_channel]
        rooms = [room] if isinstance(room, str) else list(room)
        out: list[str] = []
        for r in rooms:
            host = self.worker_of(r)
            if host == self.host_id:
                continue  # a socket of this worker: served locally or gone
            ch = self._channel_of_worker(host) if host else self.room_channel(namespace, r)
            if not host and self.holders.solo(ch):
                self.counters["kept"] += 1  # held here only: served locally, nothing to publish
                continue
            if not host and r.startswith(SPARSE_PREFIXES) and ch not in self.holders.wanted \
                    and self.watch.unheld(ch):
                self.counters["unheld"] += 1  # held by nobody: nothing to publish
                continue
            if ch not in out:
                out.append(ch)
        return out

    # -- lifecycle -----------------------------------------------------------------------------

    def initialize(self) -> None:
        super().initialize()
        self.start()

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._listen(), name="sio-listener"),
                           asyncio.create_task(self._publisher(), name="sio-publisher")]

    async def close(self) -> None:
        tasks = [*self._tasks, *self._chores]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), 2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pool.disconnect(), 2)

    # -- connections and rooms -----------------------------------------------------------------

    async def pre_connect(self, eio_sid: str, namespace: str) -> str | None:  # type: ignore[override]
        """As the library's, with a socket id that names this worker."""
        sid = f"{self.host_id}_{self.server.eio.generate_id()}"
        try:
            self.basic_enter_room(sid, namespace, None, eio_sid=eio_sid)
        except ValueDuplicationError:
            return None  # already connected
        self.basic_enter_room(sid, namespace, sid, eio_sid=eio_sid)
        self.pending_connect.setdefault(namespace, []).append(sid)
        return sid

    def _local(self, sid: str, namespace: str) -> bool:
        return bool(self.is_connected(sid, namespace) or self.is_pre_connected(sid, namespace))

    async def enter_room(self, sid: str, namespace: str, room: Any,  # type: ignore[override]
                         eio_sid: str | None = None) -> None:
        if eio_sid is None and not self._local(sid, namespace):
            await self._remote(sid, {"m": "enter_room", "sid": sid, "ns": namespace, "room": room})
            return
        new = isinstance(room, str) and room != sid and room not in self.rooms.get(namespace, {})
        self.basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if new:
            await self._subscribe(self.room_channel(namespace, room))

    async def leave_room(self, sid: str, namespace: str, room: Any) -> None:  # type: ignore[override]
        if not self._local(sid, namespace):
            await self._remote(sid, {"m": "leave_room", "sid": sid, "ns": namespace, "room": room})
            return
        self.basic_leave_room(sid, namespace, room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        # Every way out of a room comes here (leave, disconnect, close): the last socket gone,
        # the worker stops listening to the room.
        if isinstance(room, str) and room != sid and room not in self.rooms.get(namespace, {}):
            self._unsubscribe(self.room_channel(namespace, room))

    async def close_room(self, room: Any, namespace: str) -> None:  # type: ignore[override]
        self.basic_close_room(room, namespace)
        self._send(self._channels(namespace, room),
                   {"m": "close_room", "ns": namespace, "room": room})

    async def can_disconnect(self, sid: str, namespace: str) -> bool:  # type: ignore[override]
        if self._local(sid, namespace):
            return bool(await super().can_disconnect(sid, namespace))
        await self._remote(sid, {"m": "disconnect", "sid": sid, "ns": namespace})
        return False

    async def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:  # type: ignore[override]
        if kwargs.get("ignore_queue") or self._local(sid, namespace):
            self.basic_disconnect(sid, namespace)
            return
        await self._remote(sid, {"m": "disconnect", "sid": sid, "ns": namespace})

    async def _remote(self, sid: str, body: dict[str, Any]) -> None:
        host = self.worker_of(sid)
        if host is not None and host != self.host_id:
            self._send([self._channel_of_worker(host)], body)

    # -- emitting ------------------------------------------------------------------------------

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,  # type: ignore[override]
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        room = to or room
        namespace = namespace or "/"
        if kwargs.get("ignore_queue"):
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback)
            return
        await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                           callback=callback)
        channels = self._channels(namespace, room)
        if not channels:
            return
        args = list(data) if isinstance(data, tuple) else [data]
        body: dict[str, Any] = {"m": "emit", "e": event, "a": args, "ns": namespace, "r": room,
                                "s": skip_sid}
        if isinstance(callback, NamedAck):
            # Run by the worker the acknowledgement reaches: nothing travels back.
            body["ack"] = [callback.name, list(callback.args)]
        elif callback is not None:
            if room is None:
                raise ValueError("Cannot use callback without a room set.")
            key = room if isinstance(room, str) else json.dumps(room)
            body["cb"] = [key, namespace, self._generate_ack_id(key, callback)]
            body["h"] = self.host_id
            self._remote_acks[key] = None  # forgotten oldest first, if never acknowledged
            if len(self._remote_acks) > MAX_REMOTE_ACKS:
                self.callbacks.pop(self._remote_acks.popitem(last=False)[0], None)
        self._send(channels, body)

    def _send(self, channels: list[str], body: dict[str, Any]) -> None:
        if not channels:
            return
        if len(channels) > 1:
            self._seq += 1
            body["id"] = f"{self.host_id}:{self._seq}"
        raw = self._raw(body)
        for ch in channels:
            self._publish(ch, raw)

    def _raw(self, body: dict[str, Any]) -> bytes:
        return self._mark + b"|" + json.dumps(body, separators=(",", ":")).encode()

    def _publish(self, channel: str, raw: bytes,
                 receivers: asyncio.Future[int] | None = None) -> None:
        """Publish in emit order: written at once while the publishing connection is open,
        else kept (up to MAX_BACKLOG) until it is; `receivers` gets the number of workers
        that received it. What cannot be published is dropped with a warning."""
        pub = self._pub
        try:
            if pub is not None:
                if pub.buffered < MAX_BUFFERED:
                    pub.write(command("SPUBLISH", channel, raw))
                    self._replies.append(receivers)
                    self.counters["published"] += 1
                    return
            elif len(self._backlog) < MAX_BACKLOG:
                self._backlog.append((channel, raw, receivers))
                return
        except ConnectionError:
            pass  # closed meanwhile: the publisher opens a new one
        self.counters["dropped"] += 1
        log.warning("socket.io events dropped: Redis is not keeping up or away")
        if receivers is not None and not receivers.done():
            receivers.set_exception(ConnectionError("not published"))

    async def _publisher(self) -> None:
        """Keep the publishing connection open: publish what waited meanwhile, then read the
        replies (each SPUBLISH's number of receivers) in order. Reconnects with backoff;
        what waits for a connection that cannot be opened is dropped with a warning."""
        delay = 0.2
        while True:
            try:
                pub = await RespConnection.open(self._pool)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - lives as long as the worker
                if self._backlog:
                    self.counters["dropped"] += len(self._backlog)
                    log.warning("socket.io events to other workers lost (%s)",
                                type(exc).__name__)
                    self._fail((receivers for *_, receivers in self._backlog), exc)
                    self._backlog.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.2
            self._pub = pub
            waiting, self._backlog = self._backlog, collections.deque()
            for channel, raw, receivers in waiting:
                self._publish(channel, raw, receivers)
            try:
                while True:
                    for reply in await pub.read():
                        receivers = self._replies.popleft() if self._replies else None
                        if isinstance(reply, Exception):
                            self.counters["dropped"] += 1
                            log.warning("socket.io event to other workers refused (%s)", reply)
                            if receivers is not None and not receivers.done():
                                receivers.set_exception(reply)
                        elif receivers is not None and not receivers.done():
                            receivers.set_result(int(reply))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - lives as long as the worker
                if self._replies:
                    log.warning("socket.io events to other workers may be lost (%s)",
                                type(exc).__name__)
                self._fail(self._replies, exc)
                self._replies.clear()
            finally:
                self._pub = None
                await pub.close()

    @staticmethod
    def _fail(waiting: Iterable[asyncio.Future[int] | None], exc: BaseException) -> None:
        """Those waiting for publishes that were not made learn it."""
        for receivers in waiting:
            if receivers is not None and not receivers.done():
                receivers.set_exception(ConnectionError(str(exc)))

    # -- subscriptions -------------------------------------------------------------------------

    async def _subscribe(self, channel: str) -> None:
        """Listen to a room's channel and learn who else holds it (holders.py); return once
        done, or after a bounded wait (until then every emit to the room is published)."""
        self.holders.want(channel)
        pubsub = self._pubsub
        if pubsub is None or not self.subscribed:
            return  # Redis is away: the listener subscribes to every wanted room when back
        waiter = self._expect(channel)
        if not self._listener_write("SSUBSCRIBE", channel):
            return  # closed meanwhile: the listener subscribes to it again when back
        await self._handshake(channel, waiter)
        if self._sparse(channel):
            await self._announce(channel)

    async def _announce(self, channel: str) -> None:
        """Tell every worker that this one holds a sparse room; return once all noted it (or
        after a bounded wait, logged: a worker that did not note it may not publish to it)."""
        if self._pubsub is None or not self.subscribed or channel not in self.holders.wanted:
            return
        shake = self.watch.announce()
        receivers: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._publish(self.sparse_channel,
                      self._raw({"m": "hold", "ch": channel, "n": shake.nonce}), receivers)
        try:
            self.watch.counted(shake, await asyncio.wait_for(asyncio.shield(receivers),
                                                             SUBSCRIBE_WAIT))
            await asyncio.wait_for(shake.done.wait(), SUBSCRIBE_WAIT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged; the room is held all the same
            log.warning("not every worker confirmed a watched room (%s)", type(exc).__name__)

    async def _roll_call(self, confirmations: list[asyncio.Future[None]]) -> None:
        """Learn which sparse rooms the other workers hold (holders.Watch); until every one
        answered, emits to sparse rooms are published. Tried again while answers are missing."""
        try:
            for waiter in confirmations:
                await asyncio.wait_for(asyncio.shield(waiter), SUBSCRIBE_WAIT)
        except TimeoutError:
            pass  # the roll call below fails too, and is tried again
        while self.subscribed and not self.watch.known:
            roll = self.watch.reset()
            receivers: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._publish(self.sparse_channel, self._raw({"m": "roll", "n": roll.nonce}),
                          receivers)
            try:
                self.watch.counted_roll(await asyncio.wait_for(asyncio.shield(receivers),
                                                               SUBSCRIBE_WAIT))
                await asyncio.wait_for(roll.done.wait(), SUBSCRIBE_WAIT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every emit to a sparse room is published
                log.info("watched rooms not known yet (%s)", type(exc).__name__)
                await asyncio.sleep(ROLL_RETRY)

    def _expect(self, channel: str) -> asyncio.Future[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(channel, collections.deque()).append(waiter)
        return waiter

    async def _handshake(self, channel: str, subscribed: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(subscribed), SUBSCRIBE_WAIT)
            if channel not in self.holders.wanted:
                return
            shake = self.holders.begin(channel)
            receivers: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._publish(channel, self._raw({"m": "hello", "n": shake.nonce}), receivers)
            self.holders.counted(channel, shake,
                                 await asyncio.wait_for(asyncio.shield(receivers), SUBSCRIBE_WAIT))
            await asyncio.wait_for(shake.done.wait(), SUBSCRIBE_WAIT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - not known: emits to the room are published
            log.info("room holders not known yet (%s)", type(exc).__name__)

    def _unsubscribe(self, channel: str) -> None:
        self.holders.drop(channel)
        if self._pubsub is not None:
            self._publish(channel, self._raw({"m": "bye"}))
            if self._sparse(channel):
                self._publish(self.sparse_channel, self._raw({"m": "release", "ch": channel}))
            self._listener_write("SUNSUBSCRIBE", channel)

    def _listener_write(self, *args: str) -> bool:
        """A (un)subscription on the listener's connection; False when it is not open (the
        listener subscribes to every wanted room when it is back)."""
        pubsub = self._pubsub
        if pubsub is None:
            return False
        try:
            pubsub.write(command(*args))
        except ConnectionError:
            return False
        return True

    def _confirmed(self, channel: str) -> None:
        waiters = self._pending.get(channel)
        if waiters:
            waiter = waiters.popleft()
            if not waiters:
                del self._pending[channel]
            if not waiter.done():
                waiter.set_result(None)

    def _release_waiters(self) -> None:
        for waiters in self._pending.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._pending.clear()

    # -- receiving -----------------------------------------------------------------------------

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            self.holders.reset()  # until shaken hands again, every emit is published
            pubsub: RespConnection | None = None
            try:
                pubsub = await RespConnection.open(self._pool)
                rooms = sorted(self.holders.wanted)
                waiters = [(room, self._expect(room)) for room in rooms]
                own = [self._expect(self.worker_channel), self._expect(self.sparse_channel)]
                pubsub.write(command("SSUBSCRIBE", self.worker_channel, self.all_channel,
                                     self.sparse_channel, *rooms))
                self._pubsub = pubsub
                subscribed_before, self.subscribed = self.subscribed, True
                self._chore(self._roll_call(own))
                for room, waiter in waiters:
                    self._chore(self._handshake(room, waiter))
                    if self._sparse(room):  # held while Redis was away: say so again
                        self._chore(self._announce(room))
                if not subscribed_before and delay > 0.2:
                    log.info("socket.io delivery between workers restored")
                delay = 0.2
                while True:
                    for message in await pubsub.read():
                        await self._handle_raw(pubsub, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener lives as long as the worker
                if self.subscribed:
                    log.warning("socket.io delivery between workers lost (%s); reconnecting",
                                type(exc).__name__)
                self.subscribed = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                self._pubsub = None
                self.watch.reset()  # what others hold is not followed while not listening
                self._release_waiters()
                if pubsub is not None:
                    await pubsub.close()

    async def _handle_raw(self, pubsub: RespConnection, message: Any) -> None:
        if isinstance(message, Exception):
            log.warning("Redis refused a subscription (%s)", message)
            return
        if not isinstance(message, list) or len(message) < 3:
            return
        kind = message[0]
        if kind in (b"smessage", "smessage"):
            data = message[2]
            if data[:HOST_LEN] == self._mark:
                return  # our own echo: delivered locally already
            self.counters["received"] += 1
            try:
                body = json.loads(data[HOST_LEN + 1:])
            except (TypeError, ValueError):
                return
            try:
                host = data[:HOST_LEN].decode()
                channel = message[1].decode() if isinstance(message[1], bytes) else message[1]
                if not self._membership(body, host, channel):
                    await self._handle(body)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("socket.io event from another worker failed")
        elif kind in (b"ssubscribe", "ssubscribe"):
            channel = message[1].decode() if isinstance(message[1], bytes) else message[1]
            self._confirmed(channel)
            if channel not in self.holders.wanted and channel not in (
                    self.worker_channel, self.all_channel, self.sparse_channel):
                # Left again while the subscription was on its way.
                with contextlib.suppress(ConnectionError):
                    pubsub.write(command("SUNSUBSCRIBE", channel))

    def _membership(self, body: dict[str, Any], host: str, channel: str) -> bool:
        """Handshake messages about who holds a room (holders.py); False for anything else."""
        method = body.get("m")
        if method == "hello":
            held = self.holders.hello(channel, host)
            self._send([self._channel_of_worker(host)],
                       {"m": "here", "ch": channel, "n": body.get("n"), "held": held})
        elif method == "here":
            self.holders.here(str(body.get("ch")), host, str(body.get("n")),
                              bool(body.get("held")))
        elif method == "bye":
            self.holders.bye(channel, host)
        elif method == "hold":
            self.watch.hold(str(body.get("ch")), host)
            self._send([self._channel_of_worker(host)], {"m": "noted", "n": body.get("n")})
        elif method == "release":
            self.watch.release(str(body.get("ch")), host)
        elif method == "roll":
            sparse = sorted(ch for ch in self.holders.wanted if self._sparse(ch))
            self._send([self._channel_of_worker(host)],
                       {"m": "holding", "n": body.get("n"), "chs": sparse})
        elif method == "noted":
            self.watch.noted(host, str(body.get("n")))
        elif method == "holding":
            chs = body.get("chs")
            self.watch.holding(host, str(body.get("n")),
                               [str(c) for c in chs] if isinstance(chs, list) else [])
        else:
            return False
        return True

    def _chore(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _handle(self, body: dict[str, Any]) -> None:
        method = body.get("m")
        ns = body.get("ns") or "/"
        if method == "emit":
            mid = body.get("id")
            if mid is not None:
                if mid in self._seen:
                    return  # another copy, for another of its rooms, came first
                self._seen[mid] = None
                if len(self._seen) > 4096:
                    self._seen.popitem(last=False)
            self.counters["decoded"] += 1
            callback = None
            cb, ack = body.get("cb"), body.get("ack")
            if isinstance(ack, list) and len(ack) == 2:
                callback = self.bind_ack(*ack)
            elif cb is not None and len(cb) == 3:
                callback = partial(self._return_callback, str(body.get("h")), *cb)
            args = body.get("a") or []
            data = args[0] if len(args) == 1 else tuple(args)
            await DirectManager.emit(self, body["e"], data, ns, room=body.get("r"),
                                     skip_sid=body.get("s"), callback=callback)
        elif method == "callback":
            await self.trigger_callback(body["sid"], body["id"], body.get("args") or [])
        elif method == "disconnect":
            await self.server.disconnect(sid=body.get("sid"), namespace=ns, ignore_queue=True)
        elif method == "enter_room":
            room = body.get("room")
            if self._local(body["sid"], ns) and isinstance(room, str):
                new = room not in self.rooms.get(ns, {})
                self.basic_enter_room(body["sid"], ns, room)
                if new:  # not waiting here: the confirmation comes through this very loop
                    self._chore(self._subscribe(self.room_channel(ns, room)))
        elif method == "leave_room":
            if self._local(body["sid"], ns):
                self.basic_leave_room(body["sid"], ns, body.get("room"))
        elif method == "close_room":
            self.basic_close_room(body.get("room"), ns)

    async def _return_callback(self, host: str, sid: str, namespace: str, callback_id: int,
                               *args: Any) -> None:
        """The recipient acknowledged: the acknowledgement goes back to the emitting worker."""
        if host == self.host_id:
            await self.trigger_callback(sid, callback_id, list(args))
            return
        self._send([self._channel_of_worker(host)],
                   {"m": "callback", "sid": sid, "ns": namespace, "id": callback_id,
                    "args": list(args)})
