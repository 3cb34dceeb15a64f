"""Live state in Redis, shared by every worker on every machine (`CHATSERVER_REDIS_URL`).

Each change is one Lua script, so two workers never pair the same chatter or overfill a volunteer.

Keys (all under the prefix, `cs:` by default; one Redis, not Redis Cluster: the scripts touch
keys they compute):
  conv:<id>            hash of a LiveConversation (absent fields are None); `topic` and
                       `address_hash` sealed (AES-GCM, bound to the conversation and field),
                       never in plaintext; the hash goes with the key when the conversation ends;
                       `ver` counts its changes, see the cache below
  convs                set of live conversation ids
  queue                sorted set of waiting conversation ids; score = arrival (front: min - 1)
  queue:seq            arrival counter
  vol:<id>             hash: available (0/1), capacity, idle_since
  active:<id>          list of a volunteer's conversation ids, oldest first
  available            set of available volunteer ids
  presence:<user>      hash: staff socket id -> worker id
  worker:<w>:staff     users with a socket on worker w (to clean up after it dies)
  alive:<w>            worker w's heartbeat, with a time-to-live
  workers              every worker that has beaten
  epoch                a random value set once; gone means Redis lost its data
  events               pub/sub channel of change notifications, and of `conv` changes
                       published by the scripts themselves (the cache's invalidations)

The conversation cache (`cached_conversation`, the chatter's hot path): each worker keeps the
conversations it read, drops one when any worker's script changes it (the `conv` notification
is published inside the script, atomically with the change), and drops them all whenever it may
have missed one (pub/sub is at-most-once): while its listener is not subscribed, after a
reconnect, when Redis is unreachable, when Redis lost its data. A read that races an
invalidation is not cached. `conversation` always reads Redis (and refreshes the cache);
`current_conversation` (the volunteer's message) checks the cached copy's `ver` against Redis
(one HGET, no invalidation needed to be right) and reads it all when it differs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from chatserver.live.base import (
    Heartbeat,
    Listener,
    LiveConversation,
    LiveUnavailable,
    Pairing,
    Released,
)
from chatserver.live.redis_scripts import (
    ADD,
    HEARTBEAT,
    PAIR,
    RELEASE_CHATTER,
    RELEASE_WORKER,
    REMOVE,
    REQUEUE,
    SET_AVAILABLE,
    SET_UNAVAILABLE,
    STAFF_LEFT,
    STAFF_PRESENT,
    UPDATE,
)
from chatserver.store.sealing import Sealer, SealError

log = logging.getLogger(__name__)

T = TypeVar("T")
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

_INT_FIELDS = ("contact_count", "delivered_seq", "age")
# Fields that say something about the young person: sealed before they reach Redis (issue #16).
SEALED = frozenset({"topic", "address_hash"})
_STR_FIELDS = ("id", "alias", "address_hash", "started_at", "topic", "volunteer_id",
               "chatter_sid", "chatter_worker")


def _encode(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _context(conversation_id: str, name: str) -> str:
    return f"live:{conversation_id}:{name}"


def _fields(conv: LiveConversation, sealer: Sealer) -> list[str]:
    out: list[str] = []
    for name, value in vars(conv).items():
        if value is None or (name == "extra" and not value):
            continue
        text = _encode(value)
        if name in SEALED:
            if not text:
                continue
            text = sealer.seal(text, _context(conv.id, name))
        out += [name, text]
    return out


def _decode(flat: Any, sealer: Sealer | _Opened) -> LiveConversation | None:
    h = flat if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=True))
    if not h:
        return None
    for name in SEALED & h.keys():
        try:
            h[name] = sealer.open(h[name], _context(h.get("id", ""), name))
        except (SealError, ValueError):
            log.warning("live conversation field %s does not open; dropped", name)
            del h[name]
    values: dict[str, Any] = {k: h[k] for k in _STR_FIELDS if k in h}
    for k in _INT_FIELDS:
        if k in h:
            values[k] = int(h[k])
    values["extra"] = json.loads(h["extra"]) if "extra" in h else {}
    values.setdefault("address_hash", "")
    values.setdefault("contact_count", 0)
    return LiveConversation(**values)


class _Opened:
    """The sealed fields of live conversations, opened once: every message reads its
    conversation, and the sealed values of a conversation do not change while it lasts.
    Keyed by value and context (the context is bound into the seal); bounded."""

    def __init__(self, sealer: Sealer, size: int = 20_000) -> None:
        self.sealer = sealer
        self.size = size
        self._plain: collections.OrderedDict[tuple[str, str], str] = collections.OrderedDict()

    def seal(self, text: str, context: str) -> str:
        return self.sealer.seal(text, context)

    def open(self, sealed: str, context: str) -> str:
        key = (sealed, context)
        plain = self._plain.get(key)
        if plain is None:
            plain = self._plain[key] = self.sealer.open(sealed, context)
            if len(self._plain) > self.size:
                self._plain.popitem(last=False)
        return plain


def _copy(conv: LiveConversation) -> LiveConversation:
    """A copy of its fields (dataclasses.replace runs __init__ through introspection: a few
    microseconds per message on the chatter's path)."""
    new = object.__new__(LiveConversation)
    new.__dict__.update(conv.__dict__)
    new.extra = dict(conv.extra)
    return new


class _Cache:
    """This worker's copies of live conversations, each with the `ver` it was read at; bounded,
    each entry trusted for `max_age` seconds at most (a bound on any staleness we did not
    foresee). `generation` changes with every invalidation, so a read that overlapped one is
    not stored."""

    def __init__(self, size: int = 20_000, max_age: float = 30.0) -> None:
        self.size = size
        self.max_age = max_age
        self.generation = 0
        self._items: collections.OrderedDict[str, tuple[LiveConversation, int, float]] = (
            collections.OrderedDict())

    def get(self, conversation_id: str) -> LiveConversation | None:
        item = self._items.get(conversation_id)
        if item is None:
            return None
        if time.monotonic() - item[2] > self.max_age:
            del self._items[conversation_id]
            return None
        # A copy: a caller that changes it must not change the cache.
        return _copy(item[0])

    def entry(self, conversation_id: str) -> tuple[LiveConversation, int] | None:
        """A copy of the cached conversation with the version it was read at."""
        conv = self.get(conversation_id)
        return None if conv is None else (conv, self._items[conversation_id][1])

    def put(self, conv: LiveConversation, version: int, generation: int) -> None:
        if generation != self.generation:
            return  # an invalidation arrived while it was read: it may be stale already
        item = self._items.get(conv.id)
        if item is not None and item[1] > version:
            return
        self._items[conv.id] = (_copy(conv), version, time.monotonic())
        self._items.move_to_end(conv.id)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def drop(self, conversation_id: str) -> None:
        self.generation += 1
        self._items.pop(conversation_id, None)

    def clear(self) -> None:
        self.generation += 1
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class RedisLiveState:
    """`LiveState` over one Redis (TLS with `rediss://`); every worker shares it."""

    def __init__(self, url: str, *, prefix: str = "cs:", heartbeat_ttl: float = 6.0,
                 client: aioredis.Redis | None = None, sealer: Sealer | None = None) -> None:
        self.url = url
        # Workers must share the data keys (`CHATSERVER_DATA_KEY`) to read each other's topics;
        # without a sealer this instance seals under a key of its own that nobody else has.
        self.sealer = sealer or Sealer((("live", os.urandom(32)),))
        self._opened = _Opened(self.sealer)
        self.cache = _Cache()
        self.prefix = prefix
        self.worker_id = uuid.uuid4().hex[:12]
        self.heartbeat_ttl = heartbeat_ttl
        # Fail fast while Redis is away: the client gets `unavailable` rather than a long wait.
        # A pool that makes a burst wait for a free connection (at most the socket timeout):
        # the default one refuses the 101st concurrent call at once (MaxConnectionsError),
        # which under load turned acknowledgements into `unavailable`.
        self.redis = client or aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, decode_responses=True, socket_connect_timeout=2,
            socket_timeout=5, retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
            health_check_interval=10,
        ))
        self._scripts = {
            name: self.redis.register_script(src)
            for name, src in [
                ("pair", PAIR), ("add", ADD), ("update", UPDATE), ("requeue", REQUEUE),
                ("release_chatter", RELEASE_CHATTER),
                ("remove", REMOVE), ("set_available", SET_AVAILABLE),
                ("set_unavailable", SET_UNAVAILABLE), ("staff_left", STAFF_LEFT),
                ("staff_present", STAFF_PRESENT), ("heartbeat", HEARTBEAT),
                ("release_worker", RELEASE_WORKER),
            ]
        }
        self._epoch: str | None = None
        self._listeners: list[Listener] = []
        self._listener_task: asyncio.Task[None] | None = None
        self.subscribed = False
        self.channel = prefix + "events"

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except DOWN as exc:
            log.warning("redis unavailable: %s", type(exc).__name__)
            self.cache.clear()  # invalidations may be lost with the connection
            raise LiveUnavailable() from exc

    async def _script(self, name: str, *args: object) -> Any:
        script = self._scripts[name]
        return await self._run(lambda: script(args=[self.prefix, *[_encode(a) for a in args]]))

    async def start(self) -> None:
        if self._listener_task is None:
            self._listener_task = asyncio.create_task(self._listen(), name="live-listener")

    async def close(self) -> None:
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
            self._listener_task = None
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    async def ping(self) -> bool:
        try:
            await self.redis.ping()
        except Exception:  # noqa: BLE001 - health reports, never raises
            return False
        return self._listener_task is None or self.subscribed

    # -- conversations and the queue -----------------------------------------------------------

    async def add_conversation(self, conv: LiveConversation, *, queue: bool,
                               front: bool = False) -> int:
        return int(await self._script("add", conv.id, int(queue), int(front),
                                      conv.volunteer_id or "", *_fields(conv, self.sealer)))

    async def conversation(self, conversation_id: str) -> LiveConversation | None:
        generation = self.cache.generation
        h = await self._run(lambda: self.redis.hgetall(self.prefix + "conv:" + conversation_id))
        conv = _decode(h, self._opened)
        if conv is not None and self.subscribed:
            self.cache.put(conv, int(h.get("ver") or 0), generation)
        return conv

    async def cached_conversation(self, conversation_id: str) -> LiveConversation | None:
        if self.subscribed:
            conv = self.cache.get(conversation_id)
            if conv is not None:
                return conv
        return await self.conversation(conversation_id)

    async def current_conversation(self, conversation_id: str) -> LiveConversation | None:
        # A cached copy is current when its version still is: one small HGET instead of an
        # HGETALL (whose reply parsing is most of the cost of a read in redis-py).
        entry = self.cache.entry(conversation_id) if self.subscribed else None
        if entry is not None:
            key = self.prefix + "conv:" + conversation_id
            version = await self._run(lambda: self.redis.hget(key, "ver"))
            if version is not None and int(version) == entry[1]:
                return entry[0]
        return await self.conversation(conversation_id)

    async def _change(self, conversation_id: str, script: str, *args: object) -> Any:
        """Run a script that changes the conversation, with this worker's cached copy dropped
        before and after (a read racing the script must not put the old version back)."""
        self.cache.drop(conversation_id)
        try:
            return await self._script(script, conversation_id, *args)
        finally:
            self.cache.drop(conversation_id)

    async def update(self, conversation_id: str, **values: object) -> None:
        sets = [(k, self.sealer.seal(_encode(v), _context(conversation_id, k)) if k in SEALED
                 else v) for k, v in values.items() if v is not None]
        dels = [k for k, v in values.items() if v is None]
        flat = [x for k, v in sets for x in (k, v)]
        await self._change(conversation_id, "update", len(sets), *flat, *dels)

    async def release_chatter(self, conversation_id: str, sid: str) -> bool:
        return bool(await self._change(conversation_id, "release_chatter", sid))

    async def requeue(self, conversation_id: str) -> int:
        return int(await self._change(conversation_id, "requeue"))

    async def remove(self, conversation_id: str, now: float) -> LiveConversation | None:
        return _decode(await self._change(conversation_id, "remove", float(now)), self._opened)

    async def queue(self) -> list[str]:
        ids = await self._run(lambda: self.redis.zrange(self.prefix + "queue", 0, -1))
        return [str(i) for i in ids]

    async def conversations(self) -> list[LiveConversation]:
        async def read() -> list[Any]:
            ids = await self.redis.smembers(self.prefix + "convs")
            pipe = self.redis.pipeline(transaction=False)
            for cid in ids:
                pipe.hgetall(self.prefix + "conv:" + str(cid))
            return list(await pipe.execute())

        decoded = (_decode(h, self._opened) for h in await self._run(read))
        return [c for c in decoded if c is not None]

    # -- volunteers ----------------------------------------------------------------------------

    async def set_available(self, volunteer_id: str, capacity: int, now: float) -> None:
        await self._script("set_available", volunteer_id, int(capacity), float(now))

    async def set_unavailable(self, volunteer_id: str) -> None:
        await self._script("set_unavailable", volunteer_id)

    async def volunteer(self, volunteer_id: str) -> tuple[bool, int, list[str]]:
        async def read() -> list[Any]:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hmget(self.prefix + "vol:" + volunteer_id, "available", "capacity")
            pipe.lrange(self.prefix + "active:" + volunteer_id, 0, -1)
            return list(await pipe.execute())

        (available, capacity), active = await self._run(read)
        if available is None and capacity is None and not active:
            return False, 0, []
        return available == "1", int(capacity or 1), list(active)

    async def pair(self, now: float) -> list[Pairing]:
        flat = await self._script("pair", float(now))
        pairings = [Pairing(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        for p in pairings:
            self.cache.drop(p.conversation_id)
        return pairings

    # -- presence ------------------------------------------------------------------------------

    async def staff_joined(self, staff_id: str, sid: str) -> None:
        async def write() -> None:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(self.prefix + "presence:" + staff_id, sid, self.worker_id)
            pipe.sadd(self.prefix + "worker:" + self.worker_id + ":staff", staff_id)
            await pipe.execute()

        await self._run(write)

    async def staff_left(self, staff_id: str, sid: str) -> int:
        return int(await self._script("staff_left", staff_id, sid))

    async def staff_present(self, staff_id: str) -> int:
        return int(await self._script("staff_present", staff_id))

    # -- workers -------------------------------------------------------------------------------

    async def heartbeat(self) -> Heartbeat:
        epoch, dead = await self._script(
            "heartbeat", self.worker_id, int(self.heartbeat_ttl * 1000), uuid.uuid4().hex
        )
        reset = self._epoch is not None and epoch != self._epoch
        self._epoch = epoch
        if reset:
            self.cache.clear()
        return Heartbeat(dead_workers=list(dead), reset=reset)

    async def release_worker(self, worker_id: str) -> Released:
        convs, vols = await self._script("release_worker", worker_id)
        for cid in convs:
            self.cache.drop(cid)
        return Released(conversations=list(convs), volunteers=list(vols))

    # -- notifications -------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def _deliver(self, kind: str, data: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                await listener(kind, data)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("listener of %s failed", kind)

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        await self._deliver(kind, data)
        message = json.dumps({"w": self.worker_id, "k": kind, "d": data})
        await self._run(lambda: self.redis.publish(self.channel, message))

    async def _confirmed(self, pubsub: Any) -> None:
        """Wait until Redis confirms the subscription: changes from then on are heard."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while loop.time() < deadline:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "subscribe":
                return
        raise RedisTimeoutError("no subscription confirmation")

    async def _listen(self) -> None:
        """Deliver other workers' notifications; reconnect with backoff when Redis goes away.

        Pub/sub is at-most-once: after a reconnect, listeners get `resync` to re-read state."""
        delay = 0.2
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._confirmed(pubsub)
                self.cache.clear()  # what changed before the subscription was not heard
                if not self.subscribed and delay > 0.2:
                    await self._deliver("resync", {})
                self.subscribed = True
                delay = 0.2
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        body = json.loads(message["data"])
                    except (TypeError, ValueError):
                        continue
                    if body.get("k") == "conv":
                        self.cache.drop(str((body.get("d") or {}).get("id")))
                    elif body.get("w") != self.worker_id:
                        await self._deliver(str(body.get("k")), dict(body.get("d") or {}))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener lives as long as the worker
                if self.subscribed:
                    log.warning("live notifications lost (%s); reconnecting", type(exc).__name__)
                self.subscribed = False
                self.cache.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
