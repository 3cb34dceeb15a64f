""""Wis mijn gesprek" over HTTP: the young person erases their own ended conversation with
their reference code (POST /api/erase, the page /wissen), recorded as an erasure on their word."""

from __future__ import annotations

import json

import pytest

from chatserver.config import Settings
from chatserver.errors import ChatError
from chatserver.privacy.self_erasure import erase_own
from tests.helpers import Server


async def ended_conversation(server: Server) -> tuple[str, str]:
    vera = await server.staff("vera")
    await vera.call("available", {"capacity": 1})
    chatter = await server.chatter()
    started = await chatter.call("start", {})
    await chatter.expect("paired")
    cid = started["conversation_id"]
    assert (await chatter.call("message", {"text": "ik zit op het Erasmus in Almelo"}))["ok"]
    left = await chatter.call("leave", {})
    await chatter.close()
    await vera.close()
    return cid, left["reference"]


async def test_the_chatter_erases_their_conversation_with_the_code(server: Server) -> None:
    cid, reference = await ended_conversation(server)
    store = server.components.store
    async with server.http() as http:
        r = await http.post("/api/erase", json={"reference": reference.lower()})
        assert r.status_code == 200, r.text
        assert r.json()["ok"] is True
        assert any("Back-ups" in line for line in r.json()["not_erased"])
        assert await store.conversations.get(cid) is None
        assert await store.messages.of_conversation(cid) == []
        # A second time: nothing left to erase.
        again = await http.post("/api/erase", json={"reference": reference})
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    [request] = await store.subject_requests.find(None)
    assert (request.kind, request.status, request.created_by) == ("erasure", "done", "jongere zelf")
    assert json.loads(request.outcome or "{}")["erased"]["messages"] == 1
    entries = await store.audit.entries(action="self_erasure")
    assert [e.conversation_id for e in entries] == [cid]
    assert "Erasmus" not in json.dumps([e.detail for e in entries])


async def test_bad_codes_get_a_clear_error_and_guessing_is_limited(settings: Settings,
                                                                  server: Server) -> None:
    async with server.http() as http:
        for body, code in [({"reference": "abc"}, "invalid_reference"), ({}, "invalid_reference"),
                           ({"reference": 12345678}, "invalid_reference")]:
            r = await http.post("/api/erase", json=body)
            assert (r.status_code, r.json()["error"]["code"]) == (400, code)
        r = await http.post("/api/erase", content=b"geen json",
                            headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid")
        codes = [(await http.post("/api/erase", json={"reference": "K7M2-9QXD-4R"})).status_code
                 for _ in range(12)]
        assert codes[0] == 404 and codes[-1] == 429


async def test_a_conversation_that_still_runs_is_not_erased(server: Server) -> None:
    chatter = await server.chatter()
    started = await chatter.call("start", {})
    cid = started["conversation_id"]
    ctx = server.components.ctx
    with pytest.raises(ChatError) as refused:
        await erase_own(ctx.store, ctx.clock, ctx.settings.secret_key, cid)
    assert refused.value.code == "conversation_active"
    assert await ctx.store.conversations.get(cid) is not None
