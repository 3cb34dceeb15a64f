"""No network: the server and its redaction worker run every flow with each non-loopback
connection and name lookup refused, and nothing fails, waits or even tries."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.processes import python_children_die_with_parent, run
from tests.helpers import Peer, Subprocess

# Loaded by every Python process of the server (PYTHONPATH): the main one and the spawned
# redaction worker. Attempts are refused at once and written to stderr, i.e. the server log.
# In place of the harness's own sitecustomize, so it does that one's work too.
SITECUSTOMIZE = '''
from tests.harness.processes import die_with_python_parent
die_with_python_parent()
import errno, ipaddress, os, socket, sys

_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain", "ip6-localhost"}

def _loopback(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False

def _numeric(host):
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
        return True
    except ValueError:
        return False

def _refuse(what, target):
    sys.stderr.write(f"NO-NETWORK blocked {what} {target!r} in pid {os.getpid()}\\n")
    sys.stderr.flush()
    raise OSError(errno.ENETUNREACH, f"network disabled for this test: {target!r}")

def _check(sock, address, what):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse(what, address)

def connect(self, address):
    _check(self, address, "connect")
    return _connect(self, address)

def connect_ex(self, address):
    _check(self, address, "connect")
    return _connect_ex(self, address)

def sendto(self, data, *args):
    _check(self, args[-1], "sendto")
    return _sendto(self, data, *args)

def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host) and not _numeric(host):
        _refuse("name lookup", host)
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
socket.getaddrinfo = getaddrinfo
sys.stderr.write(f"NO-NETWORK hook active in pid {os.getpid()}\\n")
'''


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Subprocess]:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    proc = Subprocess(tmp_path / "data", PYTHONPATH=str(hook), CHATSERVER_REDACTOR="true",
                      CHATSERVER_TRUSTED_PROXIES="127.0.0.1")
    yield proc
    proc.stop()


async def test_every_flow_works_with_the_network_cut_off(offline: Subprocess) -> None:
    for name, role in (("vera", "volunteer"), ("cor", "coordinator")):
        assert offline.cli("users", "add", name, "--role", role, "--password-stdin",
                           stdin="wachtwoord-123\n").returncode == 0
    offline.start()
    async with httpx.AsyncClient(base_url=offline.url, timeout=10) as http:
        async def login(name: str) -> str:
            r = await http.post("/api/auth/login",
                                json={"username": name, "password": "wachtwoord-123"})
            assert r.status_code == 200, r.text
            return str(r.json()["token"])

        vera_token, cor_token = await login("vera"), await login("cor")
        vera, cor = Peer(offline.url, "/staff"), Peer(offline.url, "/staff")
        await vera.connect(auth={"token": vera_token})
        await cor.connect(auth={"token": cor_token})
        chatter = Peer(offline.url, "/chat")
        await chatter.connect(headers={"X-Forwarded-For": "203.0.113.5"})
        try:
            assert (await vera.call("available", {}))["ok"]
            start = await chatter.call("start", {"topic": "School", "age": 15})
            assert start["ok"], start
            cid = start["conversation_id"]
            await vera.expect("assigned")
            await chatter.expect("paired")
            sent = await chatter.call("message", {"text": "Ik ben Daan en woon in Utrecht."})
            assert sent["ok"]
            await vera.expect("message")
            assert (await vera.call("message", {"conversation_id": cid, "text": "Hoi Daan"}))["ok"]
            await chatter.expect("message")
            assert (await chatter.call("typing", {"typing": True}))["ok"]
            assert (await cor.call("monitor", {"conversation_id": cid}))["ok"]
            assert (await cor.call("whisper", {"conversation_id": cid, "text": "goed zo"}))["ok"]
            await vera.expect("whisper")
            r = await http.get(f"/api/conversations/{cid}/transcript",
                               headers={"Authorization": f"Bearer {cor_token}"})
            assert r.status_code == 200 and len(r.json()["messages"]) == 2

            # The redaction pipeline loads offline too (or says why not); then a flag.
            async def redactor_settled() -> str:
                while True:
                    status = (await http.get("/healthz")).json()["redactor"]
                    if status != "warming":
                        return str(status)
                    await asyncio.sleep(0.2)

            status = await asyncio.wait_for(redactor_settled(), 100)
            flag = await vera.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
            if status == "ready":
                assert flag["ok"], flag
                assert "Daan" not in flag["text"]
            else:
                assert flag["error"]["code"] == "redactor_unavailable", flag
            assert (await vera.call("end", {"conversation_id": cid}))["ok"]
            ended = await chatter.expect("ended")
            assert ended["reference"]
            r = await http.post("/api/auth/logout",
                                headers={"Authorization": f"Bearer {vera_token}"})
            assert r.status_code == 200
            # a redactor that failed to load is a promise the server cannot keep: 503
            assert (await http.get("/healthz")).status_code == (503 if status == "failed" else 200)
        finally:
            for peer in (vera, cor, chatter):
                await peer.close()
    offline.stop()
    log = offline.log()
    # The hook was there in the server and in its redaction worker, and nothing tried to leave.
    assert log.count("NO-NETWORK hook active") >= 2, log[-2000:]
    assert "NO-NETWORK blocked" not in log, [
        line for line in log.splitlines() if "NO-NETWORK blocked" in line]
    assert "Traceback" not in log


def test_the_hook_does_refuse_the_network(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    probe = (
        "import socket\n"
        "for target in (('example.org', 80), ('192.0.2.1', 443)):\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=5)\n"
        "    except OSError as exc:\n"
        "        print('refused', exc.errno)\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "socket.create_connection(s.getsockname(), timeout=5); print('loopback ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    python_children_die_with_parent(env)  # the hook imports the harness from there
    result = run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                 timeout=30, check=True)
    assert result.stdout.split("\n")[:3] == ["refused 101", "refused 101", "loopback ok"]
    assert result.stderr.count("NO-NETWORK blocked") == 2
