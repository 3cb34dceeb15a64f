"""100 chatters race for 10 volunteers of capacity 2 across two workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.helpers import Peer
from tests.scale.conftest import Cluster


async def test_hundred_chatters_ten_volunteers_exactly_twenty_paired_rest_fifo(
        cluster: Cluster) -> None:
    names = [f"vol{i}" for i in range(10)]
    await cluster.add_users(*names)
    a, b = cluster.start(2)
    workers = (a, b)
    chatters: list[Peer] = list(await asyncio.gather(
        *[workers[i % 2].chatter(f"10.1.{i // 250}.{i % 250}") for i in range(100)]))
    volunteers: list[Peer] = []
    try:
        # Everyone starts at once, half on each worker: one queue, positions 1..100.
        acks = await asyncio.gather(*[c.call("start", {}) for c in chatters])
        assert all(ack["ok"] for ack in acks), acks
        position = {id(c): ack["position"] for c, ack in zip(chatters, acks, strict=True)}
        assert sorted(position.values()) == list(range(1, 101))

        # Ten volunteers, five per worker, become available at once with capacity 2.
        volunteers = list(await asyncio.gather(
            *[workers[i % 2].staff(name) for i, name in enumerate(names)]))
        answers = await asyncio.gather(*[v.call("available", {"capacity": 2}) for v in volunteers])
        assert all(ans["ok"] for ans in answers)

        assigned = [await v.expect("assigned") for v in volunteers for _ in range(2)]
        ids = [x["conversation_id"] for x in assigned]
        assert len(ids) == 20 and len(set(ids)) == 20

        # First in, first out: the twenty who started first are paired, once each ...
        first = [c for c in chatters if position[id(c)] <= 20]
        await asyncio.gather(*[c.expect("paired") for c in first])
        by_conversation = {ack["conversation_id"]: c for c, ack in zip(chatters, acks, strict=True)}
        assert {id(by_conversation[cid]) for cid in ids} == {id(c) for c in first}
        # ... and the other eighty move up twenty places, keeping their order: 1..80.
        rest = [c for c in chatters if position[id(c)] > 20]

        def at(place: int) -> Callable[[dict[str, int]], bool]:
            return lambda d: d["position"] == place

        await asyncio.gather(*[c.expect("queue", at(position[id(c)] - 20)) for c in rest])
        for c in rest:
            assert c.seen("paired") == []
        for v in volunteers:
            assert v.seen("assigned") == []  # capacity 2: no third chat
            await v.expect("queue_size", lambda d: d["waiting"] == 80)
        for c in first:
            assert c.seen("paired") == []  # paired once
    finally:
        await asyncio.gather(*[p.close() for p in (*chatters, *volunteers)])
