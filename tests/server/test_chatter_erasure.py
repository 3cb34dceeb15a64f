"""The chatter's own reference and erasure on /chat: `start` hands out the reference, the
erasure page refuses a conversation that still runs, and `erase` after `ended` on the same
connection erases the conversation at once."""

from __future__ import annotations

from typing import Any

from tests.helpers import Peer, Server


async def paired(server: Server) -> tuple[Peer, Peer, dict[str, Any]]:
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 2})
    chatter = await server.chatter()
    ack = await chatter.call("start", {})
    await vera.expect("assigned")
    await chatter.expect("paired")
    return chatter, vera, ack


async def test_start_hands_out_the_reference_and_a_live_conversation_cannot_be_erased(
    server: Server,
) -> None:
    chatter, _vera, ack = await paired(server)
    reference = ack["reference"]
    assert len(reference) == 12
    async with server.http() as http:
        r = await http.post("/api/erase", json={"reference": reference})
        assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_active"
        assert (await chatter.call("leave", {}))["reference"] == reference
        r = await http.post("/api/erase", json={"reference": reference})
        assert r.status_code == 200 and r.json()["ok"] is True
    assert await server.components.store.conversations.get(ack["conversation_id"]) is None


async def test_erase_after_ended_on_the_same_connection(server: Server) -> None:
    chatter, vera, ack = await paired(server)
    cid = ack["conversation_id"]
    await chatter.call("message", {"text": "dit wil ik niet bewaard hebben"})
    refused = await chatter.call("erase", {})
    assert refused["ok"] is False and refused["error"]["code"] == "conversation_active"
    assert refused["error"]["message"].startswith("Je gesprek loopt nog")

    assert (await vera.call("end", {"conversation_id": cid}))["ok"]
    await chatter.expect("ended")
    erased = await chatter.call("erase", {})
    assert erased["ok"] is True
    store = server.components.store
    assert await store.conversations.get(cid) is None
    assert await store.messages.of_conversation(cid) == []
    entries = await store.audit.entries(action="self_erasure", limit=10)
    assert [e.conversation_id for e in entries] == [cid]

    again = await chatter.call("erase", {})
    assert again["ok"] is False and again["error"]["code"] == "invalid"
    assert again["error"]["message"]  # in Dutch, for the person


async def test_erase_without_a_conversation_is_invalid(server: Server) -> None:
    chatter = await server.chatter()
    answer = await chatter.call("erase", {})
    assert answer["ok"] is False and answer["error"]["code"] == "invalid"
    assert answer["error"]["message"] == "Er is geen afgelopen gesprek om te wissen."
    bad = await chatter.call("erase", "wis")
    assert bad["error"]["code"] == "invalid"


async def test_erase_after_leave_and_after_a_resume_of_the_ended_conversation(
    server: Server,
) -> None:
    chatter, vera, _ack = await paired(server)
    assert (await chatter.call("leave", {}))["ok"]
    assert (await chatter.call("erase", {}))["ok"] is True

    chatter2 = await server.chatter()
    ack2 = await chatter2.call("start", {})
    await vera.expect("assigned")
    await chatter2.close()
    assert (await vera.call("end", {"conversation_id": ack2["conversation_id"]}))["ok"]
    back = await server.chatter()
    resumed = await back.call("resume", {"resume_token": ack2["resume_token"]})
    assert resumed["status"] == "ended" and resumed["reference"] == ack2["reference"]
    assert (await back.call("erase", {}))["ok"] is True
    assert await server.components.store.conversations.get(ack2["conversation_id"]) is None


async def test_a_coordinator_erases_a_running_conversation_only_after_its_end(
    server: Server,
) -> None:
    chatter, _vera, ack = await paired(server)
    await server.add_user("cora", "coordinator")
    token = await server.login("cora")
    async with server.http(headers={"Authorization": f"Bearer {token}"}) as http:
        r = await http.post("/api/privacy/requests", json={"kind": "erasure",
                                                          "reference": ack["reference"]})
        assert r.status_code == 201 and r.json()["request"]["conversation_found"]
        rid = r.json()["request"]["id"]
        r = await http.post(f"/api/privacy/requests/{rid}/erase", json={"confirm": True})
        assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_active"
        assert (await chatter.call("leave", {}))["ok"]
        r = await http.post(f"/api/privacy/requests/{rid}/erase", json={"confirm": True})
        assert r.status_code == 200, r.text
    assert await server.components.store.conversations.get(ack["conversation_id"]) is None
