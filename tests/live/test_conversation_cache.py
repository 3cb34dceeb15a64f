"""The per-worker cache of live conversations on Redis (issue #17): invalidated by the change
scripts' own notification, versioned, and dropped whenever an invalidation may be lost."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatserver.live import LiveConversation
from chatserver.live.redis import RedisLiveState
from chatserver.store.sealing import Sealer
from tests.harness.waiting import eventually
from tests.live.redis_server import RedisServer


def conv(cid: str, **kw: Any) -> LiveConversation:
    return LiveConversation(id=cid, alias="a", address_hash="h", contact_count=0,
                            started_at="2026-01-01T00:00:00.000Z", topic="school", **kw)


@pytest.fixture
async def two(redis_server: RedisServer) -> AsyncIterator[tuple[RedisLiveState, RedisLiveState]]:
    prefix = f"c{uuid.uuid4().hex[:8]}:"
    sealer = Sealer((("k1", os.urandom(32)),))
    a = RedisLiveState(redis_server.url, prefix=prefix, sealer=sealer)
    b = RedisLiveState(redis_server.url, prefix=prefix, sealer=sealer)
    await a.start()
    await b.start()
    await eventually(lambda: a.subscribed and b.subscribed, within=5, what="subscribed")
    yield a, b
    await a.close()
    await b.close()


def counting(state: RedisLiveState) -> list[str]:
    """Records every HGETALL the state sends (its conversation reads)."""
    calls: list[str] = []
    real = state.redis.hgetall

    def hgetall(key: str) -> Any:
        calls.append(key)
        return real(key)

    state.redis.hgetall = hgetall  # type: ignore[method-assign, assignment]
    return calls


async def version(state: RedisLiveState, cid: str) -> int:
    return int(await state.redis.hget(state.prefix + "conv:" + cid, "ver") or 0)


async def test_a_cached_read_costs_no_round_trip_until_a_change_invalidates_it(
        two: tuple[RedisLiveState, RedisLiveState]) -> None:
    a, b = two
    await a.add_conversation(conv("c1", chatter_sid="s1"), queue=True)
    reads = counting(b)
    for _ in range(5):
        got = await b.cached_conversation("c1")
        assert got is not None and got.chatter_sid == "s1" and got.topic == "school"
    assert len(reads) == 1
    assert got is not None
    got.extra["changed"] = "by the caller"  # a copy: the cache is not changed through it
    assert (await b.cached_conversation("c1")).extra == {}  # type: ignore[union-attr]

    await a.update("c1", chatter_sid="s2")
    await eventually(lambda: len(b.cache) == 0, within=2, what="b's copy dropped")
    assert (await b.cached_conversation("c1")).chatter_sid == "s2"  # type: ignore[union-attr]
    assert len(reads) == 2


async def test_every_change_raises_the_version(
        two: tuple[RedisLiveState, RedisLiveState]) -> None:
    a, b = two
    await a.add_conversation(conv("c1"), queue=True)
    start = await version(a, "c1")
    assert start > 10**15  # from the clock: never repeated after Redis lost its data
    await a.update("c1", chatter_sid="s1")
    assert await version(a, "c1") == start + 1
    await a.heartbeat()
    await a.staff_joined("v1", "sv")
    await a.set_available("v1", 1, now=1.0)
    assert await a.pair(now=2.0)
    assert await version(a, "c1") == start + 2
    await a.requeue("c1")
    assert await version(a, "c1") == start + 3
    await a.remove("c1", now=3.0)
    assert await version(a, "c1") == 0  # gone with the hash
    await eventually(lambda: len(b.cache) == 0, within=2, what="b's copy dropped")


async def test_the_current_read_sees_another_workers_change_without_its_invalidation(
        two: tuple[RedisLiveState, RedisLiveState]) -> None:
    a, b = two
    await a.add_conversation(conv("c1", chatter_sid="s1"), queue=True)
    await a.add_conversation(conv("c2"), queue=True)
    assert (await b.current_conversation("c1")).chatter_sid == "s1"  # type: ignore[union-attr]
    await b.current_conversation("c2")
    b.cache.drop = lambda conversation_id: None  # type: ignore[method-assign]  # all lost
    reads = counting(b)
    got = await b.current_conversation("c1")  # unchanged: one HGET of `ver`, no HGETALL
    assert got is not None and got.chatter_sid == "s1" and got.topic == "school"
    assert reads == []

    await a.update("c1", chatter_sid="s2")  # resume's socket switch, on worker a
    assert (await b.cached_conversation("c1")).chatter_sid == "s1"  # type: ignore[union-attr]
    assert (await b.current_conversation("c1")).chatter_sid == "s2"  # type: ignore[union-attr]
    await a.remove("c2", now=1.0)  # the end, on worker a
    assert await b.cached_conversation("c2") is not None  # the cache alone would miss it
    assert await b.current_conversation("c2") is None


async def test_a_read_that_overlaps_an_invalidation_is_not_cached(
        two: tuple[RedisLiveState, RedisLiveState]) -> None:
    _, b = two
    await b.add_conversation(conv("c1"), queue=True)
    real = b.redis.hgetall

    async def racing(key: str) -> Any:
        h = await real(key)
        b.cache.drop("c1")  # the invalidation of a change made just after the read
        return h

    b.redis.hgetall = racing  # type: ignore[method-assign, assignment]
    assert await b.conversation("c1") is not None
    assert len(b.cache) == 0


async def test_the_cache_is_dropped_and_unused_while_invalidations_may_be_lost(
        two: tuple[RedisLiveState, RedisLiveState], redis_server: RedisServer) -> None:
    a, b = two
    await a.add_conversation(conv("c1", chatter_sid="s1"), queue=True)
    await b.cached_conversation("c1")
    assert len(b.cache) == 1
    # Redis drops every pub/sub connection (as on a restart, or an overflowing output buffer)
    redis_server.command("CLIENT", "KILL", "TYPE", "pubsub")
    await eventually(lambda: not b.subscribed or len(b.cache) == 0, within=5,
                     what="b noticed the lost subscription")
    assert len(b.cache) == 0
    await a.update("c1", chatter_sid="s2")  # perhaps while b was not listening
    got = await b.cached_conversation("c1")
    assert got is not None and got.chatter_sid == "s2"
    await eventually(lambda: b.subscribed, within=5, what="b subscribed again")


async def test_a_reset_redis_empties_the_cache(
        two: tuple[RedisLiveState, RedisLiveState]) -> None:
    a, _ = two
    await a.heartbeat()
    await a.add_conversation(conv("c1"), queue=True)
    await a.cached_conversation("c1")
    assert len(a.cache) == 1
    await a.redis.delete(a.prefix + "epoch")
    assert (await a.heartbeat()).reset is True
    assert len(a.cache) == 0
