"""Who may do what: roles, ownership, login and logout."""

from __future__ import annotations

import httpx
import pytest
import socketio

from tests.helpers import Peer, Server


async def start_pair(server: Server) -> tuple[Peer, Peer, str]:
    vera = await server.staff("vera", display_name="Vera")
    await vera.call("available", {})
    chatter = await server.chatter()
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    return chatter, vera, cid


async def test_login_errors_are_json_and_specific(server: Server) -> None:
    await server.add_user("vera")
    async with server.http() as http:
        r = await http.post("/api/auth/login", json={"username": "vera", "password": "fout"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_credentials"
        r = await http.post("/api/auth/login", content=b"{niet json", headers={
            "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
        r = await http.post("/api/auth/login", json=["lijst"])
        assert r.status_code == 400
        r = await http.post("/api/auth/login", json={"username": "vera",
                                                     "password": "wachtwoord-123"})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert set(r.json()) == {"token", "role", "display_name"}


async def test_other_volunteers_and_chatters_cannot_touch_a_conversation(server: Server) -> None:
    chatter, _vera, cid = await start_pair(server)
    bram = await server.staff("bram")
    for event, payload in [
        ("message", {"conversation_id": cid, "text": "hoi"}),
        ("typing", {"conversation_id": cid, "typing": True}),
        ("end", {"conversation_id": cid}),
        ("timeout", {"conversation_id": cid}),
        ("monitor", {"conversation_id": cid}),
        ("whisper", {"conversation_id": cid, "text": "psst"}),
        ("block", {"conversation_id": cid}),
        ("list_conversations", {}),
    ]:
        ack = await bram.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", event
    ack = await bram.call("message", {"conversation_id": "bestaatniet", "text": "hoi"})
    assert ack["error"]["code"] == "not_found"
    async with server.http() as http:
        r = await http.get(f"/api/conversations/{cid}/transcript",
                           headers={"Authorization": f"Bearer {bram.token}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        r = await http.get("/api/conversations/bestaatniet/transcript",
                           headers={"Authorization": f"Bearer {bram.token}"})
        assert r.status_code == 404
        r = await http.get(f"/api/conversations/{cid}/transcript")
        assert r.status_code == 401
    # a chatter has no staff events at all
    assert (await chatter.call("end", {"conversation_id": cid}))["error"]["code"] == "invalid"


async def test_supervisor_monitors_silently_and_whispers_to_the_volunteer(server: Server) -> None:
    chatter, vera, cid = await start_pair(server)
    await chatter.call("message", {"text": "eerste bericht"})
    sam = await server.staff("sam", "supervisor", display_name="Sam")
    listing = await sam.call("list_conversations", {})
    assert [c["conversation_id"] for c in listing["conversations"]] == [cid]
    mon = await sam.call("monitor", {"conversation_id": cid})
    assert mon["ok"] and [m["text"] for m in mon["messages"]] == ["eerste bericht"]
    await chatter.call("message", {"text": "tweede"})
    assert (await sam.expect("message"))["text"] == "tweede"
    await vera.call("message", {"conversation_id": cid, "text": "antwoord"})
    assert (await sam.expect("message"))["text"] == "antwoord"
    assert (await sam.call("whisper", {"conversation_id": cid, "text": "vraag naar school"}))["ok"]
    whisper = await vera.expect("whisper")
    assert whisper["from"] == "Sam" and whisper["text"] == "vraag naar school"
    assert whisper["conversation_id"] == cid and whisper["ts"].endswith("Z")
    # the chatter never hears of the supervisor
    await vera.call("message", {"conversation_id": cid, "text": "nog iets"})
    await chatter.expect("message", lambda m: m["text"] == "nog iets")
    assert chatter.seen("whisper") == [] and "Sam" not in str(chatter.events)
    # and a supervisor can end it
    assert (await sam.call("end", {"conversation_id": cid}))["ok"]
    assert (await sam.expect("ended"))["reason"] == "volunteer"


async def test_logout_revokes_token_cookie_and_live_socket_at_once(server: Server) -> None:
    vera = await server.staff("vera")
    async with server.http() as http:
        r = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {vera.token}"})
        assert r.status_code == 200
        r = await http.get("/api/me", headers={"Authorization": f"Bearer {vera.token}"})
        assert r.status_code == 401
    await vera.expect("disconnect")  # the live socket is closed by the server
    again = Peer(server.url, "/staff")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect(auth={"token": vera.token})
    assert again.connect_error["code"] == "unauthorized"


async def test_cookie_auth_without_same_origin_is_refused_for_state_changes(
    server: Server,
) -> None:
    await server.add_user("vera")
    async with server.http() as http:
        r = await http.post("/api/auth/login", json={"username": "vera",
                                                     "password": "wachtwoord-123"})
        assert r.status_code == 200
        r = await http.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
        r = await http.post("/api/auth/logout", headers={"Origin": server.url})
        assert r.status_code == 200


async def test_staff_socket_without_a_valid_token_is_refused(server: Server) -> None:
    for auth in (None, {"token": "onzin"}, {"token": 12}):
        peer = Peer(server.url, "/staff")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(auth=auth)
        assert peer.connect_error["code"] == "unauthorized"


async def test_every_unknown_path_and_method_is_json(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/bestaat/niet")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await http.delete("/api/auth/login")
        assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
        r = await http.post("/api/auth/login", content=b"x" * 200_000,
                            headers={"content-type": "application/json"})
        assert r.status_code == 413


async def test_logout_with_the_cookie_alone_revokes_it(server: Server) -> None:
    await server.add_user("vera")
    async with server.http() as http:
        r = await http.post("/api/auth/login", json={"username": "vera",
                                                     "password": "wachtwoord-123"})
        token = r.json()["token"]
        assert (await http.get("/api/me")).status_code == 200  # the cookie works
        assert (await http.post("/api/auth/logout")).status_code == 200
        http.cookies.set("chatserver_session", token)
        assert (await http.get("/api/me")).status_code == 401
    async with server.http() as http:
        r = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
