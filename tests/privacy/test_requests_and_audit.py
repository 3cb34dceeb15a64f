"""Requests of data subjects over HTTP: register, deadlines, extension, access, erasure; and
the audit log that records each action, readable and filterable by coordinators only."""

from __future__ import annotations

from datetime import timedelta

import httpx

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.helpers import Server, running
from tests.privacy.conftest import NOW, make_conversation


async def coordinator(server: Server, name: str = "cora") -> httpx.AsyncClient:
    if await server.components.store.staff.user_by_name(name) is None:
        await server.add_user(name, "coordinator")
    token = await server.login(name)
    return server.http(headers={"Authorization": f"Bearer {token}"})


async def test_an_access_request_is_answered_with_everything_held(settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings, clock) as server:
        store = server.components.store
        made = await make_conversation(store, settings, NOW - timedelta(days=10))
        await store.sanctions.add({"kind": "timeout", "address_hash": made.address_hash,
                                  "conversation_id": made.id, "created_at": NOW,
                                  "until": NOW + timedelta(minutes=30)})
        async with await coordinator(server) as http:
            r = await http.post("/api/privacy/requests", json={
                "kind": "access", "reference": made.reference.lower().replace("-", " ")})
            assert r.status_code == 201, r.text
            req = r.json()["request"]
            assert req["conversation_found"] and req["status"] == "open"
            assert req["due_at"].startswith("2026-07-15") and not req["overdue"]
            r = await http.post(f"/api/privacy/requests/{req['id']}/access")
            assert r.status_code == 200, r.text
            export = r.json()
            assert [m["text"] for m in export["messages"]] == [
                "Hoi, ik ben Sanne uit Utrecht", "Hoi Sanne, ik ben Vera"]
            assert export["conversation"]["your_age"] == 15
            assert made.address_hash not in r.text  # the hash itself is never handed out
            assert export["sanctions"][0]["kind"] == "timeout"
            r = await http.get("/api/privacy/audit", params={"conversation_id": made.id})
            actions = [e["action"] for e in r.json()["entries"]]
            assert actions == ["request_access", "request_created"]
            assert {e["actor"] for e in r.json()["entries"]} == {"cora"}


async def test_erasure_deletes_the_conversation_and_says_what_stays(settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings, clock) as server:
        store = server.components.store
        made = await make_conversation(store, settings, NOW - timedelta(days=3))
        other = await make_conversation(store, settings, NOW - timedelta(days=2),
                                        address="b" * 64)
        await store.sanctions.add({"kind": "block", "address_hash": made.address_hash,
                                  "conversation_id": made.id, "created_at": NOW,
                                  "until": NOW + timedelta(days=90)})
        async with await coordinator(server) as http:
            r = await http.post("/api/privacy/requests",
                                json={"kind": "erasure", "reference": made.reference})
            rid = r.json()["request"]["id"]
            r = await http.post(f"/api/privacy/requests/{rid}/erase", json={})
            assert r.status_code == 400 and r.json()["error"]["code"] == "confirm_required"
            r = await http.post(f"/api/privacy/requests/{rid}/erase", json={"confirm": True})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["erased"]["messages"] == 2 and body["erased"]["conversation"] == 1
            assert body["erased"]["sanctions_kept"] == 1
            assert any("blokkade" in line for line in body["not_erased"])
            assert any("onderzoek" in line for line in body["not_erased"])
            assert body["request"]["status"] == "done"
            r = await http.post(f"/api/privacy/requests/{rid}/erase", json={"confirm": True})
            assert r.status_code == 409 and r.json()["error"]["code"] == "already_closed"
        assert await store.conversations.get(made.id) is None
        assert await store.messages.of_conversation(made.id) == []
        assert await store.conversations.get(other.id) is not None
        assert len(await store.messages.of_conversation(other.id)) == 2


async def test_deadlines_extension_and_overdue(settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings, clock) as server:
        made = await make_conversation(server.components.store, settings, NOW)
        async with await coordinator(server) as http:
            ids = []
            for kind in ("objection", "erasure"):
                r = await http.post("/api/privacy/requests", json={
                    "kind": kind, "reference": made.reference, "received_at": "2026-05-31"})
                ids.append(r.json()["request"]["id"])
            assert r.json()["request"]["due_at"].startswith("2026-06-30")
            r = await http.post(f"/api/privacy/requests/{ids[0]}/extend",
                                json={"months": 2, "reason": "Veel verzoeken"})
            assert r.json()["error"]["code"] == "person_not_told"
            r = await http.post(f"/api/privacy/requests/{ids[0]}/extend",
                                json={"months": 3, "reason": "x", "person_told": True})
            assert r.json()["error"]["code"] == "invalid_months"
            r = await http.post(f"/api/privacy/requests/{ids[0]}/extend",
                                json={"months": 2, "reason": "Veel verzoeken",
                                      "person_told": True})
            assert r.status_code == 200, r.text
            assert r.json()["request"]["deadline"].startswith("2026-08-30")
            assert r.json()["request"]["status"] == "extended"
        clock.advance(days=20)  # 5 July: the first month is over
        async with await coordinator(server) as http:
            r = await http.post(f"/api/privacy/requests/{ids[1]}/extend",
                                json={"months": 1, "reason": "Complex", "person_told": True})
            assert r.status_code == 409 and r.json()["error"]["code"] == "too_late"
            listing = (await http.get("/api/privacy/requests")).json()["requests"]
            assert [(q["id"], q["overdue"]) for q in listing] == [(ids[1], True), (ids[0], False)]
            r = await http.post(f"/api/privacy/requests/{ids[1]}/close",
                                json={"outcome": "refused"})
            assert r.json()["error"]["code"] == "reason_required"
            r = await http.post(f"/api/privacy/requests/{ids[1]}/close",
                                json={"outcome": "refused", "note": "Code onbekend"})
            assert r.json()["request"]["status"] == "refused"
            assert not r.json()["request"]["overdue"]


async def test_bad_input_gets_a_specific_400_never_a_500(settings: Settings) -> None:
    async with running(settings, FrozenClock(NOW)) as server, await coordinator(server) as http:
        cases = [
            ("post", "/api/privacy/requests", {"kind": "iets", "reference": "ABCD-EFGH-JK"},
             "invalid_kind"),
            ("post", "/api/privacy/requests", {"kind": "access", "reference": "!!"},
             "invalid_reference"),
            ("post", "/api/privacy/requests", {"kind": "access", "reference": 12345678},
             "invalid_reference"),
            ("post", "/api/privacy/requests", {"kind": "access", "reference": "ABCD-EFGH-JK",
                                               "received_at": "gisteren"}, "invalid_date"),
            ("post", "/api/privacy/requests", {"kind": "access", "reference": "ABCD-EFGH-JK",
                                               "received_at": "2027-01-01"}, "invalid_date"),
            ("post", "/api/privacy/requests", ["lijst"], "invalid"),
            ("get", "/api/privacy/audit?since=morgen", None, "invalid_date"),
            ("get", "/api/privacy/audit?limit=0", None, "invalid_limit"),
            ("get", "/api/privacy/audit?action=DROP%20TABLE", None, "invalid_action"),
            ("get", "/api/privacy/statistics?since=2026-02-30", None, "invalid_date"),
            ("get", "/api/privacy/statistics?since=2026-06-01&until=2026-05-01", None,
             "invalid_range"),
            ("get", "/api/privacy/statistics?since=2020-01-01&until=2026-01-01", None,
             "range_too_long"),
            ("get", "/api/privacy/research/export?format=xml", None, "invalid_format"),
            ("get", "/api/privacy/requests?status=raar", None, "invalid_status"),
        ]
        for method, path, body, code in cases:
            r = await (http.post(path, json=body) if method == "post" else http.get(path))
            assert r.status_code == 400, (path, body, r.text)
            assert r.json()["error"]["code"] == code, (path, body, r.text)
        r = await http.get("/api/privacy/requests/bestaatniet")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_only_coordinators_and_admins_get_in(settings: Settings) -> None:
    async with running(settings, FrozenClock(NOW)) as server:
        await server.add_user("sam", "supervisor")
        await server.add_user("ada", "admin")
        paths = ["/api/privacy/requests", "/api/privacy/audit", "/api/privacy/statistics",
                 "/api/privacy/research/export"]
        async with server.http() as anonymous:
            for path in paths:
                assert (await anonymous.get(path)).status_code == 401
        token = await server.login("sam")
        async with server.http(headers={"Authorization": f"Bearer {token}"}) as http:
            for path in paths:
                r = await http.get(path)
                assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        async with await coordinator(server, "ada") as http:
            assert (await http.get("/api/privacy/audit")).status_code == 200


async def test_the_audit_log_records_transcript_reads_and_filters(server: Server) -> None:
    vera = await server.staff("vera")
    await vera.call("available", {})
    chatter = await server.chatter()
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    await server.add_user("sup", "supervisor")
    sup_token = await server.login("sup")
    async with server.http(headers={"Authorization": f"Bearer {sup_token}"}) as http:
        assert (await http.get(f"/api/conversations/{cid}/transcript")).status_code == 200
    async with await coordinator(server) as http:
        r = await http.get("/api/privacy/audit", params={"actor": "sup"})
        assert [(e["action"], e["conversation_id"]) for e in r.json()["entries"]] == [
            ("transcript_read", cid)]
        r = await http.get("/api/privacy/audit", params={"action": "audit_read"})
        assert r.json()["entries"][0]["actor"] == "cora"
