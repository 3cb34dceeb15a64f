"""What a copy of Redis reveals about a young person: no topic, no address hash (issue #16.6).

Read the raw keys the way someone with access to the Redis (or its RDB/AOF files) would."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chatserver.app import build_live
from chatserver.config import Settings
from chatserver.live import LiveConversation
from chatserver.live.redis import RedisLiveState
from chatserver.store.sealing import Sealer
from tests.live.redis_server import RedisServer

TOPIC = "Pesten op school"
HASH = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def everything(raw: aioredis.Redis, prefix: str) -> str:
    """Every key and every value under the prefix, as one text."""
    out: list[str] = []
    async for key in raw.scan_iter(match=prefix + "*"):
        out.append(key)
        kind = await raw.type(key)
        if kind == "hash":
            out += [f"{k}={v}" for k, v in (await raw.hgetall(key)).items()]
        elif kind == "string":
            out.append(str(await raw.get(key)))
        elif kind == "set":
            out += list(await raw.smembers(key))
        elif kind == "list":
            out += list(await raw.lrange(key, 0, -1))
        elif kind == "zset":
            out += list(await raw.zrange(key, 0, -1))
    return "\n".join(out)


def chatter(cid: str) -> LiveConversation:
    return LiveConversation(id=cid, alias="Vos", address_hash=HASH, contact_count=2,
                            started_at="2026-01-01T00:00:00.000Z", age=15, topic=TOPIC,
                            chatter_sid="sid-1", chatter_worker="w1")


async def test_topic_and_address_hash_are_sealed_in_redis(redis_server: RedisServer,
                                                          raw: aioredis.Redis) -> None:
    prefix = f"p{uuid.uuid4().hex[:8]}:"
    sealer = Sealer((("k1", os.urandom(32)),))
    a = RedisLiveState(redis_server.url, prefix=prefix, sealer=sealer)
    b = RedisLiveState(redis_server.url, prefix=prefix, sealer=sealer)  # another worker
    try:
        await a.add_conversation(chatter("c1"), queue=True)
        await a.update("c1", topic="Thuis", address_hash=HASH + "ff")
        await a.add_conversation(chatter("c2"), queue=True)
        dump = await everything(raw, prefix)
        assert "c1" in dump and "Vos" in dump  # the dump does see the conversations
        for secret in (TOPIC, "Thuis", HASH, "Pesten"):
            assert secret not in dump
        assert (await raw.hget(prefix + "conv:c1", "topic") or "").startswith("g1:k1:")

        # Every worker holding the data keys reads them back; the sealed value is bound to
        # its conversation and field (copied into another conversation it does not open).
        found = await b.conversation("c1")
        assert found is not None and found.topic == "Thuis" and found.address_hash == HASH + "ff"
        assert [c.topic for c in sorted(await b.conversations(), key=lambda c: c.id)] == [
            "Thuis", TOPIC]
        await raw.hset(prefix + "conv:c2", "topic",
                       str(await raw.hget(prefix + "conv:c1", "topic")))
        moved = await b.conversation("c2")
        assert moved is not None and moved.topic is None

        # Ended: nothing of the address hash stays behind.
        removed = await b.remove("c1", now=1.0)
        assert removed is not None and removed.address_hash == HASH + "ff"
        await b.remove("c2", now=1.0)
        assert await raw.exists(prefix + "conv:c1", prefix + "conv:c2") == 0
    finally:
        await a.close()
        await b.close()


async def test_the_app_seals_live_state_under_the_shared_data_keys(
        redis_server: RedisServer, raw: aioredis.Redis, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://",
                        redis_url=redis_server.url, ip_hash_key=b"i" * 32, secret_key=b"s" * 32,
                        data_keys=(("k1", os.urandom(32)),))
    one = build_live(settings)
    two = build_live(settings)
    assert isinstance(one, RedisLiveState) and isinstance(two, RedisLiveState)
    cid = f"app-{uuid.uuid4().hex[:8]}"
    try:
        await one.add_conversation(chatter(cid), queue=False)
        stored = await raw.hgetall("cs:conv:" + cid)
        assert stored["topic"] != TOPIC and stored["address_hash"] != HASH
        found = await two.conversation(cid)
        assert found is not None and (found.topic, found.address_hash) == (TOPIC, HASH)
    finally:
        await one.remove(cid, now=1.0)
        await one.close()
        await two.close()
