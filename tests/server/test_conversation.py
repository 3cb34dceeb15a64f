"""A chatter and a volunteer, end to end over real websockets."""

from __future__ import annotations

from tests.helpers import Server


async def test_chatter_waits_volunteer_comes_online_they_talk_and_end(server: Server) -> None:
    chatter = await server.chatter()
    ack = await chatter.call("start", {"age": 14})
    assert ack["ok"] is True and ack["position"] == 1 and ack["resume_token"]
    cid = ack["conversation_id"]

    vera = await server.staff("vera", display_name="Vera")
    assert (await vera.call("available", {"capacity": 2}))["ok"] is True
    assigned = await vera.expect("assigned")
    assert assigned["conversation_id"] == cid
    assert assigned["contact_count"] == 0 and assigned["age"] == 14
    assert "address" not in str(assigned) and len(assigned["chatter"]) > 2
    paired = await chatter.expect("paired")
    assert paired == {"conversation_id": cid, "volunteer": "Vera"}

    sent = await chatter.call("message", {"text": "hoi, ik wil iets vertellen"})
    assert sent["ok"] and sent["id"] and sent["ts"].endswith("Z")
    got = await vera.expect("message")
    assert got == {"id": sent["id"], "conversation_id": cid, "from": "chatter",
                   "text": "hoi, ik wil iets vertellen", "ts": sent["ts"]}

    assert (await vera.call("typing", {"conversation_id": cid, "typing": True}))["ok"]
    assert await chatter.expect("typing") == {"from": "volunteer", "typing": True}
    assert (await chatter.call("typing", {"typing": True}))["ok"]
    assert (await vera.expect("typing"))["from"] == "chatter"

    reply = await vera.call("message", {"conversation_id": cid, "text": "Fijn dat je er bent."})
    assert reply["ok"]
    echoed = await chatter.expect("message")
    assert echoed["from"] == "volunteer" and echoed["text"] == "Fijn dat je er bent."

    assert (await vera.call("end", {"conversation_id": cid}))["ok"]
    ended = await chatter.expect("ended")
    assert ended["reason"] == "volunteer" and ended["conversation_id"] == cid
    assert len(ended["reference"]) == 12
    assert (await vera.expect("ended")) == {"conversation_id": cid, "reason": "volunteer"}
    assert (await vera.call("register", {"conversation_id": cid, "age": 15,
                                         "topic": "School"}))["ok"]

    async with server.http() as http:
        r = await http.get(f"/api/conversations/{cid}/transcript",
                           headers={"Authorization": f"Bearer {vera.token}"})
    assert r.status_code == 200
    body = r.json()
    assert [(m["from"], m["text"], m["redacted"]) for m in body["messages"]] == [
        ("chatter", "hoi, ik wil iets vertellen", False),
        ("volunteer", "Fijn dat je er bent.", False),
    ]


async def test_chatter_leaves_and_gets_a_reference(server: Server) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {})
    chatter = await server.chatter()
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    left = await chatter.call("leave", {})
    assert left["ok"] and len(left["reference"]) == 12
    assert (await chatter.expect("ended"))["reference"] == left["reference"]
    assert (await vera.expect("ended")) == {"conversation_id": cid, "reason": "chatter"}
    # the volunteer is free again: the next chatter is paired at once
    second = await server.chatter()
    cid2 = (await second.call("start", {}))["conversation_id"]
    assert (await vera.expect("assigned"))["conversation_id"] == cid2


async def test_queue_is_fifo_and_positions_are_live(server: Server) -> None:
    chatters = [await server.chatter() for _ in range(4)]
    acks = [await c.call("start", {}) for c in chatters]
    assert [a["position"] for a in acks] == [1, 2, 3, 4]
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 1})
    assert (await vera.expect("assigned"))["conversation_id"] == acks[0]["conversation_id"]
    for chatter, position in zip(chatters[1:], [1, 2, 3], strict=True):
        assert (await chatter.expect("queue", lambda d, p=position: d["position"] == p))
    await vera.expect("queue_size", lambda d: d["waiting"] == 3)
    # a chatter in the middle leaves: the ones behind move up
    await chatters[2].call("leave", {})
    assert await chatters[3].expect("queue", lambda d: d["position"] == 2)


async def test_least_loaded_then_longest_idle_volunteer_is_chosen(server: Server) -> None:
    anna = await server.staff("anna")
    bram = await server.staff("bram")
    await anna.call("available", {"capacity": 3})
    await bram.call("available", {"capacity": 3})
    first, second, third = [await server.chatter() for _ in range(3)]
    await first.call("start", {})
    # anna became available first, so she has been idle longest
    await anna.expect("assigned")
    await second.call("start", {})
    await bram.expect("assigned")  # bram has fewer active conversations
    await third.call("start", {})
    # equal load (1 each); anna was assigned longer ago, so she has been idle longer
    await anna.expect("assigned")


async def test_capacity_is_respected(server: Server) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 2})
    chatters = [await server.chatter() for _ in range(3)]
    acks = [await c.call("start", {}) for c in chatters]
    await vera.expect("assigned")
    await vera.expect("assigned")
    assert acks[2]["position"] == 1
    # a round trip through the server: the third is still waiting, not assigned
    await vera.call("typing", {"conversation_id": acks[0]["conversation_id"], "typing": False})
    assert vera.seen("assigned") == []
    await chatters[0].call("leave", {})
    assert (await vera.expect("assigned"))["conversation_id"] == acks[2]["conversation_id"]


async def test_contact_count_counts_earlier_conversations_of_the_same_address(
    server: Server,
) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 3})
    for expected in (0, 1, 2):
        chatter = await server.chatter()
        await chatter.call("start", {})
        assert (await vera.expect("assigned"))["contact_count"] == expected
        await chatter.call("leave", {})
    other = await server.chatter(headers={"X-Forwarded-For": "203.0.113.9"})
    await other.call("start", {})
    # an untrusted peer's X-Forwarded-For is ignored: same socket address, same person
    assert (await vera.expect("assigned"))["contact_count"] == 3
