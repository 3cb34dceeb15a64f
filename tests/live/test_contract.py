"""The live-state contract: every test runs against MemoryLiveState and RedisLiveState.

`two` gives two handles on one shared state: the same object in memory, two workers (two
clients) on one Redis, so the races below are real races between workers."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chatserver.live import LiveConversation, LiveState, LiveUnavailable, MemoryLiveState
from chatserver.live.redis import RedisLiveState
from chatserver.store.sealing import Sealer
from tests.harness.waiting import eventually
from tests.helpers import free_port
from tests.live.redis_server import RedisServer

BACKENDS = ["memory", "redis"]


@pytest.fixture(params=BACKENDS)
async def two(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LiveState, LiveState]]:
    if request.param == "memory":
        state = MemoryLiveState()
        yield state, state
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = f"t{uuid.uuid4().hex[:8]}:"  # each test its own keys in the one Redis
    sealer = Sealer((("k1", os.urandom(32)),))  # workers share the data keys
    a = RedisLiveState(server.url, prefix=prefix, sealer=sealer)
    b = RedisLiveState(server.url, prefix=prefix, sealer=sealer)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


@pytest.fixture
def live(two: tuple[LiveState, LiveState]) -> LiveState:
    return two[0]


def conv(cid: str, **kw: Any) -> LiveConversation:
    values: dict[str, Any] = {"alias": f"alias-{cid}", "address_hash": f"h-{cid}",
                              "contact_count": 0, "started_at": "2026-01-01T00:00:00.000Z"}
    return LiveConversation(id=cid, **{**values, **kw})


async def available(live: LiveState, volunteer_id: str, capacity: int, now: float) -> None:
    """A volunteer with a console open (a socket on a live worker) who is available."""
    await live.heartbeat()
    await live.staff_joined(volunteer_id, f"socket-{volunteer_id}")
    await live.set_available(volunteer_id, capacity, now=now)


async def test_chatters_queue_first_in_first_out(live: LiveState) -> None:
    assert [await live.add_conversation(conv(c), queue=True) for c in "abc"] == [1, 2, 3]
    assert await live.queue() == ["a", "b", "c"]
    assert await live.add_conversation(conv("d"), queue=True, front=True) == 1
    assert await live.queue() == ["d", "a", "b", "c"]


async def test_adding_a_live_conversation_again_changes_nothing(live: LiveState) -> None:
    await live.add_conversation(conv("a"), queue=True)
    await live.add_conversation(conv("b"), queue=True)
    assert await live.add_conversation(conv("b", alias="other"), queue=True) == 2
    assert await live.queue() == ["a", "b"]
    found = await live.conversation("b")
    assert found is not None and found.alias == "alias-b"


async def test_a_conversation_reads_back_as_written_and_updates(live: LiveState) -> None:
    await live.add_conversation(conv("a", age=15, topic="School", chatter_sid="s1",
                                     chatter_worker="w1", extra={"timeouts": "2"}), queue=True)
    found = await live.conversation("a")
    assert found == conv("a", age=15, topic="School", chatter_sid="s1", chatter_worker="w1",
                         extra={"timeouts": "2"})
    await live.update("a", chatter_sid=None, chatter_worker=None, delivered_seq=7)
    found = await live.conversation("a")
    assert found is not None and found.chatter_sid is None and found.chatter_worker is None
    assert found.delivered_seq == 7 and found.topic == "School"
    await live.update("missing", delivered_seq=1)
    assert await live.conversation("missing") is None
    assert {c.id for c in await live.conversations()} == {"a"}


async def test_a_chatter_socket_is_released_only_while_it_is_still_the_conversations(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    await a.add_conversation(conv("a", chatter_sid="old", chatter_worker="wb"), queue=False)
    await a.update("a", chatter_sid="new", chatter_worker="wa")  # a resume on worker a
    assert await b.release_chatter("a", "old") is False  # worker b's late disconnect
    found = await b.conversation("a")
    assert found is not None and (found.chatter_sid, found.chatter_worker) == ("new", "wa")
    assert await a.release_chatter("a", "new") is True
    found = await b.conversation("a")
    assert found is not None and found.chatter_sid is None and found.chatter_worker is None
    assert await a.release_chatter("a", "new") is False
    assert await a.release_chatter("missing", "new") is False


async def test_the_free_volunteer_with_fewest_chats_then_idle_longest_is_chosen(
        live: LiveState) -> None:
    await available(live, "v1", 2, now=10.0)
    await available(live, "v2", 2, now=5.0)  # idle longer
    await available(live, "v3", 3, now=1.0)
    await live.set_unavailable("v3")
    for c in "abcde":
        await live.add_conversation(conv(c), queue=True)
    pairs = await live.pair(now=20.0)
    # v2 (idle longest), v1 (fewest), then both have one: v2 idle since 20 = v1's 20 → by id
    assert [(p.conversation_id, p.volunteer_id) for p in pairs] == [
        ("a", "v2"), ("b", "v1"), ("c", "v1"), ("d", "v2")]
    assert await live.queue() == ["e"]
    assert await live.volunteer("v1") == (True, 2, ["b", "c"])
    assert await live.volunteer("v3") == (False, 3, [])
    assert await live.volunteer("nobody") == (False, 0, [])
    found = await live.conversation("a")
    assert found is not None and found.volunteer_id == "v2"
    assert await live.pair(now=21.0) == []


async def test_a_volunteer_without_a_socket_gets_nobody_new(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    await available(a, "v1", 2, now=1.0)
    await a.add_conversation(conv("x"), queue=True)
    assert [p.volunteer_id for p in await b.pair(now=2.0)] == ["v1"]
    await a.staff_left("v1", "socket-v1")  # their grace period: still available, no socket
    await a.add_conversation(conv("y"), queue=True)
    assert await b.pair(now=3.0) == []
    assert await a.queue() == ["y"]
    await b.heartbeat()
    await b.staff_joined("v1", "socket-again")  # back, on the other worker
    assert [p.conversation_id for p in await a.pair(now=4.0)] == ["y"]


async def test_requeue_puts_the_chat_at_the_front_and_frees_the_volunteer(
        live: LiveState) -> None:
    await available(live, "v1", 1, now=1.0)
    await live.add_conversation(conv("a"), queue=True)
    await live.pair(now=2.0)
    await live.add_conversation(conv("b"), queue=True)
    assert await live.requeue("a") == 1
    assert await live.queue() == ["a", "b"]
    assert await live.volunteer("v1") == (True, 1, [])
    found = await live.conversation("a")
    assert found is not None and found.volunteer_id is None
    assert await live.requeue("missing") == 0


async def test_remove_ends_a_chat_and_the_volunteer_is_idle_from_then(live: LiveState) -> None:
    await available(live, "v1", 1, now=1.0)
    await available(live, "v2", 1, now=2.0)
    await live.add_conversation(conv("a"), queue=True)
    await live.add_conversation(conv("b"), queue=True)
    await live.pair(now=3.0)  # a→v1, b→v2
    removed = await live.remove("a", now=9.0)
    assert removed is not None and removed.id == "a" and removed.volunteer_id == "v1"
    await live.remove("b", now=4.0)
    await live.add_conversation(conv("c"), queue=True)
    assert [p.volunteer_id for p in await live.pair(now=10.0)] == ["v2"]  # idle since 4 < 9
    assert await live.remove("a", now=11.0) is None
    await live.add_conversation(conv("w"), queue=True)
    await live.remove("w", now=12.0)
    assert await live.queue() == []


async def test_restored_active_chat_counts_for_its_volunteer(live: LiveState) -> None:
    await live.add_conversation(conv("a", volunteer_id="v1"), queue=False)
    available, _, active = await live.volunteer("v1")
    assert (available, active) == (False, ["a"])
    assert await live.queue() == []


async def test_concurrent_starts_on_two_workers_get_distinct_positions(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    positions = await asyncio.gather(
        *[(a if i % 2 else b).add_conversation(conv(f"c{i:03}"), queue=True) for i in range(100)]
    )
    assert sorted(positions) == list(range(1, 101))
    assert len(await a.queue()) == 100


async def test_racing_pairings_never_pair_twice_nor_overfill(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    for i in range(50):
        await a.add_conversation(conv(f"c{i:03}"), queue=True)
    for v in range(10):
        await available(a if v % 2 else b, f"v{v}", 2, now=float(v))
    rounds = await asyncio.gather(*[(a if i % 2 else b).pair(now=100.0 + i) for i in range(8)])
    pairs = [p for r in rounds for p in r]
    assert len(pairs) == 20
    assert sorted(p.conversation_id for p in pairs) == [f"c{i:03}" for i in range(20)]
    for v in range(10):
        assert len((await b.volunteer(f"v{v}"))[2]) == 2
    assert await b.queue() == [f"c{i:03}" for i in range(20, 50)]


async def test_staff_presence_counts_sockets_on_every_worker(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    await a.heartbeat()
    await b.heartbeat()
    await a.staff_joined("u1", "s1")
    await b.staff_joined("u1", "s2")
    assert await a.staff_present("u1") == 2
    assert await b.staff_left("u1", "s2") == 1
    assert await a.staff_left("u1", "s1") == 0
    assert await b.staff_present("u1") == 0
    assert await a.staff_present("nobody") == 0


async def test_every_worker_hears_a_notification_once(two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    heard: dict[str, list[tuple[str, dict[str, Any]]]] = {"a": [], "b": []}
    arrived = asyncio.Event()

    def listener(name: str) -> Callable[[str, dict[str, Any]], Any]:
        async def on(kind: str, data: dict[str, Any]) -> None:
            heard[name].append((kind, data))
            if heard["a"] and heard["b"]:
                arrived.set()
        return on

    a.subscribe(listener("a"))
    b.subscribe(listener("b"))
    await wait_subscribed(a, b)
    await a.publish("queue", {"n": 1})
    assert heard["a"] == [("queue", {"n": 1})]  # the publisher's own listeners at once
    await asyncio.wait_for(arrived.wait(), 5)
    assert heard["b"] == [("queue", {"n": 1})]


async def test_a_cached_conversation_follows_changes_made_on_another_worker(
        two: tuple[LiveState, LiveState]) -> None:
    a, b = two
    await wait_subscribed(a, b)
    await available(a, "v1", 1, now=1.0)
    await a.add_conversation(conv("c1", chatter_sid="s1"), queue=True)
    first = await b.cached_conversation("c1")
    assert first is not None and first.volunteer_id is None  # b holds it now

    async def on_b(check: Callable[[LiveConversation | None], bool]) -> bool:
        return check(await b.cached_conversation("c1"))

    await a.pair(now=2.0)
    await eventually(lambda: on_b(lambda c: c is not None and c.volunteer_id == "v1"),
                     within=2, every=0.01, what="b sees the pairing")
    await a.requeue("c1")
    now = await b.current_conversation("c1")  # the current read sees a change at once
    assert now is not None and now.volunteer_id is None
    await a.pair(now=2.5)
    await eventually(lambda: on_b(lambda c: c is not None and c.volunteer_id == "v1"),
                     within=2, every=0.01, what="b sees the pairing again")
    await a.update("c1", chatter_sid="s2")
    await eventually(lambda: on_b(lambda c: c is not None and c.chatter_sid == "s2"),
                     within=2, every=0.01, what="b sees the new socket")
    await a.requeue("c1")
    await eventually(lambda: on_b(lambda c: c is not None and c.volunteer_id is None),
                     within=2, every=0.01, what="b sees the requeue")
    await a.remove("c1", now=3.0)
    assert await b.current_conversation("c1") is None
    await eventually(lambda: on_b(lambda c: c is None), within=2, every=0.01,
                     what="b sees the end")


async def wait_subscribed(*states: LiveState) -> None:
    """Until every listener is subscribed: the Redis backend announces it by no event."""
    await eventually(lambda: all(getattr(state, "subscribed", True) for state in states),
                     within=5, what="live-state listeners subscribed")


async def test_a_dead_workers_chatters_and_staff_are_released(
        two: tuple[LiveState, LiveState], redis_server: RedisServer) -> None:
    a, b = two
    if a is b:
        pytest.skip("one process: its workers cannot die apart")
    assert isinstance(a, RedisLiveState) and isinstance(b, RedisLiveState)
    a.heartbeat_ttl = 0.2
    await a.heartbeat()
    await b.heartbeat()
    await a.add_conversation(conv("x", chatter_sid="sa", chatter_worker=a.worker_id), queue=True)
    await b.add_conversation(conv("y", chatter_sid="sb", chatter_worker=b.worker_id), queue=True)
    await a.staff_joined("u1", "s1")
    await a.staff_joined("u2", "s2")
    await b.staff_joined("u2", "s3")
    await a.close()  # worker a dies: no more heartbeats

    async def a_found_dead() -> Any:
        beat = await b.heartbeat()
        return beat if beat.dead_workers else None

    beat = await eventually(a_found_dead, within=10, every=0.05,
                            what="a's heartbeat expired in Redis")  # a real TTL: real time
    assert beat.dead_workers == [a.worker_id]
    assert (await b.heartbeat()).dead_workers == []  # claimed once
    released = await b.release_worker(a.worker_id)
    assert released.conversations == ["x"] and released.volunteers == ["u1"]
    x, y = await b.conversation("x"), await b.conversation("y")
    assert x is not None and x.chatter_sid is None and x.chatter_worker is None
    assert y is not None and y.chatter_sid == "sb"
    assert await b.staff_present("u2") == 1


async def test_a_reset_redis_is_noticed_once(two: tuple[LiveState, LiveState],
                                             redis_server: RedisServer) -> None:
    a, _ = two
    if not isinstance(a, RedisLiveState):
        assert (await a.heartbeat()).reset is False
        return
    assert (await a.heartbeat()).reset is False
    await a.redis.delete(a.prefix + "epoch")
    assert (await a.heartbeat()).reset is True
    assert (await a.heartbeat()).reset is False


async def test_an_unreachable_redis_is_unavailable_not_a_hang() -> None:
    state = RedisLiveState(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert await state.ping() is False
        with pytest.raises(LiveUnavailable) as err:
            await asyncio.wait_for(state.queue(), 5)
        assert err.value.code == "unavailable"
        with pytest.raises(LiveUnavailable):
            await asyncio.wait_for(state.pair(now=1.0), 5)
    finally:
        await state.close()
