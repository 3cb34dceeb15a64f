"""Issue #16 point 5: the reads and acts that reach beyond one's own conversations are in the
audit log: listing the live conversations, ending someone else's conversation, the moderation
lists, the register of requests (list and one request) and `keys rotate`."""

from __future__ import annotations

import argparse
from typing import Any

from chatserver.cli import keys_rotate_command
from chatserver.config import Settings
from chatserver.privacy.audit import ACTIONS
from chatserver.store import Store
from tests.helpers import Server


async def actions_of(server: Server, **filters: Any) -> list[tuple[str, str | None]]:
    rows = await server.components.store.audit.entries(limit=1000, **filters)
    return [(r.action, r.actor) for r in sorted(rows, key=lambda r: r.id)]


async def test_listing_and_ending_someone_elses_conversation_are_audited(server: Server) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {})
    chatter = await server.chatter()
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    sue = await server.staff("sue", "supervisor")
    listed = await sue.call("list_conversations", {})
    assert [c["conversation_id"] for c in listed["conversations"]] == [cid]
    assert (await sue.call("end", {"conversation_id": cid}))["ok"]
    assert await actions_of(server) == [("conversations_listed", "sue"),
                                        ("conversation_ended", "sue")]
    ended = await server.components.store.audit.entries(action="conversation_ended", limit=5)
    assert ended[0].conversation_id == cid

    # A volunteer ending their own conversation is their work, not an audited reach.
    chatter2 = await server.chatter()
    cid2 = (await chatter2.call("start", {}))["conversation_id"]
    await vera.expect("assigned", lambda a: a["conversation_id"] == cid2)
    assert (await vera.call("end", {"conversation_id": cid2}))["ok"]
    assert await actions_of(server, conversation_id=cid2) == []


async def test_moderation_lists_and_the_request_register_reads_are_audited(
    server: Server,
) -> None:
    await server.add_user("cora", "coordinator")
    token = await server.login("cora")
    async with server.http(headers={"Authorization": f"Bearer {token}"}) as http:
        assert (await http.get("/api/moderation/blocks")).status_code == 200
        assert (await http.get("/api/moderation/sanctions",
                               params={"kind": "timeout", "active": "1"})).status_code == 200
        assert (await http.get("/api/moderation/timeouts")).status_code == 200
        r = await http.post("/api/privacy/requests", json={"kind": "access",
                                                          "reference": "ABCD-EFGH-JK"})
        assert r.status_code == 201, r.text
        rid = r.json()["request"]["id"]
        assert (await http.get("/api/privacy/requests")).status_code == 200
        assert (await http.get(f"/api/privacy/requests/{rid}")).status_code == 200
    assert await actions_of(server) == [
        ("sanctions_read", "cora"), ("sanctions_read", "cora"), ("repeat_timeouts_read", "cora"),
        ("request_created", "cora"), ("requests_read", "cora"), ("request_read", "cora"),
    ]
    read = await server.components.store.audit.entries(action="request_read", limit=5)
    assert rid in (read[0].detail or "")


async def test_keys_rotate_is_audited(settings: Settings) -> None:
    assert await keys_rotate_command(settings, argparse.Namespace(batch=100)) == 0
    store = Store.from_settings(settings)
    await store.start()
    try:
        rows = await store.audit.entries(action="keys_rotated", limit=5)
    finally:
        await store.close()
    assert [(r.action, r.actor) for r in rows] == [("keys_rotated", "cli")]


def test_the_new_actions_are_offered_in_the_audit_filter() -> None:
    for action in ("conversations_listed", "conversation_ended", "sanctions_read",
                   "repeat_timeouts_read", "requests_read", "request_read", "keys_rotated"):
        assert action in ACTIONS
