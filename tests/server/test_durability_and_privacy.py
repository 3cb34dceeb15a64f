"""`chatserver serve` as a user runs it: acknowledged messages survive kill -9, addresses leave
no trace in files or logs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import Peer, Subprocess


@pytest.fixture
def proc(tmp_path: Path) -> Iterator[Subprocess]:
    p = Subprocess(tmp_path / "data", CHATSERVER_TRUSTED_PROXIES="127.0.0.1/32")
    yield p
    p.stop()


async def login(url: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/auth/login", json={"username": name, "password": "geheim-wachtwoord"})
        return str(r.json()["token"])


async def pair(proc: Subprocess, headers: dict[str, str]) -> tuple[Peer, Peer, str]:
    token = await login(proc.url, "vera")
    vera = Peer(proc.url, "/staff")
    await vera.connect(auth={"token": token})
    vera.token = token  # type: ignore[attr-defined]
    await vera.call("available", {"capacity": 3})
    chatter = Peer(proc.url, "/chat")
    await chatter.connect(headers=headers)
    cid = (await chatter.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    return chatter, vera, cid


async def test_acknowledged_messages_survive_kill_9(proc: Subprocess) -> None:
    assert proc.cli("users", "add", "vera", "--role", "volunteer", "--password-stdin",
                    stdin="geheim-wachtwoord\n").returncode == 0
    proc.start()
    chatter, vera, cid = await pair(proc, {})
    acked = []
    for i in range(40):
        sender = chatter if i % 2 else vera
        payload = {"text": f"bericht {i}"} if i % 2 else {"conversation_id": cid,
                                                          "text": f"bericht {i}"}
        ack = await sender.call("message", payload)
        assert ack["ok"]
        acked.append(f"bericht {i}")
    assert proc.kill() == -9
    await chatter.close()
    await vera.close()
    proc.start()
    token = await login(proc.url, "vera")
    async with httpx.AsyncClient(base_url=proc.url) as http:
        r = await http.get(f"/api/conversations/{cid}/transcript",
                           headers={"Authorization": f"Bearer {token}"})
    assert [m["text"] for m in r.json()["messages"]] == acked


async def test_the_address_appears_in_no_file_and_no_log_line(proc: Subprocess) -> None:
    address = "198.51.100.77"
    proc.cli("users", "add", "vera", "--role", "volunteer", "--password-stdin",
             stdin="geheim-wachtwoord\n")
    proc.start()
    chatter, vera, _cid = await pair(proc, {"X-Forwarded-For": f"10.9.9.9, {address}"})
    await chatter.call("message", {"text": "hallo"})
    await vera.expect("message")
    await chatter.call("leave", {})
    # the same person again (through the trusted proxy): counted; someone else: not
    again = Peer(proc.url, "/chat")
    await again.connect(headers={"X-Forwarded-For": address})
    await again.call("start", {})
    assert (await vera.expect("assigned"))["contact_count"] == 1
    other = Peer(proc.url, "/chat")
    await other.connect(headers={"X-Forwarded-For": "198.51.100.78"})
    await other.call("start", {})
    assert (await vera.expect("assigned"))["contact_count"] == 0
    for peer in (chatter, again, other, vera):
        await peer.close()
    proc.stop()
    needles = [address.encode(), b"198.51.100.78", address.encode("utf-16-le")]
    for path in proc.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(n in content for n in needles), path
    log = proc.log()
    assert "chat server ready" in log
    assert address not in log and "127.0.0.1" not in log and "sid=" not in log


async def test_sigterm_shuts_down_gracefully(proc: Subprocess) -> None:
    proc.start()
    chatter = Peer(proc.url, "/chat")
    await chatter.connect()
    await chatter.call("start", {})
    code = await asyncio.to_thread(proc.kill, 15)
    # uvicorn re-raises the signal after its graceful shutdown
    assert code in (0, -15)
    assert "chat server stopped" in proc.log()
