"""Live state in Redis, shared by every worker on every machine (`CHATSERVER_REDIS_URL`).

Each change is one Lua script, so two workers never pair the same chatter or overfill a volunteer.

Keys (all under the prefix, `cs:` by default; one Redis, not Redis Cluster: the scripts touch
keys they compute):
  conv:<id>            hash of a LiveConversation (absent fields are None)
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
  events               pub/sub channel of change notifications
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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

log = logging.getLogger(__name__)

T = TypeVar("T")
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

FRONT_SCORE = """
local function front_score(p, cid)
  local head = redis.call('ZRANGE', p .. 'queue', 0, 0, 'WITHSCORES')
  if #head > 0 then
    if head[1] == cid then return tonumber(head[2]) end
    return tonumber(head[2]) - 1
  end
  return redis.call('INCR', p .. 'queue:seq')
end
"""

ADD = FRONT_SCORE + """
local p, cid, queue, front, vid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ck = p .. 'conv:' .. cid
if redis.call('EXISTS', ck) == 0 then
  local fields = {}
  for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', ck, unpack(fields))
  redis.call('SADD', p .. 'convs', cid)
  if vid ~= '' then
    local ak = p .. 'active:' .. vid
    if not redis.call('LPOS', ak, cid) then redis.call('RPUSH', ak, cid) end
  end
  if queue == '1' then
    local score
    if front == '1' then score = front_score(p, cid)
    else score = redis.call('INCR', p .. 'queue:seq') end
    redis.call('ZADD', p .. 'queue', score, cid)
  end
end
local rank = redis.call('ZRANK', p .. 'queue', cid)
if rank then return rank + 1 end
return 0
"""

UPDATE = """
local ck = ARGV[1] .. 'conv:' .. ARGV[2]
if redis.call('EXISTS', ck) == 0 then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then
  local f = {}
  for j = 1, 2 * n do f[j] = ARGV[3 + j] end
  redis.call('HSET', ck, unpack(f))
end
for j = 4 + 2 * n, #ARGV do redis.call('HDEL', ck, ARGV[j]) end
return 1
"""

REQUEUE = FRONT_SCORE + """
local p, cid = ARGV[1], ARGV[2]
local ck = p .. 'conv:' .. cid
if redis.call('EXISTS', ck) == 0 then return 0 end
local vid = redis.call('HGET', ck, 'volunteer_id')
if vid then
  redis.call('LREM', p .. 'active:' .. vid, 0, cid)
  redis.call('HDEL', ck, 'volunteer_id')
end
redis.call('ZADD', p .. 'queue', front_score(p, cid), cid)
return 1
"""

REMOVE = """
local p, cid, now = ARGV[1], ARGV[2], ARGV[3]
local ck = p .. 'conv:' .. cid
local h = redis.call('HGETALL', ck)
redis.call('ZREM', p .. 'queue', cid)
if #h == 0 then return h end
redis.call('DEL', ck)
redis.call('SREM', p .. 'convs', cid)
for i = 1, #h, 2 do
  if h[i] == 'volunteer_id' then
    if redis.call('LREM', p .. 'active:' .. h[i + 1], 0, cid) > 0 then
      redis.call('HSET', p .. 'vol:' .. h[i + 1], 'idle_since', now)
    end
  end
end
return h
"""

SET_AVAILABLE = """
local p, vid, capacity, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local vk = p .. 'vol:' .. vid
if redis.call('HGET', vk, 'available') ~= '1' then redis.call('HSET', vk, 'idle_since', now) end
redis.call('HSET', vk, 'available', '1', 'capacity', capacity)
redis.call('SADD', p .. 'available', vid)
return 1
"""

SET_UNAVAILABLE = """
local p, vid = ARGV[1], ARGV[2]
redis.call('HSET', p .. 'vol:' .. vid, 'available', '0')
redis.call('SREM', p .. 'available', vid)
return 1
"""

COUNT_ALIVE = """
local function count_alive(p, pk)
  local h = redis.call('HGETALL', pk)
  local n = 0
  for i = 1, #h, 2 do
    if redis.call('EXISTS', p .. 'alive:' .. h[i + 1]) == 1 then n = n + 1 end
  end
  return n
end
"""

# Mirrors pairing.choose_volunteer (fewest active, then idle longest, then id) inside Redis;
# the contract suite checks that both backends choose alike. A volunteer with no socket on a
# live worker (in their grace period) gets nobody new.
PAIR = COUNT_ALIVE + """
local p, now = ARGV[1], ARGV[2]
local qk = p .. 'queue'
local out = {}
while true do
  local head = redis.call('ZRANGE', qk, 0, 0)
  if #head == 0 then break end
  local cid = head[1]
  if redis.call('EXISTS', p .. 'conv:' .. cid) == 0 then
    redis.call('ZREM', qk, cid)
  else
    local best, bact, bidle = nil, 0, 0
    for _, vid in ipairs(redis.call('SMEMBERS', p .. 'available')) do
      local v = redis.call('HMGET', p .. 'vol:' .. vid, 'capacity', 'idle_since')
      local cap = tonumber(v[1]) or 1
      local idle = tonumber(v[2]) or 0
      local act = redis.call('LLEN', p .. 'active:' .. vid)
      if act < cap and count_alive(p, p .. 'presence:' .. vid) > 0 and (best == nil or act < bact or (act == bact and
          (idle < bidle or (idle == bidle and vid < best)))) then
        best, bact, bidle = vid, act, idle
      end
    end
    if best == nil then break end
    redis.call('ZREM', qk, cid)
    redis.call('RPUSH', p .. 'active:' .. best, cid)
    redis.call('HSET', p .. 'vol:' .. best, 'idle_since', now)
    redis.call('HSET', p .. 'conv:' .. cid, 'volunteer_id', best)
    out[#out + 1] = cid
    out[#out + 1] = best
  end
end
return out
"""

STAFF_LEFT = COUNT_ALIVE + """
local pk = ARGV[1] .. 'presence:' .. ARGV[2]
redis.call('HDEL', pk, ARGV[3])
return count_alive(ARGV[1], pk)
"""

STAFF_PRESENT = COUNT_ALIVE + """
return count_alive(ARGV[1], ARGV[1] .. 'presence:' .. ARGV[2])
"""

HEARTBEAT = """
local p, wid, ttl, candidate = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', p .. 'alive:' .. wid, '1', 'PX', ttl)
redis.call('SADD', p .. 'workers', wid)
local epoch = redis.call('GET', p .. 'epoch')
if not epoch then
  redis.call('SET', p .. 'epoch', candidate)
  epoch = candidate
end
local dead = {}
for _, w in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  if redis.call('EXISTS', p .. 'alive:' .. w) == 0 then
    redis.call('SREM', p .. 'workers', w)
    dead[#dead + 1] = w
  end
end
return {epoch, dead}
"""

RELEASE_WORKER = """
local p, wid = ARGV[1], ARGV[2]
local convs = {}
for _, cid in ipairs(redis.call('SMEMBERS', p .. 'convs')) do
  local ck = p .. 'conv:' .. cid
  if redis.call('HGET', ck, 'chatter_worker') == wid then
    redis.call('HDEL', ck, 'chatter_sid', 'chatter_worker')
    convs[#convs + 1] = cid
  end
end
local vols = {}
local sk = p .. 'worker:' .. wid .. ':staff'
for _, uid in ipairs(redis.call('SMEMBERS', sk)) do
  local pk = p .. 'presence:' .. uid
  local h = redis.call('HGETALL', pk)
  local alive = 0
  for i = 1, #h, 2 do
    if h[i + 1] == wid then redis.call('HDEL', pk, h[i])
    elseif redis.call('EXISTS', p .. 'alive:' .. h[i + 1]) == 1 then alive = alive + 1 end
  end
  if alive == 0 then vols[#vols + 1] = uid end
end
redis.call('DEL', sk)
return {convs, vols}
"""

_INT_FIELDS = ("contact_count", "delivered_seq", "age")
_STR_FIELDS = ("id", "alias", "address_hash", "started_at", "topic", "volunteer_id",
               "chatter_sid", "chatter_worker")


def _encode(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _fields(conv: LiveConversation) -> list[str]:
    out: list[str] = []
    for name, value in vars(conv).items():
        if value is None or (name == "extra" and not value):
            continue
        out += [name, _encode(value)]
    return out


def _decode(flat: Any) -> LiveConversation | None:
    h = flat if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=True))
    if not h:
        return None
    values: dict[str, Any] = {k: h[k] for k in _STR_FIELDS if k in h}
    for k in _INT_FIELDS:
        if k in h:
            values[k] = int(h[k])
    values["extra"] = json.loads(h["extra"]) if "extra" in h else {}
    values.setdefault("address_hash", "")
    values.setdefault("contact_count", 0)
    return LiveConversation(**values)


class RedisLiveState:
    """`LiveState` over one Redis (TLS with `rediss://`); every worker shares it."""

    def __init__(self, url: str, *, prefix: str = "cs:", heartbeat_ttl: float = 6.0,
                 client: aioredis.Redis | None = None) -> None:
        self.url = url
        self.prefix = prefix
        self.worker_id = uuid.uuid4().hex[:12]
        self.heartbeat_ttl = heartbeat_ttl
        # Fail fast while Redis is away: the client gets `unavailable` rather than a long wait.
        self.redis = client or aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2), health_check_interval=10,
        )
        self._scripts = {
            name: self.redis.register_script(src)
            for name, src in [
                ("pair", PAIR), ("add", ADD), ("update", UPDATE), ("requeue", REQUEUE),
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
                                      conv.volunteer_id or "", *_fields(conv)))

    async def conversation(self, conversation_id: str) -> LiveConversation | None:
        h = await self._run(lambda: self.redis.hgetall(self.prefix + "conv:" + conversation_id))
        return _decode(h)

    async def update(self, conversation_id: str, **values: object) -> None:
        sets = [(k, v) for k, v in values.items() if v is not None]
        dels = [k for k, v in values.items() if v is None]
        flat = [x for k, v in sets for x in (k, v)]
        await self._script("update", conversation_id, len(sets), *flat, *dels)

    async def requeue(self, conversation_id: str) -> int:
        return int(await self._script("requeue", conversation_id))

    async def remove(self, conversation_id: str, now: float) -> LiveConversation | None:
        return _decode(await self._script("remove", conversation_id, float(now)))

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

        return [c for c in map(_decode, await self._run(read)) if c is not None]

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
        return [Pairing(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    # -- presence ------------------------------------------------------------------------------

    async def staff_joined(self, user_id: str, sid: str) -> None:
        async def write() -> None:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(self.prefix + "presence:" + user_id, sid, self.worker_id)
            pipe.sadd(self.prefix + "worker:" + self.worker_id + ":staff", user_id)
            await pipe.execute()

        await self._run(write)

    async def staff_left(self, user_id: str, sid: str) -> int:
        return int(await self._script("staff_left", user_id, sid))

    async def staff_present(self, user_id: str) -> int:
        return int(await self._script("staff_present", user_id))

    # -- workers -------------------------------------------------------------------------------

    async def heartbeat(self) -> Heartbeat:
        epoch, dead = await self._script(
            "heartbeat", self.worker_id, int(self.heartbeat_ttl * 1000), uuid.uuid4().hex
        )
        reset = self._epoch is not None and epoch != self._epoch
        self._epoch = epoch
        return Heartbeat(dead_workers=list(dead), reset=reset)

    async def release_worker(self, worker_id: str) -> Released:
        convs, vols = await self._script("release_worker", worker_id)
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

    async def _listen(self) -> None:
        """Deliver other workers' notifications; reconnect with backoff when Redis goes away.

        Pub/sub is at-most-once: after a reconnect, listeners get `resync` to re-read state."""
        delay = 0.2
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
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
                    if body.get("w") != self.worker_id:
                        await self._deliver(str(body.get("k")), dict(body.get("d") or {}))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener lives as long as the worker
                if self.subscribed:
                    log.warning("live notifications lost (%s); reconnecting", type(exc).__name__)
                self.subscribed = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
