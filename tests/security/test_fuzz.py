"""Fuzzing: arbitrary payloads at every /chat and /staff event and every HTTP endpoint.

Every ack has the protocol's shape, no response is a 500 or carries a stack trace, no event
ends in the catch-all `internal` error, and the server stays healthy."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatserver.config import Settings
from tests.helpers import Peer, Server, server_env

CHAT_EVENTS = ("start", "message", "typing", "leave", "resume")
STAFF_EVENTS = (
    "available", "unavailable", "message", "typing", "flag", "redact_span", "end", "timeout",
    "register", "monitor", "unmonitor", "whisper", "block", "list_conversations",
)
# HTTP routes and methods of the app as built (see `routes`), about this many.
HTTP_TARGETS = 30
# Examples per event or endpoint: 20 keeps the suite short; FUZZ_EXAMPLES=200 for a long run.
PER_TARGET = int(os.environ.get("FUZZ_EXAMPLES", "20"))


def fuzz(targets: int) -> Any:
    """Bounded and reproducible: the same examples on every run, no example database."""
    return settings(
        max_examples=PER_TARGET * targets,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )

# Keys the handlers read, so that payloads reach past the first `isinstance` check.
KEYS = ("text", "client_id", "typing", "age", "topic", "resume_token", "after", "capacity",
        "conversation_id", "message_id", "minutes", "days", "reason", "start", "end", "type",
        "username", "password", "otp", "kind", "reference", "note", "outcome", "since", "until",
        "status", "limit", "actor", "action", "format", "days_extra", "person_told")

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=80)
    | st.sampled_from(["", " ", "\x00", "ok", "../../etc/passwd", "g1:dev1:AAAA", "1e309",
                       "<script>alert(1)</script>", "𝕏" * 20, "9" * 400])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=20,
)


@dataclass
class World:
    """A server with a live conversation, so that real ids are among the fuzzed values."""

    srv: Server
    admin: Peer
    chatter: Peer
    token: str
    ids: list[str]
    http: httpx.AsyncClient


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings_ = Settings.from_env(server_env(
        tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
        CHATSERVER_TRUSTED_PROXIES="127.0.0.1",
        # The limits are tested elsewhere; here they would only hide the handlers.
        CHATSERVER_RATE_PER_SECOND="10000", CHATSERVER_RATE_BURST="100000",
        CHATSERVER_ADDRESS_RATE_PER_SECOND="10000", CHATSERVER_ADDRESS_RATE_BURST="100000",
    ))
    srv = Server(settings_)
    await srv.start()
    try:
        admin = await srv.staff("ada", role="admin")
        assert (await admin.call("available", {"capacity": 6}))["ok"]
        chatter = await srv.chatter(headers={"X-Forwarded-For": "203.0.113.5"})
        start = await chatter.call("start", {})
        cid = start["conversation_id"]
        await admin.expect("assigned")
        mid = (await chatter.call("message", {"text": "Hoi, ik ben Sam"}))["id"]
        async with srv.http() as http:
            yield World(srv, admin, chatter, admin.token,  # type: ignore[attr-defined]
                        [cid, mid, start["resume_token"]], http)
    finally:
        await srv.stop()


def payloads(ids: list[str]) -> st.SearchStrategy[Any]:
    known = st.sampled_from(ids) | json_values
    shaped = st.dictionaries(st.sampled_from(KEYS), known, max_size=6)
    return st.one_of(json_values, shaped)


def assert_ack(event: str, ack: Any) -> None:
    assert isinstance(ack, dict), (event, ack)
    assert "Traceback" not in json.dumps(ack), (event, ack)
    if ack.get("ok") is True:
        return
    assert ack.get("ok") is False, (event, ack)
    error = ack["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), (event, ack)
    assert error["code"] != "internal", (event, ack)  # an exception nobody expected


async def assert_healthy(world: World) -> None:
    r = await world.http.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert world.admin.sio.connected


@fuzz(len(CHAT_EVENTS) + 1)
@given(data=st.data())
async def test_chat_events(world: World, data: st.DataObject) -> None:
    event = data.draw(st.sampled_from(CHAT_EVENTS) | st.text(max_size=20), label="event")
    payload = data.draw(payloads(world.ids), label="payload")
    if not world.chatter.sio.connected:  # `leave` or a bad frame may end the connection
        world.chatter = await world.srv.chatter(headers={"X-Forwarded-For": "203.0.113.5"})
    assert_ack(event, await world.chatter.call(event, payload))
    await assert_healthy(world)


@fuzz(len(STAFF_EVENTS) + 1)
@given(data=st.data())
async def test_staff_events(world: World, data: st.DataObject) -> None:
    event = data.draw(st.sampled_from(STAFF_EVENTS) | st.text(max_size=20), label="event")
    payload = data.draw(payloads(world.ids), label="payload")
    assert_ack(event, await world.admin.call(event, payload))
    await assert_healthy(world)


def routes(world: World) -> list[tuple[str, str]]:
    starlette = world.srv.app.app.other_asgi_app.app
    out = []
    for route in starlette.routes:
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            out.append((route.path, method))
    return out


@fuzz(HTTP_TARGETS)
@given(data=st.data())
async def test_http_endpoints(world: World, data: st.DataObject) -> None:
    path, method = data.draw(st.sampled_from(routes(world)), label="route")
    segment = data.draw(st.sampled_from(world.ids) | st.text(min_size=1, max_size=40),
                        label="path parameter")
    url = path.replace("{id}", quote(segment, safe="")).replace("{name}", quote(segment, safe=""))
    query = data.draw(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=30), max_size=4),
                      label="query")
    auth = data.draw(st.sampled_from(["bearer", "none", "bad"]), label="auth")
    headers: dict[str, str] = {}
    if auth == "bearer" and path != "/api/auth/logout":
        headers["Authorization"] = f"Bearer {world.token}"
    elif auth == "bad":
        # Printable only: control characters are refused by the HTTP parser, before the app.
        headers["Authorization"] = "Bearer " + data.draw(st.text(
            st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30))
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if method not in ("GET", "HEAD"):
        body = data.draw(payloads(world.ids), label="body")
        if data.draw(st.booleans(), label="valid json"):
            kwargs["json"] = body
        else:
            kwargs["content"] = data.draw(st.binary(max_size=200), label="raw body")
            headers["Content-Type"] = data.draw(st.sampled_from(
                ["application/json", "text/plain", "application/x-www-form-urlencoded"]))
    r = await world.http.request(method, url, **kwargs)
    assert r.status_code < 500 or (path == "/healthz" and r.status_code == 503), (
        method, url, r.status_code, r.text[:300])
    assert "Traceback" not in r.text and 'File "' not in r.text, (method, url, r.text[:300])
    if r.status_code >= 400 and method != "HEAD":
        error = r.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
    await assert_healthy(world)


async def test_garbage_frames_on_both_namespaces_leave_the_server_healthy(world: World) -> None:
    """Below Socket.IO's own encoding: raw Engine.IO frames that no client library would send."""
    import websockets

    url = world.srv.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    frames = ["42/staff,1[]", "42/chat,1[1,2]", "42/chat,1{}", '42/chat,1["message"', "4",
              "41/staff,", "40/staff,{\"token\":[]}", "42/chat,99999999999999999999[\"start\"]",
              "3probe", "6", "1", "2", "0"]
    for frame in frames:
        try:
            async with websockets.connect(url) as ws:
                await ws.recv()
                await ws.send("40/chat,")
                await ws.recv()
                await ws.send(frame)
                await ws.send('42/chat,7["typing",{"typing":true}]')
                # A frame that ends the namespace or connection gets no reply: bounded wait.
                reply = str(await asyncio.wait_for(ws.recv(), 2))
                assert "Traceback" not in reply
        except (websockets.ConnectionClosed, TimeoutError):
            pass
    await assert_healthy(world)
    async with httpx.AsyncClient(base_url=world.srv.url) as http:
        assert (await http.get("/healthz")).status_code == 200
