"""Flagging: the redaction pipeline replaces a message everywhere, and the original is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chatserver.config import Settings
from tests.helpers import TIMEOUT, Peer, Server, running, server_env

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


async def test_messages_flow_both_ways_while_fifty_flags_wait_for_the_redactor(
    srv: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The redactor is held on an event: fifty flags stay outstanding while the chatter and
    the volunteer go on talking; released, every flag completes. (How long messages take
    while flags run is a figure of bench/flag_bench.py, not an assertion here.)"""
    chatter, vera, cid, _ = await conversation(srv)
    ids = [(await chatter.call("message", {"text": f"{SECRET} ({i})"}))["id"] for i in range(30)]
    ids += [(await vera.call("message", {"conversation_id": cid, "text": f"Sanne {i}"}))["id"]
            for i in range(20)]
    worker = srv.components.redactor
    redact = worker.redact
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(text: str) -> tuple[str, list[dict[str, Any]]]:
        entered.set()
        await release.wait()
        return await redact(text)

    monkeypatch.setattr(worker, "redact", held)
    flags = [asyncio.create_task(vera.call("flag", {"conversation_id": cid, "message_id": mid},
                                           timeout=120)) for mid in ids]
    await asyncio.wait_for(entered.wait(), TIMEOUT)

    for i in range(10):
        sent = await chatter.call("message", {"text": f"gewoon bericht {i}"})
        assert sent["ok"], sent
        heard = await vera.expect("message", lambda m, mid=sent["id"]: m["id"] == mid)
        assert heard["text"] == f"gewoon bericht {i}"
        reply = await vera.call("message", {"conversation_id": cid, "text": f"antwoord {i}"})
        assert reply["ok"], reply
        heard = await chatter.expect("message", lambda m, mid=reply["id"]: m["id"] == mid)
        assert heard["text"] == f"antwoord {i}"
    assert not any(flag.done() for flag in flags)  # all fifty still waiting

    release.set()
    acks = await asyncio.gather(*flags)
    assert all(ack["ok"] for ack in acks), [ack for ack in acks if not ack["ok"]][:3]
    assert all("[NAAM]" in ack["text"] and "Sanne" not in ack["text"] for ack in acks)
    redacted = [await chatter.expect("redacted") for _ in ids]
    assert {r["message_id"] for r in redacted} == set(ids)


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
