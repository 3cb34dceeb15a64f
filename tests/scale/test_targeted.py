"""Targeted delivery (issue #17): an event reaches only the workers holding a socket of its room.

In-process first (two Socket.IO servers with `TargetedManager` on one Redis, sockets stood in
for by recorders, so that what each worker received can be counted), then with real workers
(`chatserver serve` processes), observed through Redis's `PUBSUB SHARDNUMSUB`."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from engineio import packet as eio_packet

from chatserver.live.delivery import TargetedManager
from chatserver.realtime.transport import ChatPacket, NamedAck
from tests.harness.processes import free_port
from tests.live.redis_server import RedisServer
from tests.scale.conftest import Cluster, wait_for


class Node:
    """One worker's Socket.IO server; what it sends to each socket is recorded."""

    def __init__(self, url: str, prefix: str) -> None:
        self.manager = TargetedManager(url, prefix=prefix)
        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=self.manager,
                                        serializer=ChatPacket)
        self.got: dict[str, list[tuple[str, Any]]] = defaultdict(list)  # sid -> (event, data)
        self.acks: dict[str, list[int]] = defaultdict(list)  # sid -> ack ids outstanding
        self.sid_of: dict[str, str] = {}

        async def send_eio(eio_sid: str, pkt: eio_packet.Packet) -> None:
            decoded = ChatPacket(encoded_packet=pkt.data)
            self.got[self.sid_of[eio_sid]].append((decoded.data[0], decoded.data[1]))

        async def send_packet(eio_sid: str, pkt: Any) -> None:
            if pkt.data:
                self.got[self.sid_of[eio_sid]].append((pkt.data[0], pkt.data[1]))
                if pkt.id is not None:
                    self.acks[self.sid_of[eio_sid]].append(pkt.id)

        self.sio._send_eio_packet = send_eio  # type: ignore[method-assign]
        self.sio._send_packet = send_packet  # type: ignore[method-assign]

    async def connect(self, namespace: str, *rooms: str) -> str:
        eio = uuid.uuid4().hex
        sid = await self.manager.connect(eio, namespace)
        assert sid is not None and sid.startswith(self.manager.host_id + "_")
        self.sid_of[eio] = sid
        for room in rooms:
            await self.sio.enter_room(sid, room, namespace=namespace)
        return sid

    async def ack(self, sid: str, *args: Any) -> None:
        """The client acknowledges every event with an ack id it got."""
        for ack_id in self.acks.pop(sid, []):
            await self.manager.trigger_callback(sid, ack_id, list(args))


@pytest.fixture
async def nodes(redis: RedisServer) -> AsyncIterator[tuple[Node, Node]]:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    a, b = Node(redis.url, prefix), Node(redis.url, prefix)
    a.manager.start()
    b.manager.start()
    await wait_for(lambda: a.manager.watch.known and b.manager.watch.known)
    yield a, b
    await a.manager.close()
    await b.manager.close()


async def numsub(node: Node, namespace: str, room: str) -> int:
    channel = node.manager.room_channel(namespace, room)
    reply = await node.manager.redis.execute_command("PUBSUB", "SHARDNUMSUB", channel)
    return int(reply[1])


async def test_a_conversation_held_by_one_worker_is_never_sent_to_another(
        nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    chatter = await a.connect("/chat", "chatter:c1")
    volunteer = await a.connect("/staff", "user:v1", "staff")
    elsewhere = await b.connect("/chat", "chatter:c2")  # b holds other conversations
    await b.connect("/staff", "user:v2", "staff")

    for i in range(50):
        await a.sio.emit("message", {"seq": i}, room="chatter:c1", namespace="/chat")
        await a.sio.emit("message", {"seq": i}, room=["monitor:c1", "user:v1"],
                         namespace="/staff")
    # a knows that nobody else holds these rooms: it publishes nothing for them, nor for
    # `monitor:c1`, which nobody holds
    assert a.manager.counters["kept"] == 100
    assert a.manager.counters["unheld"] == 50
    await asyncio.sleep(0.2)  # anything b were to receive has arrived by now

    assert [d["seq"] for _, d in a.got[chatter]] == list(range(50))
    assert [d["seq"] for _, d in a.got[volunteer]] == list(range(50))
    assert b.manager.counters["decoded"] == 0 and b.got[elsewhere] == []  # no event at all
    assert await numsub(a, "/chat", "chatter:c1") == 1  # a alone listens
    assert await numsub(a, "/staff", "user:v1") == 1
    assert await numsub(a, "/staff", "monitor:c1") == 0



async def test_events_emitted_before_the_publisher_connected_go_out_in_order(
        redis: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    a, b = Node(redis.url, prefix), Node(redis.url, prefix)
    b.manager.start()
    try:
        await wait_for(lambda: b.manager.watch.known)
        sid = await b.connect("/chat", "chatter:c1")
        for i in range(50):  # a has no connection to Redis yet: they wait for it
            await a.sio.emit("message", {"seq": i}, room="chatter:c1", namespace="/chat")
        assert a.manager.counters["published"] == 0
        a.manager.start()
        await wait_for(lambda: len(b.got[sid]) >= 50)
        assert [d["seq"] for _, d in b.got[sid]] == list(range(50))
        assert a.manager.counters["dropped"] == 0
    finally:
        await a.manager.close()
        await b.manager.close()


async def test_events_for_a_redis_that_cannot_be_reached_are_dropped_not_kept() -> None:
    manager = TargetedManager(f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, serializer=ChatPacket)
    for i in range(3):
        await sio.emit("message", {"seq": i}, room="chatter:c1", namespace="/chat")
    manager.start()
    try:
        await wait_for(lambda: manager.counters["dropped"] == 3)
        await sio.emit("message", {"seq": 3}, room="chatter:c1", namespace="/chat")
        await wait_for(lambda: manager.counters["dropped"] == 4)  # the next attempt fails too
        assert manager.counters["published"] == 0
    finally:
        await manager.close()


async def test_a_conversation_across_two_workers_exactly_once_in_order(
        nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    volunteer = await a.connect("/staff", "user:v1", "staff")
    supervisor = await a.connect("/staff", "user:s1", "supervisors", "monitor:c1")
    chatter = await b.connect("/chat", "chatter:c1")
    monitor_b = await b.connect("/staff", "user:s2", "monitor:c1")
    # a socket in both rooms of a staff emit gets it once
    both = await b.connect("/staff", "user:v1", "monitor:c1")

    acked: list[int] = []

    async def delivered(seq: int) -> None:
        acked.append(seq)

    for i in range(40):
        # the volunteer's message to the chatter's socket on b, acknowledged back to a
        await a.sio.emit("message", {"seq": i}, to=chatter, namespace="/chat",
                         callback=delivered)
        # the chatter's message to the staff rooms, from b
        await b.sio.emit("message", {"seq": i}, room=["monitor:c1", "user:v1"],
                         namespace="/staff")
    await a.sio.emit("ended", {"seq": 40}, room="chatter:c1", namespace="/chat")

    await wait_for(lambda: len(b.got[chatter]) == 41)
    await wait_for(lambda: all(len(x.got[s]) == 40 for x, s in
                               [(a, volunteer), (a, supervisor), (b, monitor_b), (b, both)]))
    await asyncio.sleep(0.2)
    assert [d["seq"] for _, d in b.got[chatter]] == list(range(41))
    assert b.got[chatter][-1][0] == "ended"
    for node, sid in [(a, volunteer), (a, supervisor), (b, monitor_b), (b, both)]:
        assert [d["seq"] for _, d in node.got[sid]] == list(range(40)), sid

    # acknowledgements travel back to the worker that emitted, each once
    for sid in list(b.acks):
        acks = b.acks.pop(sid)
        for ack_id, (_, d) in zip(acks, [g for g in b.got[sid] if g[0] == "message"],
                                  strict=True):
            await b.manager.trigger_callback(sid, ack_id, [d["seq"]])
    await wait_for(lambda: len(acked) == 40)
    assert acked == list(range(40))

    # a disconnects a socket held by b
    await a.sio.disconnect(monitor_b, namespace="/staff")
    await wait_for(lambda: not b.manager.is_connected(monitor_b, "/staff"))
    assert await numsub(a, "/staff", "monitor:c1") == 2  # a's supervisor and b's `both`


async def test_a_watched_room_is_published_exactly_while_someone_holds_it(
        nodes: tuple[Node, Node], redis: RedisServer) -> None:
    """`monitor:<id>` rooms: nobody reads along with most conversations, and an emit to such
    a room costs nothing; once a supervisor's socket entered it, every emit reaches it."""
    a, b = nodes
    await a.connect("/staff", "user:v1")
    await a.sio.emit("message", {"seq": 0}, room=["monitor:c1", "user:v1"], namespace="/staff")
    assert a.manager.counters["unheld"] == 1
    supervisor = await b.connect("/staff", "user:s1", "monitor:c1")
    # b's enter_room returned only once a noted it: the very next emit is published
    assert a.manager.watch.held[a.manager.room_channel("/staff", "monitor:c1")] == {
        b.manager.host_id}
    await a.sio.emit("message", {"seq": 1}, room=["monitor:c1", "user:v1"], namespace="/staff")
    await wait_for(lambda: len(b.got[supervisor]) == 1)
    assert b.got[supervisor] == [("message", {"seq": 1})]

    # a worker starting now learns of the watched room by its roll call
    c = Node(redis.url, a.manager.prefix)
    c.manager.start()
    try:
        await wait_for(lambda: c.manager.watch.known)
        await c.sio.emit("message", {"seq": 2}, room="monitor:c1", namespace="/staff")
        await wait_for(lambda: len(b.got[supervisor]) == 2)
        assert c.manager.counters["unheld"] == 0

        # the supervisor leaves: the room is released, and nobody publishes to it again
        await b.sio.leave_room(supervisor, "monitor:c1", namespace="/staff")
        await wait_for(lambda: not a.manager.watch.held and not c.manager.watch.held)
        await a.sio.emit("message", {"seq": 3}, room="monitor:c1", namespace="/staff")
        await c.sio.emit("message", {"seq": 3}, room="monitor:c1", namespace="/staff")
        assert a.manager.counters["unheld"] == 2 and c.manager.counters["unheld"] == 1
    finally:
        await c.manager.close()


async def test_a_named_acknowledgement_runs_where_the_socket_is(
        nodes: tuple[Node, Node]) -> None:
    """The volunteer's message: the chatter's worker records the acknowledgement itself;
    nothing travels back to the emitting worker."""
    a, b = nodes
    ran: dict[str, list[tuple[Any, ...]]] = {"a": [], "b": []}
    a.manager.register_ack("seen", lambda *args: ran["a"].append(args))
    b.manager.register_ack("seen", lambda *args: ran["b"].append(args))
    chatter = await b.connect("/chat", "chatter:c1")
    here = await a.connect("/chat", "chatter:c2")
    for i in range(20):
        await a.sio.emit("message", {"seq": i}, to=chatter, namespace="/chat",
                         callback=NamedAck("seen", "c1", i))
    await a.sio.emit("message", {"seq": 0}, to=here, namespace="/chat",
                     callback=NamedAck("seen", "c2", 0))
    await wait_for(lambda: len(b.got[chatter]) == 20)
    received = a.manager.counters["received"]
    for sid in (chatter, here):
        node = b if sid == chatter else a
        for ack_id in node.acks.pop(sid):
            await node.manager.trigger_callback(sid, ack_id, ["ok"])
    # each ran once, with its arguments and then the client's, on the socket's worker
    assert ran["b"] == [("c1", i, "ok") for i in range(20)]
    assert ran["a"] == [("c2", 0, "ok")]
    await asyncio.sleep(0.2)  # a callback sent back to a would have arrived by now
    assert a.manager.counters["received"] == received
    # an unknown name (a worker of another release) is ignored, not an error
    await a.sio.emit("message", {"seq": 99}, to=chatter, namespace="/chat",
                     callback=NamedAck("unknown", 1))
    await wait_for(lambda: len(b.got[chatter]) == 21)
    assert not b.acks.get(chatter)  # no acknowledgement was asked of the client


async def test_real_workers_deliver_only_where_the_conversation_is(cluster: Cluster) -> None:
    await cluster.add_users("vera", "wim")
    await cluster.add_users("sam", role="supervisor")
    a, b = cluster.start(2)
    vera = await a.staff("vera")
    wim = await b.staff("wim")  # b holds a staff socket, nothing of the conversations below
    sam = await b.staff("sam")
    near = await a.chatter("10.0.0.1")
    far = await b.chatter("10.0.0.2")

    def subscribers(namespace: str, room: str) -> int:
        reply = cluster.redis.command("PUBSUB", "SHARDNUMSUB", f"cs:sio:r:{namespace}:{room}")
        return int(reply.split(b"\r\n")[3][1:])

    async def talk(chatter: Any, cid: str, n: int) -> None:
        for i in range(n):
            assert (await chatter.call("message", {"text": f"c{i}"}))["ok"]
            assert (await vera.call("message", {"conversation_id": cid, "text": f"v{i}"}))["ok"]
        await wait_for(lambda: len([m for m in vera.seen("message")
                                    if m["conversation_id"] == cid]) >= n
                       and len(chatter.seen("message")) >= n)
        await asyncio.sleep(0.3)  # a duplicate would have arrived by now
        assert [m["text"] for m in vera.seen("message") if m["conversation_id"] == cid] == [
            f"c{i}" for i in range(n)]
        assert [m["text"] for m in chatter.seen("message")] == [f"v{i}" for i in range(n)]

    try:
        assert (await vera.call("available", {"capacity": 2}))["ok"]
        here = (await near.call("start", {"age": 15}))["conversation_id"]
        assert await near.expect("paired")
        # Everything of this conversation is on worker a: only a listens to its room, while
        # both listen to the room every staff socket is in.
        assert subscribers("/chat", f"chatter:{here}") == 1
        assert subscribers("/staff", "staff") == 2
        await talk(near, here, 10)

        # A supervisor on b reads along with that conversation: nobody watched it, so a
        # published nothing for its `monitor:` room; from the monitor's ack on, every
        # message of it reaches b too, and the transcript has what came before.
        watched = await sam.call("monitor", {"conversation_id": here})
        assert len(watched["messages"]) == 20
        assert subscribers("/staff", f"monitor:{here}") == 1
        assert (await near.call("message", {"text": "gezien?"}))["ok"]
        assert (await vera.call("message", {"conversation_id": here, "text": "ja"}))["ok"]
        assert (await sam.expect("message"))["text"] == "gezien?"
        assert (await sam.expect("message"))["text"] == "ja"

        # A conversation across the two workers: exactly once, in order, both ways.
        there = (await far.call("start", {}))["conversation_id"]
        assert await far.expect("paired")
        assert subscribers("/chat", f"chatter:{there}") == 1  # b's
        await talk(far, there, 10)
        assert wim.seen("message") == []

        # The chatter leaves: the worker stops listening to the room.
        await far.close()
        await wait_for(lambda: subscribers("/chat", f"chatter:{there}") == 0)
    finally:
        for p in (vera, wim, sam, near, far):
            await p.close()
