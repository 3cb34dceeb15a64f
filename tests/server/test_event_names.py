"""Events a client sends are application events only: a reserved name (`connect`,
`disconnect`, …) never reaches connection handling, and every shape of event gets an ack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import socketio
import websockets

from chatserver.config import Settings
from tests.helpers import TIMEOUT, Peer, Server, running, server_env
from tests.server.test_roles_and_auth import start_pair

FORGED = {"asgi.scope": {"client": ["198.51.100.22", 1], "headers": []}}


async def test_a_forged_connect_cannot_give_a_timed_out_chatter_another_address(
    server: Server,
) -> None:
    chatter, vera, cid = await start_pair(server)
    second_tab = await server.chatter()  # opened before the time-out, same address
    assert (await vera.call("timeout", {"conversation_id": cid}))["ok"]
    await chatter.expect("ended")

    ack = await second_tab.call("connect", FORGED)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    refused = await second_tab.call("start", {})
    assert refused["ok"] is False and refused["error"]["code"] == "timeout"
    # Nobody else was sanctioned: the forged address never reached the server's state.
    hashes = {c.address_hash for c in server.components.connections.chatters.values()}
    assert len(hashes) == 1


async def test_a_forged_connect_on_staff_changes_nothing(server: Server) -> None:
    vera = await server.staff("vera")
    for name in ("connect", "disconnect", "connect_error"):
        ack = await vera.call(name, {"token": "x"})
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", name
    assert (await vera.call("available", {}))["ok"]
    assert len(server.components.connections.staff) == 1


async def test_forged_disconnects_do_not_free_places_of_the_connection_limit(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(server_env(
        tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
        CHATSERVER_MAX_CONNECTIONS_PER_ADDRESS="2"))
    async with running(settings) as srv:
        mine = [await srv.chatter() for _ in range(2)]
        for peer in mine:
            ack = await peer.call("disconnect", {})
            assert ack["ok"] is False and ack["error"]["code"] == "invalid"
        extra = Peer(srv.url, "/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.connect()
        assert extra.connect_error["code"] == "too_many_connections"
        assert (await mine[0].call("start", {}))["ok"]


class RawSocket:
    """A bare Engine.IO WebSocket, to send event packets no Socket.IO client would build."""

    def __init__(self, ws: Any, namespace: str) -> None:
        self.ws = ws
        self.namespace = namespace
        self.next_id = 1

    async def packet(self, prefix: str) -> str:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
            if frame == "2":  # Engine.IO ping
                await self.ws.send("3")
            elif frame.startswith(prefix):
                return str(frame[len(prefix):])

    async def call(self, body: str | None) -> Any:
        """Send `42/ns,<id><body>` and return the ack's data (a list)."""
        ident = self.next_id
        self.next_id += 1
        await self.ws.send(f"42{self.namespace},{ident}{body or ''}")
        return json.loads(await self.packet(f"43{self.namespace},{ident}"))


async def raw_socket(server: Server, namespace: str, auth: dict[str, str] | None = None
                     ) -> tuple[Any, RawSocket]:
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    ws = await websockets.connect(url)
    await ws.recv()  # the Engine.IO open packet
    await ws.send(f"40{namespace}," + (json.dumps(auth) if auth else ""))
    raw = RawSocket(ws, namespace)
    await raw.packet(f"40{namespace},")
    return ws, raw


SHAPES = [
    # (what the client sent after the ack id, the code it must get back)
    ('["message",{"text":"hoi"},"extra"]', "invalid"),
    ('["message",{"text":"hoi"},{"text":"nog een"}]', "invalid"),
    ("[42,{}]", "invalid"),
    ("[null]", "invalid"),
    ("[true,{}]", "invalid"),
    ('[["message"],{}]', "invalid"),
    ("[]", "invalid"),
    ('{"event":"message"}', "invalid"),
    ('"message"', "invalid"),
    ("false", "invalid"),
    (None, "invalid"),
    ('["connect",{"asgi.scope":{"client":["198.51.100.22",1]}}]', "invalid"),
    ('["disconnect","client namespace disconnect"]', "invalid"),
    ('["connect_error",{}]', "invalid"),
    ('["newListener"]', "invalid"),
    ('["onbekend",{}]', "invalid"),
    ('["typing"]', "invalid"),
    ('["typing",null]', "invalid"),
]


@pytest.mark.parametrize("namespace", ["/chat", "/staff"])
async def test_every_event_shape_gets_an_ack_with_a_code(server: Server, namespace: str) -> None:
    auth = None
    if namespace == "/staff":
        await server.add_user("vera")
        auth = {"token": await server.login("vera")}
    ws, raw = await raw_socket(server, namespace, auth)
    async with ws:
        for body, code in SHAPES:
            ack = await raw.call(body)
            assert isinstance(ack, list) and len(ack) == 1, (body, ack)
            assert ack[0]["ok"] is False and ack[0]["error"]["code"] == code, (body, ack)
            assert ack[0]["error"]["message"]
        # The connection is still good for real work.
        ack = await raw.call('["start",{}]' if namespace == "/chat" else '["available",{}]')
        assert ack[0]["ok"] is True, ack
