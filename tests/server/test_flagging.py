"""Flagging: the redaction pipeline replaces a message everywhere, and the original is gone."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from chatserver.config import Settings
from tests.helpers import Peer, Server, Subprocess, running, server_env

pytest.importorskip("redaction")

SECRET = "ik ben Sanne de Groot en mijn nummer is 06-12345678"


@pytest.fixture
def redacting(tmp_path: Path) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data", CHATSERVER_REDACTOR="true",
                                        CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
                                        CHATSERVER_RATE_BURST="500"))


@pytest.fixture
async def srv(redacting: Settings) -> AsyncIterator[Server]:
    async with running(redacting) as server:
        yield server


async def warm(server: Server) -> None:
    """The pipeline loads in the background; these tests start once /healthz says it is ready."""
    worker = server.components.redactor
    await asyncio.wait_for(asyncio.shield(worker._loading), 180)
    assert worker.status == "ready", worker.error


async def conversation(server: Server) -> tuple[Peer, Peer, str, str]:
    await warm(server)
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 2})
    chatter = await server.chatter()
    ack = await chatter.call("start", {})
    await vera.expect("assigned")
    return chatter, vera, ack["conversation_id"], ack["resume_token"]


async def test_flag_redacts_in_ack_both_views_transcript_resume_and_files(
    srv: Server, redacting: Settings
) -> None:
    chatter, vera, cid, token = await conversation(srv)
    sam = await srv.staff("sam", "supervisor")
    await sam.call("monitor", {"conversation_id": cid})
    first = await chatter.call("message", {"text": "hoi"})
    sent = await chatter.call("message", {"text": SECRET})
    await vera.expect("message", lambda m: m["id"] == sent["id"])
    store = srv.components.store
    async with store.db.engine.connect() as conn:
        sealed_before = (await conn.exec_driver_sql(
            "SELECT text FROM messages WHERE id = ?", (sent["id"],))).scalar_one()

    ack = await vera.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
    assert ack["ok"], ack
    assert "Sanne" not in ack["text"] and "12345678" not in ack["text"]
    assert "[NAAM]" in ack["text"] and "[TELEFOONNUMMER]" in ack["text"]
    types = {e["type"] for e in ack["entities"]}
    assert {"PERSON", "PHONE_NUMBER"} <= types
    for e in ack["entities"]:
        assert 0 <= e["start"] < e["end"] <= len(SECRET)
    expected = {"conversation_id": cid, "message_id": sent["id"], "text": ack["text"]}
    assert await chatter.expect("redacted") == expected
    assert await sam.expect("redacted") == expected

    async with srv.http() as http:
        r = await http.get(f"/api/conversations/{cid}/transcript",
                           headers={"Authorization": f"Bearer {vera.token}"})
    by_id = {m["id"]: m for m in r.json()["messages"]}
    assert by_id[sent["id"]]["redacted"] is True and by_id[sent["id"]]["text"] == ack["text"]
    assert by_id[first["id"]]["redacted"] is False

    other = await srv.chatter()
    resumed = await other.call("resume", {"resume_token": token, "after": first["id"]})
    assert [m["text"] for m in resumed["messages"]] == [ack["text"]]

    # flagging twice is harmless
    again = await vera.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
    assert again["ok"] and again["text"] == ack["text"]
    await srv.stop()
    for path in redacting.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert SECRET.encode() not in content and b"Sanne" not in content, path
            assert sealed_before.encode() not in content, path


async def test_a_flag_that_finds_nothing_marks_the_message_checked(srv: Server) -> None:
    chatter, vera, cid, _ = await conversation(srv)
    sent = await chatter.call("message", {"text": "ik voel me vandaag echt verdrietig"})
    ack = await vera.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
    assert ack == {"ok": True, "text": "ik voel me vandaag echt verdrietig", "entities": [],
                   "redacted": False, "checked": True}
    assert chatter.seen("redacted") == []


async def test_manual_span_redaction(srv: Server) -> None:
    chatter, vera, cid, _ = await conversation(srv)
    text = "mijn bijnaam op school is kiwi"
    sent = await chatter.call("message", {"text": text})
    start = text.index("kiwi")
    bad = await vera.call("redact_span", {"conversation_id": cid, "message_id": sent["id"],
                                          "start": start, "end": 999, "type": "PERSON"})
    assert bad["error"]["code"] == "invalid"
    bad = await vera.call("redact_span", {"conversation_id": cid, "message_id": sent["id"],
                                          "start": start, "end": start + 4, "type": "ONZIN"})
    assert bad["error"]["code"] == "invalid"
    ack = await vera.call("redact_span", {"conversation_id": cid, "message_id": sent["id"],
                                          "start": start, "end": start + 4, "type": "PERSON"})
    assert ack == {"ok": True, "text": "mijn bijnaam op school is [NAAM]"}
    assert (await chatter.expect("redacted"))["text"] == ack["text"]


async def test_others_may_not_flag(srv: Server) -> None:
    chatter, vera, cid, _ = await conversation(srv)
    sent = await chatter.call("message", {"text": SECRET})
    bram = await srv.staff("bram")
    ack = await bram.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
    assert ack["error"]["code"] == "forbidden"
    ack = await bram.call("redact_span", {"conversation_id": cid, "message_id": sent["id"],
                                          "start": 0, "end": 2, "type": "PERSON"})
    assert ack["error"]["code"] == "forbidden"
    ack = await chatter.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
    assert ack["error"]["code"] == "invalid"
    ack = await vera.call("flag", {"conversation_id": cid, "message_id": "bestaatniet"})
    assert ack["error"]["code"] == "not_found"


async def test_hints_follow_delivery(srv: Server) -> None:
    chatter, vera, cid, _ = await conversation(srv)
    warm = await chatter.call("message", {"text": "hoi"})
    await vera.call("flag", {"conversation_id": cid, "message_id": warm["id"]})  # waits for warm-up
    sent = await chatter.call("message", {"text": SECRET})
    await vera.expect("message", lambda m: m["id"] == sent["id"])
    hints = await vera.expect("hints")
    assert hints["message_id"] == sent["id"] and "text" not in hints
    assert "PHONE_NUMBER" in {e["type"] for e in hints["entities"]}


async def test_fifty_flags_at_once_do_not_delay_messages(tmp_path: Path) -> None:
    # A server process of its own, so that the test's clients do not share its event loop.
    proc = Subprocess(tmp_path / "data", CHATSERVER_REDACTOR="true", CHATSERVER_RATE_BURST="500")
    proc.cli("users", "add", "vera", "--role", "volunteer", "--password-stdin",
             stdin="wachtwoord-123\n")
    proc.start()
    try:
        await _fifty_flags(proc)
    finally:
        proc.stop()


async def _fifty_flags(proc: Subprocess) -> None:
    async with httpx.AsyncClient(base_url=proc.url) as http:
        for _ in range(1800):  # bounded: the pipeline loads in the background
            if (await http.get("/healthz")).json()["redactor"] != "warming":
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/healthz")).json()["redactor"] == "ready"
        token = (await http.post("/api/auth/login", json={
            "username": "vera", "password": "wachtwoord-123"})).json()["token"]
    vera = Peer(proc.url, "/staff")
    await vera.connect(auth={"token": token})
    await vera.call("available", {})
    chatter = Peer(proc.url, "/chat")
    await chatter.connect()
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    ids = [(await chatter.call("message", {"text": f"{SECRET} ({i})"}))["id"] for i in range(30)]
    ids += [(await vera.call("message", {"conversation_id": cid, "text": f"Sanne {i}"}))["id"]
            for i in range(20)]
    arrived: dict[str, asyncio.Event] = {}

    @chatter.sio.on("message", namespace="/chat")
    async def on_message(data: dict) -> None:
        arrived.setdefault(data["text"], asyncio.Event()).set()

    async def keep_talking() -> list[float]:
        delays = []
        for i in range(25):
            text = f"gewoon bericht {i}"
            event = arrived.setdefault(text, asyncio.Event())
            t0 = time.perf_counter()
            await vera.call("message", {"conversation_id": cid, "text": text})
            await asyncio.wait_for(event.wait(), 5)
            delays.append(time.perf_counter() - t0)
            await asyncio.sleep(0.02)  # pacing: one message every ~20 ms, not synchronisation
        return delays

    talk = asyncio.create_task(keep_talking())
    flags = await asyncio.gather(*[
        vera.call("flag", {"conversation_id": cid, "message_id": mid}) for mid in ids
    ])
    delays = await talk
    await chatter.close()
    await vera.close()
    assert all(f["ok"] for f in flags)
    assert sum("[NAAM]" in f["text"] for f in flags) == 50
    assert max(delays) < 0.1, (max(delays), statistics.median(delays))


async def test_a_chatter_away_during_a_redaction_gets_it_on_resume(srv: Server) -> None:
    chatter, vera, cid, token = await conversation(srv)
    text = "mijn bijnaam op school is kiwi"
    sent = await chatter.call("message", {"text": text})
    await vera.expect("message")
    await chatter.close()
    start = text.index("kiwi")
    ack = await vera.call("redact_span", {"conversation_id": cid, "message_id": sent["id"],
                                          "start": start, "end": start + 4, "type": "PERSON"})
    assert ack["ok"]
    again = await srv.chatter()
    resumed = await again.call("resume", {"resume_token": token})
    assert resumed["redacted"] == [{"message_id": sent["id"], "text": ack["text"]}]
