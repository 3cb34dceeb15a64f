"""nginx in front, as docs/operations.md tells a helpline to deploy: the shipped deploy/nginx.conf
with TLS before two workers on Redis. WebSockets spread over both workers without stickiness,
long-polling stays on one, the client's address comes from the proxy only, and a login over
https through the proxy gets a Secure cookie.

Every address in 127.0.0.0/8 is this machine: a client "from 127.0.0.5" binds its side of the
connection there, so that the workers see different people (nginx itself comes from 127.0.0.1,
the only trusted proxy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.nginx import Nginx, nginx_binary
from tests.harness.peers import Peer
from tests.harness.servers import PASSWORD
from tests.harness.waiting import eventually
from tests.scale.conftest import Cluster, Worker

TOKEN = "operators-metrics-token-" + "x" * 24
PROXY = "127.0.0.1"


@pytest.fixture
async def proxied(cluster: Cluster, tmp_path: Path) -> AsyncIterator[Nginx]:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (bin/setup --test installs it)")
    # A short ping interval: long polls come back sooner, and the clients' closing with them.
    cluster.env.update(CHATSERVER_TRUSTED_PROXIES=f"{PROXY}/32",
                       CHATSERVER_METRICS_TOKEN=TOKEN, CHATSERVER_PING_INTERVAL="3")
    await cluster.add_users("vera")
    # Started from this (the main) thread: children die with the thread that started them.
    workers = cluster.start(2)
    proxy = Nginx(tmp_path / "nginx", [w.port for w in workers])
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def leaving_from(address: str) -> Callable[[], aiohttp.ClientSession]:
    """A Socket.IO client's HTTP session whose connections leave from `address`."""
    return lambda: aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


class Clients:
    """The Socket.IO clients of one test, closed at its end."""

    def __init__(self) -> None:
        self.peers: list[Peer] = []

    async def connect(self, url: str, namespace: str, *, source: str = "127.0.0.1",
                      transports: Sequence[str] = ("websocket",), auth: Any = None,
                      headers: dict[str, str] | None = None) -> Peer:
        peer = Peer(url, namespace, ssl_verify=False, http_session=leaving_from(source))
        self.peers.append(peer)
        await peer.connect(auth=auth, headers=headers, transports=transports)
        return peer

    async def refused(self, url: str, *, source: str, headers: dict[str, str]) -> Any:
        peer = Peer(url, "/chat", ssl_verify=False, http_session=leaving_from(source))
        self.peers.append(peer)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(headers=headers)
        return peer.connect_error

    async def volunteer(self, proxy: Nginx, name: str = "vera") -> Peer:
        async with httpx.AsyncClient(base_url=proxy.url, verify=False) as http:
            r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD},
                                timeout=30)
        r.raise_for_status()
        peer = await self.connect(proxy.url, "/staff", auth={"token": r.json()["token"]})
        await peer.expect("state")
        return peer

    async def close(self) -> None:
        # At once: a long-polling client's disconnect waits for its poll to come back.
        await asyncio.gather(*(peer.close() for peer in self.peers))


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    c = Clients()
    yield c
    await c.close()


async def gauge(worker: Worker, name: str) -> float:
    """One of the worker's own numbers, read from its /metrics (not through the proxy)."""
    async with httpx.AsyncClient(base_url=worker.url) as http:
        r = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    r.raise_for_status()
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"{name} not in /metrics")


async def chatters_on(workers: list[Worker]) -> list[int]:
    return [int(await gauge(w, "chatserver_connected_chatters")) for w in workers]


async def talk(chatter: Peer, vera: Peer, cid: str, n: int = 3) -> None:
    """Messages both ways, each delivered."""
    for i in range(n):
        assert (await chatter.call("message", {"text": f"bericht {i}"}))["ok"]
        assert await vera.expect("message", lambda m, i=i: m["text"] == f"bericht {i}")
        assert (await vera.call("message", {"conversation_id": cid, "text": f"antwoord {i}"}))["ok"]
        assert await chatter.expect("message", lambda m, i=i: m["text"] == f"antwoord {i}")


async def test_websockets_spread_over_both_workers_and_chat_across_them(
    proxied: Nginx, cluster: Cluster, clients: Clients,
) -> None:
    workers = cluster.workers
    for worker in workers:  # each worker's own health, in its own /metrics
        assert await gauge(worker, "chatserver_redis_up") == 1
        assert await gauge(worker, "chatserver_database_up") == 1
        assert await gauge(worker, "chatserver_delivery_subscribed") == 1
    vera = await clients.volunteer(proxied)
    assert (await vera.call("available", {"capacity": 1}))["ok"]
    home = [await gauge(w, "chatserver_available_volunteers") for w in workers].index(1)
    other = workers[1 - home]

    chatters: list[Peer] = []
    across: Peer | None = None
    for i in range(6):
        before = await gauge(other, "chatserver_connected_chatters")
        chatters.append(await clients.connect(proxied.url, "/chat", source=f"127.0.0.{10 + i}"))
        if across is None and await gauge(other, "chatserver_connected_chatters") > before:
            across = chatters[-1]
    counts = await chatters_on(workers)
    assert sum(counts) == 6 and min(counts) >= 2, counts  # no stickiness: both get a share
    assert across is not None

    start = await across.call("start", {"age": 15})
    cid = start["conversation_id"]
    assert (await vera.expect("assigned"))["conversation_id"] == cid
    assert (await across.expect("paired"))["conversation_id"] == cid
    await talk(across, vera, cid)
    for worker in workers:  # every event between the workers went through
        assert await gauge(worker, "chatserver_delivery_dropped_total") == 0


async def test_long_polling_stays_on_one_worker_and_an_upgrade_follows_it(
    proxied: Nginx, cluster: Cluster, clients: Clients,
) -> None:
    vera = await clients.volunteer(proxied)
    assert (await vera.call("available", {"capacity": 4}))["ok"]
    polling = [await clients.connect(proxied.url, "/chat", source=f"127.0.0.{20 + i}",
                                     transports=("polling",)) for i in range(3)]
    # A school network: every chatter from one /24 network, all on the worker ip_hash chose.
    assert sorted(await chatters_on(cluster.workers)) == [0, 3]
    for chatter in polling:
        cid = (await chatter.call("start", {}))["conversation_id"]
        assert (await chatter.expect("paired"))["conversation_id"] == cid
        await vera.expect("assigned", lambda a, cid=cid: a["conversation_id"] == cid)
        # Each poll and each post of the session reached the worker that holds it: a request
        # landing on the other one would end the session ("Session ID unknown").
        await talk(chatter, vera, cid)
        assert chatter.sio.transport() == "polling"

    # Polling first, then the upgrade to a WebSocket, which carries the session's id: the
    # proxy sends it to the same worker, or the upgrade would fail.
    upgraded = await clients.connect(proxied.url, "/chat", source="127.0.0.30",
                                     transports=("polling", "websocket"))
    await eventually(lambda: upgraded.sio.transport() == "websocket", 10, what="upgrade")
    cid = (await upgraded.call("start", {}))["conversation_id"]
    await vera.expect("assigned", lambda a: a["conversation_id"] == cid)
    await talk(upgraded, vera, cid)


async def test_the_client_address_comes_from_the_proxy_only(
    proxied: Nginx, cluster: Cluster, clients: Clients,
) -> None:
    """A volunteer times out a chatter. Through the proxy the chatter cannot come back by
    sending an X-Forwarded-For of their own, while someone else behind the proxy can chat; a
    client that reaches a worker directly is known by its own address, whatever it claims."""
    vera = await clients.volunteer(proxied)
    assert (await vera.call("available", {"capacity": 2}))["ok"]
    abuser = await clients.connect(proxied.url, "/chat", source="127.0.0.5",
                                   headers={"X-Forwarded-For": "198.51.100.7"})
    cid = (await abuser.call("start", {}))["conversation_id"]
    await vera.expect("assigned")
    assert (await vera.call("timeout", {"conversation_id": cid, "minutes": 30}))["ok"]
    assert (await abuser.expect("ended"))["reason"] == "timeout"

    for _ in range(2):  # whichever worker the proxy picks
        refused = await clients.refused(proxied.url, source="127.0.0.5",
                                        headers={"X-Forwarded-For": "198.51.100.8"})
        assert refused["code"] == "timeout", refused
    other = await clients.connect(proxied.url, "/chat", source="127.0.0.6")
    assert (await other.call("start", {}))["ok"]

    worker = cluster.workers[0]
    claims_abuser = await clients.connect(worker.url, "/chat", source="127.0.0.6",
                                          headers={"X-Forwarded-For": "127.0.0.5"})
    assert claims_abuser.sio.connected
    refused = await clients.refused(worker.url, source="127.0.0.5",
                                    headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused["code"] == "timeout", refused


async def test_a_login_over_https_through_the_proxy_gets_a_secure_cookie(
    proxied: Nginx, cluster: Cluster,
) -> None:
    login = {"username": "vera", "password": PASSWORD}
    async with httpx.AsyncClient(base_url=proxied.url, verify=False) as http:
        r = await http.post("/api/auth/login", json=login, timeout=30)
        assert r.status_code == 200, r.text
        assert "secure" in r.headers["set-cookie"].lower()
        assert r.headers["strict-transport-security"]
    # X-Forwarded-Proto from anyone but the proxy is not believed: plain http, no Secure.
    worker = cluster.workers[1]
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.5")
    async with httpx.AsyncClient(base_url=worker.url, transport=elsewhere) as http:
        r = await http.post("/api/auth/login", json=login, timeout=30,
                            headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 200, r.text
        assert "secure" not in r.headers["set-cookie"].lower()
