"""Each worker caches the conversations it relays (issue #17); a change made on another
worker is seen at once: an end refuses the next message, a requeue takes the chat from its
volunteer."""

from __future__ import annotations

from tests.scale.conftest import Cluster


async def test_an_end_on_one_worker_refuses_the_next_message_on_another(
        cluster: Cluster) -> None:
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await a.staff("vera")
    vera_b = await b.staff("vera")  # a second console of hers, on b
    chatter = await b.chatter("10.5.0.1")
    try:
        await vera.call("available", {"capacity": 1})
        start = await chatter.call("start", {})
        cid, token = start["conversation_id"], start["resume_token"]
        await chatter.expect("paired")
        # b has read the conversation (and cached it) for the chatter's messages
        first = await chatter.call("message", {"text": "hoi"})
        assert first["ok"]
        assert (await chatter.call("message", {"text": "ben je er?"}))["ok"]
        assert (await vera.expect("message"))["text"] == "hoi"

        assert (await vera.call("end", {"conversation_id": cid}))["ok"]  # on worker a
        # at once, before the chatter even heard of the end: both sides are refused on b
        after = await chatter.call("message", {"text": "na het einde"})
        assert after == {"ok": False, "error": after["error"]}
        assert after["error"]["code"] == "not_in_conversation"
        late = await vera_b.call("message", {"conversation_id": cid, "text": "nog iets"})
        assert late["ok"] is False and late["error"]["code"] == "conversation_ended"
        assert (await chatter.expect("ended"))["reason"] == "volunteer"

        # nothing was stored after the end: the chatter's own messages since the first
        again = await a.chatter("10.5.0.1")
        resumed = await again.call("resume", {"resume_token": token, "after": first["id"]})
        assert resumed["status"] == "ended"
        assert [m["text"] for m in resumed["messages"]] == ["ben je er?"]
        await again.close()
    finally:
        for p in (vera, vera_b, chatter):
            await p.close()


async def test_a_requeue_on_one_worker_takes_the_chat_from_its_volunteer_on_another(
        cluster: Cluster) -> None:
    cluster.env["CHATSERVER_VOLUNTEER_GRACE_SECONDS"] = "0.5"
    await cluster.add_users("vera", "wim")
    a, b = cluster.start(2)
    vera = await a.staff("vera")
    chatter = await b.chatter("10.5.0.2")
    try:
        await vera.call("available", {"capacity": 1})
        cid = (await chatter.call("start", {}))["conversation_id"]
        await chatter.expect("paired")
        assert (await chatter.call("message", {"text": "hoi"}))["ok"]  # cached on b
        assert (await vera.expect("message"))["text"] == "hoi"

        await vera.close()  # her only console: after the grace period a requeues the chat
        assert (await chatter.expect("requeued"))["conversation_id"] == cid
        vera = await b.staff("vera")  # back, on b, not available: the chat is not hers now
        wim = await b.staff("wim")
        assert (await chatter.call("message", {"text": "is er iemand?"}))["ok"]
        await wim.call("available", {"capacity": 1})
        assert (await wim.expect("assigned"))["conversation_id"] == cid
        assert (await chatter.expect("paired"))["volunteer"] == "Wim"
        assert (await chatter.call("message", {"text": "hallo wim"}))["ok"]
        assert (await wim.expect("message"))["text"] == "hallo wim"
        # vera's console on b heard nothing of the chat after it was taken from her
        assert vera.seen("message") == []
        refused = await vera.call("message", {"conversation_id": cid, "text": "ik weer"})
        assert refused["ok"] is False
        await wim.close()
    finally:
        await vera.close()
        await chatter.close()
