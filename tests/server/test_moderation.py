"""Time-outs and blocks: refused connections with a Dutch message and an end date, expiry by
the clock (moved, not slept), and nobody else affected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import socketio

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.helpers import Peer, Server, running, server_env

ALICE = {"X-Forwarded-For": "192.0.2.10"}
BOB = {"X-Forwarded-For": "192.0.2.20"}


@pytest.fixture
def proxied(tmp_path: Path) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data", CHATSERVER_TRUSTED_PROXIES="127.0.0.1",
                                      CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL"))


@pytest.fixture
async def srv(proxied: Settings, clock: FrozenClock) -> AsyncIterator[Server]:
    async with running(proxied, clock) as server:
        yield server


async def refused(server: Server, headers: dict[str, str]) -> dict:
    peer = Peer(server.url, "/chat")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(headers=headers)
    return peer.connect_error


async def chat_with(server: Server, vera: Peer, headers: dict[str, str]) -> tuple[Peer, str]:
    chatter = await server.chatter(headers=headers)
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned", lambda a: a["conversation_id"] == cid)
    return chatter, cid


async def later(clock: FrozenClock, staff: Peer, minutes: int, capacity: int) -> None:
    """Time passes while the volunteer keeps working: their session stays in use (an unused
    one ends after 30 minutes, and its socket with it)."""
    while minutes > 0:
        step = min(minutes, 20)
        clock.advance(minutes=step)
        minutes -= step
        assert (await staff.call("available", {"capacity": capacity}))["ok"]


async def test_timeout_ends_the_chat_refuses_the_address_and_expires(
    srv: Server, clock: FrozenClock
) -> None:
    vera = await srv.staff("vera")
    await vera.call("available", {"capacity": 2})
    alice, cid = await chat_with(srv, vera, ALICE)
    bad = await vera.call("timeout", {"conversation_id": cid, "minutes": 100000})
    assert bad["error"]["code"] == "invalid"
    ack = await vera.call("timeout", {"conversation_id": cid, "minutes": 45})
    assert ack["ok"] and ack["until"] == "2026-01-01T00:45:00.000Z"
    assert (await alice.expect("ended"))["reason"] == "timeout"
    assert (await vera.expect("ended"))["reason"] == "timeout"
    error = await refused(srv, ALICE)
    assert error["code"] == "timeout" and error["until"] == ack["until"]
    assert "time-out" in error["message"] and "1 januari 2026 om 01:45" in error["message"]
    # someone else is not affected
    _bob, _ = await chat_with(srv, vera, BOB)
    clock.advance(minutes=44)
    await refused(srv, ALICE)
    clock.advance(minutes=2)
    again, _ = await chat_with(srv, vera, ALICE)
    assert (await again.call("message", {"text": "sorry"}))["ok"]


async def test_timeout_count_is_shown_to_the_volunteer(srv: Server, clock: FrozenClock) -> None:
    vera = await srv.staff("vera")
    await vera.call("available", {"capacity": 2})
    for _ in range(2):
        alice = await srv.chatter(headers=ALICE)
        cid = (await alice.call("start", {}))["conversation_id"]
        await vera.expect("assigned", lambda a, c=cid: a["conversation_id"] == c)
        await vera.call("timeout", {"conversation_id": cid, "minutes": 5})
        clock.advance(minutes=6)
    alice = await srv.chatter(headers=ALICE)
    await alice.call("start", {})
    assigned = await vera.expect("assigned")
    assert assigned["timeout_count"] == 2 and assigned["contact_count"] == 2


async def test_coordinator_sees_repeat_offenders_blocks_and_lifts(
    srv: Server, clock: FrozenClock
) -> None:
    vera = await srv.staff("vera")
    await vera.call("available", {"capacity": 3})
    last = ""
    for _ in range(3):
        _, last = await chat_with(srv, vera, ALICE)
        await vera.call("timeout", {"conversation_id": last})
        await later(clock, vera, 31, capacity=3)
    _, once = await chat_with(srv, vera, BOB)
    await vera.call("timeout", {"conversation_id": once})
    await later(clock, vera, 31, capacity=3)
    # volunteers may not block; coordinators may
    assert (await vera.call("block", {"conversation_id": last}))["error"]["code"] == "forbidden"
    await srv.add_user("cora", "coordinator")
    token = await srv.login("cora")
    auth = {"Authorization": f"Bearer {token}"}
    async with srv.http(headers=auth) as http:
        r = await http.get("/api/moderation/timeouts")
        chatters = r.json()["chatters"]
        assert len(chatters) == 1 and chatters[0]["timeouts"] == 3
        assert chatters[0]["conversation_id"] == last
        assert "hash" not in r.text and "192.0.2" not in r.text
        # a live chat of the same chatter ends when the block comes
        alice, _live_cid = await chat_with(srv, vera, ALICE)
        r = await http.post("/api/moderation/blocks", json={
            "conversation_id": last, "reason": "herhaald schelden"})
        assert r.status_code == 200
        until = r.json()["until"]
        assert until.startswith("2026-04-0")  # 90 days on
        assert (await alice.expect("ended"))["reason"] == "blocked"
        error = await refused(srv, ALICE)
        assert error["code"] == "blocked" and error["until"] == until
        assert "geblokkeerd" in error["message"]
        await chat_with(srv, vera, BOB)  # not Bob
        r = await http.get("/api/moderation/blocks", params={"active": "1"})
        (block,) = r.json()["blocks"]
        assert block["reason"] == "herhaald schelden" and block["by"] == "Cora"
        assert block["alias"] and block["active"] is True
        r = await http.post(f"/api/moderation/blocks/{block['id']}/lift",
                            json={"reason": "gesprek gehad"})
        assert r.status_code == 200
        r = await http.post(f"/api/moderation/blocks/{block['id']}/lift", json={})
        assert r.status_code == 409
    await chat_with(srv, vera, ALICE)
    actions = [e.action for e in await srv.components.store.audit.entries()]
    assert actions.count("timeout") == 4 and "block" in actions and "block_lifted" in actions


async def test_blocks_survive_a_restart_and_expire(proxied: Settings, clock: FrozenClock) -> None:
    async with running(proxied, clock) as srv:
        vera = await srv.staff("vera")
        await vera.call("available", {})
        sam = await srv.staff("sam", "coordinator")
        _, cid = await chat_with(srv, vera, ALICE)
        ack = await sam.call("block", {"conversation_id": cid, "days": 7,
                                       "override_reason": "dreigt met geweld"})
        assert ack["ok"]
    async with running(proxied, clock) as srv:
        assert (await refused(srv, ALICE))["code"] == "blocked"
        clock.advance(days=7, seconds=1)
        chatter = await srv.chatter(headers=ALICE)
        assert (await chatter.call("start", {}))["ok"]


async def test_an_open_socket_cannot_start_again_after_a_timeout(srv: Server) -> None:
    vera = await srv.staff("vera")
    await vera.call("available", {})
    alice, cid = await chat_with(srv, vera, ALICE)
    ack = await vera.call("timeout", {"conversation_id": cid})
    await alice.expect("ended")
    again = await alice.call("start", {})
    assert again["ok"] is False and again["error"]["code"] == "timeout"
    assert again["error"]["until"] == ack["until"]


async def test_a_block_needs_an_earlier_timeout_or_a_recorded_override_and_lasts_90_days_at_most(
    srv: Server, clock: FrozenClock
) -> None:
    vera = await srv.staff("vera")
    await vera.call("available", {"capacity": 2})
    sam = await srv.staff("sam", "coordinator")
    _, first = await chat_with(srv, vera, ALICE)
    refused_block = await sam.call("block", {"conversation_id": first, "reason": "scheldt"})
    assert refused_block["ok"] is False
    assert refused_block["error"]["code"] == "no_earlier_timeout"
    assert "eerdere time-out" in refused_block["error"]["message"]
    # the HTTP route follows the same rule
    await srv.add_user("cora", "coordinator")
    auth = {"Authorization": f"Bearer {await srv.login('cora')}"}
    async with srv.http(headers=auth) as http:
        r = await http.post("/api/moderation/blocks", json={"conversation_id": first})
        assert r.status_code >= 400 and r.json()["error"]["code"] == "no_earlier_timeout"
    # after a time-out of the same address: a block of 91 days is refused, 90 is the default
    await vera.call("timeout", {"conversation_id": first})
    clock.advance(minutes=31)  # past the time-out; sam's session ended unused meanwhile
    sam = await srv.staff("simone", "coordinator")
    _, second = await chat_with(srv, vera, ALICE)
    too_long = await sam.call("block", {"conversation_id": second, "days": 91})
    assert too_long["error"]["code"] == "block_too_long"
    assert "90 dagen" in too_long["error"]["message"]
    ack = await sam.call("block", {"conversation_id": second, "reason": "scheldt op Het Lyceum"})
    assert ack["ok"] and ack["until"].startswith("2026-04-01")
    store = srv.components.store
    sanction = await store.sanctions.get(ack["id"])
    assert sanction is not None and sanction.override_reason is None
    # Bob has had no time-out: only with an override reason, which stays on the block
    _, bob = await chat_with(srv, vera, BOB)
    ack = await sam.call("block", {"conversation_id": bob, "days": 30,
                                   "override_reason": "bedreigt een vrijwilliger"})
    assert ack["ok"]
    sanction = await store.sanctions.get(ack["id"])
    assert sanction is not None and sanction.override_reason == "bedreigt een vrijwilliger"
    auth = {"Authorization": f"Bearer {await srv.login('cora')}"}  # the clock moved on
    async with srv.http(headers=auth) as http:
        r = await http.post(f"/api/moderation/blocks/{ack['id']}/lift",
                            json={"reason": "excuses aangeboden via school"})
        assert r.status_code == 200
    lifted = await store.sanctions.get(ack["id"])
    assert lifted is not None and lifted.lift_reason == "excuses aangeboden via school"
    # the audit log holds ids and codes, never the free text
    entries = await store.audit.entries()
    details = " ".join(e.detail or "" for e in entries)
    for text in ("Lyceum", "bedreigt", "excuses", "scheldt"):
        assert text not in details
    grounds = [json.loads(e.detail or "{}").get("grounds") for e in entries if e.action == "block"]
    assert sorted(grounds) == ["earlier_timeout", "override"]


def test_the_block_setting_can_go_down_not_up(tmp_path: Path) -> None:
    from chatserver.errors import ConfigError

    env = server_env(tmp_path / "data")
    assert Settings.from_env(env).block_default_days == 90
    assert Settings.from_env({**env, "CHATSERVER_BLOCK_DAYS": "30"}).block_default_days == 30
    with pytest.raises(ConfigError, match="CHATSERVER_BLOCK_DAYS"):
        Settings.from_env({**env, "CHATSERVER_BLOCK_DAYS": "91"})
