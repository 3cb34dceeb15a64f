"""Failures: Redis restarts mid-conversation; a worker is killed with its chatter on it."""

from __future__ import annotations

import asyncio

import httpx

from tests.scale.conftest import Cluster, wait_for


def subscribers(cluster: Cluster, channel: str, kind: str = "NUMSUB") -> int:
    reply = cluster.redis.command("PUBSUB", kind, channel).split(b"\r\n")
    return int(reply[3][1:]) if len(reply) > 3 and reply[3].startswith(b":") else -1


async def test_redis_restart_mid_conversation(cluster: Cluster) -> None:
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await b.staff("vera")
    chatter = await a.chatter("10.2.0.1")
    try:
        await vera.call("available", {"capacity": 1})
        cid = (await chatter.call("start", {}))["conversation_id"]
        await chatter.expect("paired")
        await chatter.call("message", {"text": "voor"})
        assert (await vera.expect("message"))["text"] == "voor"

        cluster.redis.stop()  # kill -9: no persistence, everything live is gone
        for w in (a, b):
            body = await asyncio.to_thread(w.wait_health, 503, 10,
                                           lambda b: b.get("delivery") == "unavailable")
            assert body["status"] == "unavailable" and body["redis"] == "unavailable"
        ack = await asyncio.wait_for(chatter.call("message", {"text": "tijdens"}), 10)
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable"

        cluster.redis.start()  # same port, empty
        for w in (a, b):
            body = await asyncio.to_thread(w.wait_health, 200, 30)
            assert body["delivery"] == "ok"  # the delivery listener is subscribed again
        # both workers listen again (Socket.IO's sharded channels and the live state's)
        await wait_for(lambda: subscribers(cluster, "cs:sio:all", "SHARDNUMSUB") == 2,
                       within=30)
        await wait_for(lambda: subscribers(cluster, "cs:events") == 2, within=30)
        # the conversation is rebuilt from SQL and both sockets are known again
        await wait_for(lambda: b"chatter_sid" in cluster.redis.command(
            "HKEYS", f"cs:conv:{cid}"), within=15)

        assert (await chatter.call("message", {"text": "na"}))["ok"]
        assert (await vera.expect("message"))["text"] == "na"
        assert (await vera.call("message", {"conversation_id": cid, "text": "ik ben er"}))["ok"]
        assert (await chatter.expect("message"))["text"] == "ik ben er"
        assert chatter.seen("ended") == [] and vera.seen("ended") == []
    finally:
        await vera.close()
        await chatter.close()


async def test_killed_worker_its_chatter_resumes_on_another_nothing_lost(
        cluster: Cluster) -> None:
    cluster.env["CHATSERVER_CHATTER_GRACE_SECONDS"] = "3"
    await cluster.add_users("vera")
    a, b = cluster.start(2)
    vera = await b.staff("vera")
    chatter = await a.chatter("10.3.0.1")
    lost = await a.chatter("10.3.0.2")  # never comes back
    try:
        await vera.call("available", {"capacity": 2})
        start = await chatter.call("start", {})
        cid, token = start["conversation_id"], start["resume_token"]
        gone = (await lost.call("start", {}))["conversation_id"]
        await chatter.expect("paired")
        await lost.expect("paired")
        sent = [await chatter.call("message", {"text": "een"})]
        await vera.call("message", {"conversation_id": cid, "text": "twee"})
        assert (await chatter.expect("message"))["text"] == "twee"
        # the chatter's acknowledgement of "twee" is in the database (recorded by worker a,
        # which holds the chatter's socket, before it dies)
        await wait_for(lambda: cluster.delivered_seq(cid) > 0)

        a.kill()  # SIGKILL: no goodbye, no disconnect handlers
        for text in ("drie", "vier"):
            sent.append(await vera.call("message", {"conversation_id": cid, "text": text}))
        assert all(ack["ok"] for ack in sent)

        again = await b.chatter("10.3.0.1")
        resumed = await again.call("resume", {"resume_token": token})
        assert resumed["status"] == "active"
        assert [m["text"] for m in resumed["messages"]] == ["drie", "vier"]
        assert (await again.call("message", {"text": "vijf"}))["ok"]
        assert (await vera.expect("message", lambda m: m["text"] == "vijf"))
        await vera.call("message", {"conversation_id": cid, "text": "zes"})
        assert (await again.expect("message"))["text"] == "zes"

        # the chatter who never came back: worker b takes over and ends it after the grace
        ended = await vera.expect("ended", lambda e: e["conversation_id"] == gone, timeout=20)
        assert ended["reason"] == "chatter"

        async with httpx.AsyncClient(base_url=b.url) as http:
            r = await http.get(f"/api/conversations/{cid}/transcript",
                               headers={"Authorization": f"Bearer {vera.token}"})  # type: ignore[attr-defined]
        assert [m["text"] for m in r.json()["messages"]] == [
            "een", "twee", "drie", "vier", "vijf", "zes"]
        await again.close()
    finally:
        await vera.close()
        await chatter.close()
        await lost.close()
