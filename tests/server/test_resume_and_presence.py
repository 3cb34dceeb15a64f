"""Dropped connections: a chatter resumes with what they missed; a volunteer's chats return."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from chatserver.config import Settings
from tests.harness.waiting import eventually
from tests.helpers import Peer, Server, running, server_env


async def paired(server: Server) -> tuple[Peer, Peer, str, str]:
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 2})
    chatter = await server.chatter()
    ack = await chatter.call("start", {})
    await vera.expect("assigned")
    await chatter.expect("paired")
    return chatter, vera, ack["conversation_id"], ack["resume_token"]


async def test_resume_returns_missed_messages_in_order_none_twice(server: Server) -> None:
    chatter, vera, cid, token = await paired(server)
    await vera.call("message", {"conversation_id": cid, "text": "eerste"})
    assert (await chatter.expect("message"))["text"] == "eerste"
    await chatter.close()
    for text in ("tweede", "derde", "vierde"):
        assert (await vera.call("message", {"conversation_id": cid, "text": text}))["ok"]
    again = await server.chatter()
    ack = await again.call("resume", {"resume_token": token})
    assert ack["ok"] and ack["conversation_id"] == cid and ack["status"] == "active"
    assert [m["text"] for m in ack["messages"]] == ["tweede", "derde", "vierde"]
    # the conversation goes on with the new connection
    await vera.call("message", {"conversation_id": cid, "text": "vijfde"})
    assert (await again.expect("message"))["text"] == "vijfde"
    assert (await again.call("message", {"text": "ik ben terug"}))["ok"]
    assert (await vera.expect("message", lambda m: m["text"] == "ik ben terug"))
    # resuming once more without missing anything returns nothing twice
    third = await server.chatter()
    await again.close()
    assert (await third.call("resume", {"resume_token": token}))["messages"] == []


async def test_resume_after_a_given_message(server: Server) -> None:
    chatter, vera, cid, token = await paired(server)
    first = await chatter.call("message", {"text": "a"})
    await vera.call("message", {"conversation_id": cid, "text": "b"})
    await chatter.call("message", {"text": "c"})
    other = await server.chatter()
    ack = await other.call("resume", {"resume_token": token, "after": first["id"]})
    assert [(m["from"], m["text"]) for m in ack["messages"]] == [("volunteer", "b"),
                                                                   ("chatter", "c")]


async def test_resume_with_an_unknown_token_is_not_found(server: Server) -> None:
    chatter = await server.chatter()
    ack = await chatter.call("resume", {"resume_token": "onzin"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    assert (await chatter.call("resume", {}))["error"]["code"] == "invalid"


async def test_resume_of_an_ended_conversation_says_so_with_the_reference(server: Server) -> None:
    chatter, vera, cid, token = await paired(server)
    await vera.call("end", {"conversation_id": cid})
    reference = (await chatter.expect("ended"))["reference"]
    other = await server.chatter()
    ack = await other.call("resume", {"resume_token": token})
    assert ack["status"] == "ended" and ack["reference"] == reference


async def test_a_client_id_makes_a_retried_message_arrive_once(server: Server) -> None:
    chatter, vera, cid, _ = await paired(server)
    one = await chatter.call("message", {"text": "dubbel?", "client_id": "c-1"})
    two = await chatter.call("message", {"text": "dubbel?", "client_id": "c-1"})
    assert one["id"] == two["id"] and one["ts"] == two["ts"]
    await vera.expect("message")
    async with server.http() as http:
        r = await http.get(f"/api/conversations/{cid}/transcript",
                           headers={"Authorization": f"Bearer {vera.token}"})
    assert [m["text"] for m in r.json()["messages"]] == ["dubbel?"]


async def test_volunteer_who_drops_out_gets_the_chat_requeued_at_the_front(server: Server) -> None:
    chatter, vera, cid, _ = await paired(server)
    waiting = await server.chatter()
    await waiting.call("start", {})
    await vera.close()
    requeued = await chatter.expect("requeued")
    assert requeued == {"conversation_id": cid, "position": 1}
    assert await waiting.expect("queue", lambda d: d["position"] == 2)
    bram = await server.staff("bram", display_name="Bram")
    await bram.call("available", {})
    assert (await bram.expect("assigned"))["conversation_id"] == cid
    assert (await chatter.expect("paired"))["volunteer"] == "Bram"


async def test_volunteer_who_reconnects_within_grace_keeps_the_chat(server: Server) -> None:
    chatter, vera, cid, _ = await paired(server)
    token = vera.token  # type: ignore[attr-defined]
    await vera.sio.disconnect()
    back = Peer(server.url, "/staff")
    server.peers.append(back)
    await back.connect(auth={"token": token})
    state = await back.expect("state")
    assert [c["conversation_id"] for c in state["conversations"]] == [cid]
    await chatter.call("message", {"text": "ben je er nog?"})
    assert (await back.expect("message"))["text"] == "ben je er nog?"
    assert chatter.seen("requeued") == []


async def test_nobody_new_is_assigned_to_a_volunteer_in_their_grace_period(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(server_env(tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
                                            CHATSERVER_VOLUNTEER_GRACE_SECONDS="60"))
    async with running(settings) as srv:
        chatter, vera, cid, _ = await paired(srv)  # capacity 2: room for one more
        token = vera.token  # type: ignore[attr-defined]
        await vera.sio.disconnect()
        newcomer = await srv.chatter()
        ack = await newcomer.call("start", {})
        assert ack["ok"] and ack["position"] == 1
        back = Peer(srv.url, "/staff")
        srv.peers.append(back)
        await back.connect(auth={"token": token})
        state = await back.expect("state")
        # While she was away the newcomer waited; now she is back, the newcomer is hers.
        assert [c["conversation_id"] for c in state["conversations"]] in ([cid], [cid, ack[
            "conversation_id"]])
        assigned = await back.expect("assigned")
        assert assigned["conversation_id"] == ack["conversation_id"]
        await newcomer.expect("paired")
        assert chatter.seen("requeued") == []


async def acknowledged(chatter: Peer, vera: Peer, cid: str, texts: list[str]) -> None:
    """Vera sends `texts`; the chatter receives (and so acknowledges) each. The chatter's own
    message after them is handled after those acknowledgements, and its ack means stored."""
    for text in texts:
        assert (await vera.call("message", {"conversation_id": cid, "text": text}))["ok"]
        assert (await chatter.expect("message"))["text"] == text
    assert (await chatter.call("message", {"text": "oké"}))["ok"]


async def test_resume_after_the_end_sends_only_what_was_not_acknowledged(server: Server) -> None:
    chatter, vera, cid, token = await paired(server)
    await acknowledged(chatter, vera, cid, ["een", "twee", "drie"])
    await chatter.close()
    assert (await vera.call("message", {"conversation_id": cid, "text": "vier"}))["ok"]
    assert (await vera.call("end", {"conversation_id": cid}))["ok"]
    again = await server.chatter()
    ack = await again.call("resume", {"resume_token": token})
    assert ack["status"] == "ended"
    assert [m["text"] for m in ack["messages"]] == ["vier"]


async def test_a_reload_right_after_an_acknowledgement_does_not_get_the_message_again(
    server: Server
) -> None:
    """The acknowledgement's database mark is committed a moment later (db.MARK_DELAY); a
    resume in that moment (a page reloaded at once) must already count it."""
    chatter, vera, cid, token = await paired(server)
    assert (await vera.call("message", {"conversation_id": cid, "text": "gezien"}))["ok"]
    assert (await chatter.expect("message"))["text"] == "gezien"
    # handled after the acknowledgement the client sent on receipt (same socket, in order)
    assert (await chatter.call("typing", {"typing": True}))["ok"]
    await chatter.close()
    again = await server.chatter()
    ack = await again.call("resume", {"resume_token": token})
    assert ack["status"] == "active" and ack["messages"] == []


async def test_resume_after_a_restart_sends_only_what_was_not_acknowledged(
    settings: Settings,
) -> None:
    async with running(settings) as srv:
        chatter, vera, cid, token = await paired(srv)
        await acknowledged(chatter, vera, cid, ["een", "twee"])
        await chatter.close()
        assert (await vera.call("message", {"conversation_id": cid, "text": "drie"}))["ok"]
    async with running(settings) as srv:
        again = await srv.chatter()
        ack = await again.call("resume", {"resume_token": token})
        assert ack["ok"] and ack["conversation_id"] == cid
        assert [m["text"] for m in ack["messages"]] == ["drie"]
        third = await srv.chatter()
        await again.close()
        assert (await third.call("resume", {"resume_token": token}))["messages"] == []


async def test_a_message_stored_while_the_chatter_resumes_arrives_exactly_once(
    server: Server,
) -> None:
    """The soak's lost message: a volunteer message whose write was still in flight while the
    chatter resumed reached neither the resume reply nor the new socket. The write is held
    here until the resume has either finished (the old behaviour) or waits its turn."""
    chatter, vera, cid, token = await paired(server)
    await chatter.close()
    messages = server.components.store.messages
    add, entered, release = messages.add, asyncio.Event(), asyncio.Event()

    async def held_add(*args: Any, **kwargs: Any) -> Any:
        if args[1] == "volunteer":
            entered.set()
            await release.wait()
        return await add(*args, **kwargs)

    messages.add = held_add  # type: ignore[method-assign]
    try:
        sending = asyncio.ensure_future(
            vera.call("message", {"conversation_id": cid, "text": "ben je er nog?"}))
        await entered.wait()
        again = await server.chatter()
        resuming = asyncio.ensure_future(again.call("resume", {"resume_token": token}))
        turns = server.components.worker.turns
        await eventually(lambda: resuming.done() or turns.users(cid) == 2)
        release.set()
        assert (await sending)["ok"]
        ack = await resuming
    finally:
        messages.add = add  # type: ignore[method-assign]
    assert (await vera.call("message", {"conversation_id": cid, "text": "hallo"}))["ok"]
    await again.expect("message", lambda m: m["text"] == "hallo")
    live = [m["text"] for m in again.seen("message")]
    replayed = [m["text"] for m in ack["messages"]]
    print("LIVE", live, "REPLAYED", replayed, resuming.done())
    assert (live + replayed).count("ben je er nog?") == 1


async def test_a_message_being_stored_when_the_chatter_leaves_reaches_them_first(
    server: Server,
) -> None:
    """The other half of the soak's lost message: a volunteer's reply still being written when
    the chatter left was stored after the end and acknowledged, but the chatter, gone after
    `leave`'s ack, never had it. Now the end waits for it and the chatter has it first."""
    chatter, vera, cid, _ = await paired(server)
    messages = server.components.store.messages
    add, entered, release = messages.add, asyncio.Event(), asyncio.Event()

    async def held_add(*args: Any, **kwargs: Any) -> Any:
        if args[1] == "volunteer":
            entered.set()
            await release.wait()
        return await add(*args, **kwargs)

    messages.add = held_add  # type: ignore[method-assign]
    try:
        sending = asyncio.ensure_future(
            vera.call("message", {"conversation_id": cid, "text": "tot de volgende keer"}))
        await entered.wait()
        leaving = asyncio.ensure_future(chatter.call("leave", {}))
        turns = server.components.worker.turns
        await eventually(lambda: leaving.done() or turns.users(cid) == 2)
        if leaving.done():
            await chatter.close()  # gone, as a chatter is after leaving
        release.set()
        sent = await sending
        assert (await leaving)["ok"]
    finally:
        messages.add = add  # type: ignore[method-assign]
    got = [m["text"] for m in chatter.seen("message")]
    assert not sent["ok"] or got == ["tot de volgende keer"], (sent, got)
