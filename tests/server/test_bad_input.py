"""Bad input gets a specific error code, never a crash; floods and oversized frames are contained."""

from __future__ import annotations

import asyncio

import httpx
import websockets

from tests.helpers import Server


async def test_chatter_errors_have_the_protocol_codes_and_dutch_messages(server: Server) -> None:
    chatter = await server.chatter()
    cases = [
        ("message", {"text": "hoi"}, "not_in_conversation"),
        ("leave", {}, "not_in_conversation"),
        ("typing", {"typing": True}, "not_in_conversation"),
        ("start", "geen object", "invalid"),
        ("start", {"age": "veertien"}, "invalid"),
    ]
    for event, payload, code in cases:
        ack = await chatter.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, ack)
        assert ack["error"]["message"]
    assert (await chatter.call("start", {}))["ok"]
    cases = [
        ("start", {}, "already_started"),
        ("message", {"text": ""}, "empty"),
        ("message", {"text": "   \n "}, "empty"),
        ("message", {"text": "x" * 4001}, "too_long"),
        ("message", {"text": 42}, "invalid"),
        ("message", {}, "invalid"),
        ("message", None, "invalid"),
        ("message", [1, 2], "invalid"),
        ("message", {"text": "hoi", "client_id": {"x": 1}}, "invalid"),
        ("typing", {"typing": "ja"}, "invalid"),
        ("onbekend", {}, "invalid"),
    ]
    for event, payload, code in cases:
        ack = await chatter.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
    assert (await chatter.call("message", {"text": "x" * 4000}))["ok"]
    assert "te lang" in (await chatter.call("message", {"text": "x" * 4001}))["error"]["message"]


async def test_staff_errors_are_specific(server: Server) -> None:
    vera = await server.staff("vera")
    cases = [
        ("available", {"capacity": 0}, "invalid"),
        ("available", {"capacity": "twee"}, "invalid"),
        ("available", {"capacity": True}, "invalid"),
        ("message", {"text": "hoi"}, "invalid"),
        ("message", {"conversation_id": "nee", "text": "hoi"}, "not_found"),
        ("register", {"conversation_id": "nee", "topic": "School"}, "not_found"),
        ("flag", {"conversation_id": "nee", "message_id": "x"}, "not_found"),
        ("zomaar", {}, "invalid"),
    ]
    for event, payload, code in cases:
        ack = await vera.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)


async def test_a_flood_is_rate_limited_and_the_chat_survives(server: Server) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {})
    chatter = await server.chatter()
    await chatter.call("start", {})
    await vera.expect("assigned")
    acks = await asyncio.gather(*[chatter.call("message", {"text": f"spam {i}"})
                                  for i in range(100)])
    codes = [a["error"]["code"] for a in acks if not a["ok"]]
    delivered = [a for a in acks if a["ok"]]
    assert codes and set(codes) == {"rate_limited"}
    # the burst (less the token `start` used), and the little that refilled meanwhile
    assert server.settings.rate_burst - 1 <= len(delivered) < server.settings.rate_burst + 10
    for _ in delivered:
        await vera.expect("message")
    async with server.http() as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_oversized_frames_and_garbage_do_not_take_the_server_down(server: Server) -> None:
    ws_url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    big = "42/chat,0" + '["message",{"text":"' + "x" * 200_000 + '"}]'
    for frame in (big, "garbage", "4" + "\x00" * 10, '42/chat,["start",' * 50, b"\xff\xfe"):
        try:
            async with websockets.connect(ws_url, max_size=None) as ws:
                await ws.recv()  # engine.io open packet
                await ws.send("40/chat,")
                await ws.send(frame)
                await asyncio.wait_for(ws.recv(), 2)
        except (websockets.ConnectionClosed, TimeoutError, OSError):
            pass
    # polling transport with a huge body
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/socket.io/?EIO=4&transport=polling")
        sid = r.text.split('"sid":"')[1].split('"')[0]
        r = await http.post(f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                            content=b"4" + b"x" * 300_000)
        assert r.status_code in (400, 413)
        assert (await http.get("/healthz")).json()["status"] == "ok"
    chatter = await server.chatter()
    assert (await chatter.call("start", {}))["ok"]
