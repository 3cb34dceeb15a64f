"""Abuse: one address cannot hold many connections or flood across them, the queue is bounded,
and a client that goes silent is dropped by the Engine.IO heartbeat."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import socketio
import websockets

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.harness.waiting import eventually
from tests.helpers import Peer, Server, running, server_env


def make_settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(server_env(
        tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
        CHATSERVER_TRUSTED_PROXIES="127.0.0.1", **env))


def open_connections(srv: Server) -> dict[str, int]:
    return dict(srv.components.sio.namespace_handlers["/chat"]._open)


async def chatter_from(srv: Server, address: str) -> Peer:
    return await srv.chatter(headers={"X-Forwarded-For": address})


async def test_one_address_holds_a_bounded_number_of_connections(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_MAX_CONNECTIONS_PER_ADDRESS="3")
    async with running(settings) as srv:
        mine = [await chatter_from(srv, "203.0.113.5") for _ in range(3)]
        extra = Peer(srv.url, "/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.connect(headers={"X-Forwarded-For": "203.0.113.5"})
        assert extra.connect_error["code"] == "too_many_connections"
        assert extra.connect_error["message"]
        # Someone else (another household) is not affected.
        other = await chatter_from(srv, "198.51.100.9")
        assert (await other.call("start", {}))["ok"]
        # A connection that closes frees its place.
        await mine[0].close()
        await eventually(lambda: sorted(open_connections(srv).values()) == [1, 2])
        again = await chatter_from(srv, "203.0.113.5")
        assert (await again.call("start", {}))["ok"]


async def test_events_are_limited_per_address_across_its_connections(
    tmp_path: Path, clock: FrozenClock,
) -> None:
    settings = make_settings(tmp_path, CHATSERVER_ADDRESS_RATE_BURST="10",
                             CHATSERVER_ADDRESS_RATE_PER_SECOND="0.1")
    async with running(settings, clock) as srv:
        a = await chatter_from(srv, "203.0.113.5")
        b = await chatter_from(srv, "203.0.113.5")
        acks = []
        for i in range(12):
            acks.append(await (a if i % 2 else b).call("typing", {"typing": True}))
        codes = [ack["error"]["code"] for ack in acks]
        # each connection alone is far below its own limit of 40; together they hit 10
        assert codes == ["not_in_conversation"] * 10 + ["rate_limited"] * 2
        assert (await a.call("nonsense", {}))["error"]["code"] == "rate_limited"
        other = await chatter_from(srv, "198.51.100.9")
        assert (await other.call("start", {}))["ok"]
        clock.advance(seconds=20)  # two tokens back
        assert (await a.call("start", {}))["ok"]


async def test_the_queue_is_bounded(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_MAX_QUEUE="2")
    async with running(settings) as srv:
        first, second, third = [await chatter_from(srv, f"203.0.113.{i}") for i in (1, 2, 3)]
        assert (await first.call("start", {}))["ok"]
        assert (await second.call("start", {}))["ok"]
        full = await third.call("start", {})
        assert full["ok"] is False and full["error"]["code"] == "queue_full"
        assert "druk" in full["error"]["message"]
        assert (await first.call("leave", {}))["ok"]
        assert (await third.call("start", {}))["ok"]


async def test_a_silent_client_is_dropped_by_the_heartbeat(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_PING_INTERVAL="1",
                             CHATSERVER_PING_TIMEOUT="1")
    async with running(settings) as srv:
        url = srv.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, additional_headers={
                "X-Forwarded-For": "203.0.113.5"}) as ws:
            opened = json.loads(str(await ws.recv())[1:])
            assert opened["pingInterval"] == 1000 and opened["pingTimeout"] == 1000
            await ws.send("40/chat,")
            assert str(await ws.recv()).startswith("40/chat,")
            await ws.send('42/chat,1["start",{}]')
            assert '"ok":true' in str(await ws.recv())
            assert open_connections(srv) == {next(iter(open_connections(srv))): 1}
            # From now on the client reads but never answers a ping.
            pings = 0

            async def until_closed() -> None:
                nonlocal pings
                async for frame in ws:
                    pings += frame == "2"

            await asyncio.wait_for(until_closed(), 5)
        assert pings >= 1
        await eventually(lambda: not open_connections(srv))
        assert not srv.components.connections.chatters
        async with srv.http() as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_new_connections_per_address_are_limited(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path, CHATSERVER_ADDRESS_CONNECTS_BURST="3")
    async with running(settings, clock) as srv:
        for _ in range(3):
            await (await chatter_from(srv, "203.0.113.6")).close()
        extra = Peer(srv.url, "/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.connect(headers={"X-Forwarded-For": "203.0.113.6"})
        assert extra.connect_error["code"] == "rate_limited"
        clock.advance(seconds=1)  # 5 new connections a second refill
        await chatter_from(srv, "203.0.113.6")


async def test_a_school_behind_one_address_can_all_chat_at_once(tmp_path: Path) -> None:
    # One IPv4 address may be a whole school or a mobile carrier's NAT: the defaults let a
    # hundred young people from one address start at the same time.
    settings = make_settings(tmp_path)
    async with running(settings) as srv:
        chatters = await asyncio.gather(*[chatter_from(srv, "192.0.2.77") for _ in range(100)])
        acks = await asyncio.gather(*[c.call("start", {}) for c in chatters])
        assert all(a["ok"] for a in acks)
        assert sorted(a["position"] for a in acks) == list(range(1, 101))
