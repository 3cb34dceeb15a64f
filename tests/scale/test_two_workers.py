"""A chatter on one worker and a volunteer on another talk as if on one server."""

from __future__ import annotations

import httpx

from tests.live.postgres_server import PostgresServer
from tests.scale.conftest import Cluster, wait_for


async def test_chatter_and_volunteer_on_different_workers_talk(cluster: Cluster) -> None:
    await cluster.add_users("vera", "wim")
    a, b = cluster.start(2)
    vera = await b.staff("vera")
    wim = await a.staff("wim")  # not available: hears the queue's size
    chatter = await a.chatter("10.0.0.1")
    try:
        assert (await vera.call("available", {"capacity": 1}))["ok"]
        start = await chatter.call("start", {"age": 15})
        cid, token = start["conversation_id"], start["resume_token"]
        assigned = await vera.expect("assigned")
        assert assigned["conversation_id"] == cid and assigned["age"] == 15
        assert (await chatter.expect("paired"))["volunteer"] == "Vera"

        # relay both ways, typing both ways
        assert (await chatter.call("message", {"text": "hoi"}))["ok"]
        assert (await vera.expect("message"))["text"] == "hoi"
        assert (await vera.call("message", {"conversation_id": cid, "text": "hallo"}))["ok"]
        assert (await chatter.expect("message"))["text"] == "hallo"
        await chatter.call("typing", {"typing": True})
        assert (await vera.expect("typing"))["typing"] is True
        await vera.call("typing", {"conversation_id": cid, "typing": True})
        assert (await chatter.expect("typing"))["typing"] is True

        # the chatter's ack was recorded (by worker a, which holds the chatter's socket):
        # nothing counts as missed
        await wait_for(lambda: cluster.delivered_seq(cid) > 0)

        # a second chatter on b waits; staff on a hear the queue's size
        second = await b.chatter("10.0.0.2")
        assert (await second.call("start", {}))["position"] == 1
        assert await wim.expect("queue_size", lambda d: d["waiting"] == 1)

        # the chatter reconnects to the other worker: nothing missed, the chat goes on
        await chatter.close()
        again = await b.chatter("10.0.0.1")
        resumed = await again.call("resume", {"resume_token": token})
        assert resumed["status"] == "active" and resumed["messages"] == []
        await vera.call("message", {"conversation_id": cid, "text": "nog daar?"})
        assert (await again.expect("message"))["text"] == "nog daar?"

        # the volunteer ends; the waiting chatter on b is paired with vera
        assert (await vera.call("end", {"conversation_id": cid}))["ok"]
        assert (await again.expect("ended"))["reason"] == "volunteer"
        assert await second.expect("paired")
        assert await wim.expect("queue_size", lambda d: d["waiting"] == 0)
        await second.close()
        await again.close()
    finally:
        for p in (vera, wim, chatter):
            await p.close()


async def test_logout_on_one_worker_closes_the_sessions_sockets_on_another(
        cluster: Cluster) -> None:
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await b.staff("vera")
    async with httpx.AsyncClient(base_url=a.url) as http:
        r = await http.post("/api/auth/logout",
                            headers={"Authorization": f"Bearer {vera.token}"})  # type: ignore[attr-defined]
        assert r.status_code == 200
    await vera.expect("disconnect")


async def test_serve_with_two_workers_answers_and_pairs(cluster: Cluster) -> None:
    await cluster.add_users("vera")
    (server,) = cluster.start(1, "--workers", "2")
    vera = await server.staff("vera")
    chatters = [await server.chatter(f"10.0.1.{i}") for i in range(4)]
    try:
        await vera.call("available", {"capacity": 4})
        for c in chatters:
            assert (await c.call("start", {}))["ok"]
        for c in chatters:
            await c.expect("paired")
            assert (await c.call("message", {"text": "hoi"}))["ok"]
        for _ in chatters:
            await vera.expect("message", lambda m: m["text"] == "hoi")
    finally:
        for p in (vera, *chatters):
            await p.close()


async def test_two_workers_on_postgresql(cluster: Cluster, postgres: PostgresServer) -> None:
    cluster.env["CHATSERVER_DATABASE_URL"] = postgres.create_database("scale")
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await a.staff("vera")
    chatter = await b.chatter("10.4.0.1")
    try:
        await vera.call("available", {})
        cid = (await chatter.call("start", {}))["conversation_id"]
        await chatter.expect("paired")
        assert (await chatter.call("message", {"text": "hoi", "client_id": "m1"}))["ok"]
        assert (await vera.expect("message"))["text"] == "hoi"
        again = await chatter.call("message", {"text": "hoi", "client_id": "m1"})
        await vera.call("message", {"conversation_id": cid, "text": "hallo"})
        assert (await chatter.expect("message"))["text"] == "hallo"
        async with httpx.AsyncClient(base_url=b.url) as http:
            r = await http.get(f"/api/conversations/{cid}/transcript",
                               headers={"Authorization": f"Bearer {vera.token}"})  # type: ignore[attr-defined]
        assert [m["text"] for m in r.json()["messages"]] == ["hoi", "hallo"]
        assert again["ok"]
    finally:
        await vera.close()
        await chatter.close()


async def test_a_reload_onto_the_other_worker_right_after_a_message_does_not_get_it_again(
        cluster: Cluster) -> None:
    """The acknowledgement of the last message is recorded by the chatter's worker; the batched
    mark may be 0.2 s away. Leaving commits it first, so a resume on the other worker as soon
    as the socket is gone (as fast as a reload) finds it."""
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await b.staff("vera")
    chatter = await a.chatter("10.0.9.1")
    try:
        assert (await vera.call("available", {"capacity": 1}))["ok"]
        start = await chatter.call("start", {})
        cid, token = start["conversation_id"], start["resume_token"]
        await chatter.expect("paired")
        assert (await vera.call("message", {"conversation_id": cid, "text": "gezien"}))["ok"]
        assert (await chatter.expect("message"))["text"] == "gezien"
        assert (await chatter.call("typing", {"typing": True}))["ok"]  # after the ack
        await chatter.close()
        # worker a let the socket go (the step a reload waits for at most)
        await wait_for(lambda: b"chatter_sid" not in cluster.redis.command(
            "HKEYS", f"cs:conv:{cid}"))
        again = await b.chatter("10.0.9.1")
        resumed = await again.call("resume", {"resume_token": token})
        assert resumed["status"] == "active" and resumed["messages"] == []
        await again.close()
    finally:
        await vera.close()
        await chatter.close()
