"""How events leave the server (chatserver/realtime/transport.py): the JSON-only packet and the
in-order direct manager, checked on the wire with real clients."""

from __future__ import annotations

import pytest
from socketio import packet as sio_packet

from chatserver.realtime.transport import ChatPacket
from tests.helpers import Peer, Server
from tests.server.test_roles_and_auth import start_pair


def test_packets_encode_as_the_default_packet_does() -> None:
    data = ["message", {"id": "a1", "text": "Hé, 👋 \"quote\"\n", "n": 3, "ok": True,
                        "none": None, "list": [1.5, "x"]}]
    for kind, ident in ((sio_packet.EVENT, None), (sio_packet.ACK, 7)):
        ours = ChatPacket(kind, data=data, namespace="/chat", id=ident).encode()
        theirs = sio_packet.Packet(kind, data=data, namespace="/chat", id=ident).encode()
        assert ours == theirs
    decoded = ChatPacket(encoded_packet=theirs)
    assert (decoded.packet_type, decoded.namespace, decoded.id, decoded.data) == (
        sio_packet.ACK, "/chat", 7, data)


def test_received_json_keeps_its_limits_and_bytes_are_never_sent() -> None:
    with pytest.raises(ValueError, match="too large"):
        ChatPacket(encoded_packet='2/chat,["message",{"age":' + "9" * 101 + "}]")
    with pytest.raises(ValueError):
        ChatPacket(encoded_packet='2/chat,["message",{"text":')
    with pytest.raises(TypeError):  # no binary attachments: bytes fail loudly instead
        ChatPacket(sio_packet.EVENT, data=["message", b"raw"], namespace="/chat").encode()


async def test_a_volunteer_message_reaches_her_other_console_and_monitors_not_herself(
    server: Server,
) -> None:
    chatter, vera, cid = await start_pair(server)
    second = Peer(server.url, "/staff")  # the same volunteer in a second tab
    server.peers.append(second)
    await second.connect(auth={"token": vera.token})  # type: ignore[attr-defined]
    await second.expect("state")
    sam = await server.staff("sam", "supervisor")
    assert (await sam.call("monitor", {"conversation_id": cid}))["ok"]

    sent = await vera.call("message", {"conversation_id": cid, "text": "hoi, ik ben Vera"})
    assert sent["ok"]
    for peer in (chatter, second, sam):
        got = await peer.expect("message")
        assert (got["id"], got["text"], got["from"]) == (sent["id"], "hoi, ik ben Vera",
                                                        "volunteer")
    # Whatever reached Vera's own socket before the chatter's answer would be an echo.
    await chatter.call("message", {"text": "hoi"})
    assert (await vera.expect("message"))["text"] == "hoi"
    assert vera.seen("message") == []


async def test_bursts_arrive_in_the_order_they_were_sent(server: Server) -> None:
    chatter, vera, cid = await start_pair(server)
    texts = [f"bericht {i}" for i in range(30)]
    for text in texts:  # acknowledged one by one, so the server saw them in this order
        assert (await vera.call("message", {"conversation_id": cid, "text": text}))["ok"]
        assert (await chatter.call("message", {"text": text.upper()}))["ok"]
    await chatter.expect("message", lambda m: m["text"] == texts[-1])
    await vera.expect("message", lambda m: m["text"] == texts[-1].upper())
    assert [m["text"] for m in chatter.seen("message")] == texts[:-1]
    assert [m["text"] for m in vera.seen("message")] == [t.upper() for t in texts[:-1]]
