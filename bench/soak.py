"""A bounded soak and chaos run against a real server process; prints the invariant table.

Chatters arrive over time (each from an address of its own, through a trusted proxy), talk,
drop and resume; volunteers reply, flag, time out, toggle availability and drop their
console; a supervisor reads along; a vandal sends bad payloads and malformed packets; halfway
the server is killed with SIGKILL and started again. Exits 1 on any violation.

    .venv/bin/python -m bench.soak                       # 150 chatters, 8 volunteers, 240 s
    .venv/bin/python -m bench.soak --chatters 60 --seconds 90   # the CI version (tests/soak)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import socketio
import websockets

from tests.helpers import Subprocess

SECRET = "ik heet Sanne de Groot en mijn nummer is 06-12345678"
PHONE = "06-12345678"
PASSWORD = "soak-wachtwoord-123"
CALL_TIMEOUT = 20.0
# A message first received this close before the kill may come again: its acknowledgement
# was on its way when the server died. Anything else received twice is a violation.
IN_FLIGHT = 1.0
BAD_PAYLOADS = [  # (namespace, event, payload or a tuple of several arguments)
    ("/chat", "start", "geen object"), ("/chat", "start", {"age": "veertien"}),
    ("/chat", "message", {"text": 42}), ("/chat", "message", {"text": "x" * 5000}),
    ("/chat", "message", [1, 2]), ("/chat", "typing", {"typing": "ja"}),
    ("/chat", "resume", {"resume_token": 7}), ("/chat", "connect", {"asgi.scope": {}}),
    ("/chat", "disconnect", {}), ("/chat", "message", ({"text": "a"}, "extra")),
    ("/staff", "available", {"capacity": 0}), ("/staff", "message", {"text": "hoi"}),
    ("/staff", "flag", {"conversation_id": "nee", "message_id": "x"}),
    ("/staff", "connect", {"token": "x"}), ("/staff", "zomaar", {}),
]
RAW_BODIES = ["[42,{}]", "[null]", "[]", '{"a":1}', '"message"', "", '["newListener"]']
GARBAGE_FRAMES = ["garbage", "4" + "\x00" * 8, '42/chat,["start",' * 20, "42/chat,1[", "6"]


@dataclass
class Record:
    """What the clients saw; the invariants are computed from this and the database."""

    acked: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (cid, sender)
    volunteer_order: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    chatter_got: dict[str, list[tuple[str, float]]] = field(
        default_factory=lambda: defaultdict(list))  # cid -> [(id, when)]
    redactions_seen: set[str] = field(default_factory=set)
    flagged: dict[str, str] = field(default_factory=dict)  # message id -> cid
    flag_failures: list[str] = field(default_factory=list)
    assigned: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    requeued: Counter[str] = field(default_factory=Counter)
    over_capacity: list[str] = field(default_factory=list)
    bad_input: list[str] = field(default_factory=list)
    bad_input_count: int = 0
    unfinished: list[str] = field(default_factory=list)
    timeouts_given: int = 0
    starts: dict[str, tuple[float, float]] = field(default_factory=dict)  # cid -> sent, acked
    kill_at: float | None = None
    acked_at: dict[str, float] = field(default_factory=dict)  # volunteer message id -> when
    left_at: dict[str, float] = field(default_factory=dict)  # cid -> when the chatter left
    restart_seconds: float = 0.0
    health: list[str] = field(default_factory=list)


    def explain(self, mid: str, cid: str) -> str:
        """A lost message with its timing: against the kill and the chatter's leaving."""
        at = self.acked_at.get(mid)
        parts = [f"{mid} in {cid}"]
        if at is not None and self.kill_at is not None:
            parts.append(f"acked {at - self.kill_at:+.2f} s from the kill")
        if at is not None and cid in self.left_at:
            parts.append(f"{at - self.left_at[cid]:+.2f} s from the chatter's leave")
        return ", ".join(parts)


class Client:
    """A Socket.IO connection that comes back after the server died, with `on_back` run."""

    def __init__(self, url: str, namespace: str, headers: dict[str, str] | None = None,
                 auth: Any = None) -> None:
        self.url, self.namespace, self.headers, self.auth = url, namespace, headers or {}, auth
        self.handlers: dict[str, Any] = {}
        self.sio: socketio.AsyncClient | None = None

    async def connect(self, deadline: float) -> None:
        if self.sio is not None:
            await self.sio.disconnect()
        while True:
            sio = socketio.AsyncClient(reconnection=False)
            for event, handler in self.handlers.items():
                sio.on(event, handler, namespace=self.namespace)
            try:
                await sio.connect(self.url, namespaces=[self.namespace], transports=["websocket"],
                                  headers=self.headers, auth=self.auth, wait_timeout=5)
                self.sio = sio
                return
            except socketio.exceptions.ConnectionError:
                if sio.eio.http is not None and not sio.eio.external_http:
                    await sio.eio.http.close()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)  # the server is restarting: try again shortly

    async def call(self, event: str, data: Any = None) -> Any:
        """The ack, or None when the connection failed on the way."""
        if self.sio is None or not self.sio.connected:
            return None
        try:
            return await self.sio.call(event, data, namespace=self.namespace,
                                       timeout=CALL_TIMEOUT)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError):
            return None

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()


class Chatter:
    def __init__(self, soak: Soak, n: int) -> None:
        self.soak, self.n = soak, n
        self.address = f"203.0.113.{n % 250 + 1}" if n % 3 else f"2001:db8:{n:x}::{n % 97 + 1:x}"
        self.client = Client(soak.url, "/chat", headers={"X-Forwarded-For": self.address})
        self.client.handlers = {"message": self.on_message, "paired": self.on_paired,
                                "ended": self.on_ended, "redacted": self.on_redacted,
                                "requeued": self.on_requeued}
        self.cid: str | None = None
        self.token: str | None = None
        self.last_id: str | None = None
        self.paired = asyncio.Event()
        self.ended = asyncio.Event()
        self.secret_id: str | None = None

    async def on_message(self, data: dict[str, Any]) -> None:
        self.got(data)

    def got(self, data: dict[str, Any]) -> None:
        if data.get("from") == "volunteer":
            self.soak.record.chatter_got[data["conversation_id"]].append(
                (data["id"], time.monotonic()))
        self.last_id = data["id"]

    async def on_paired(self, data: dict[str, Any]) -> None:
        self.paired.set()

    async def on_requeued(self, data: dict[str, Any]) -> None:
        self.soak.record.requeued[data["conversation_id"]] += 1
        self.paired.clear()

    async def on_ended(self, data: dict[str, Any]) -> None:
        self.ended.set()

    async def on_redacted(self, data: dict[str, Any]) -> None:
        self.soak.record.redactions_seen.add(data["message_id"])

    async def resume(self) -> bool:
        """Back after a drop: connect again and resume (half with `after`, half without)."""
        await self.client.connect(self.soak.deadline)
        payload: dict[str, Any] = {"resume_token": self.token}
        if self.n % 2 and self.last_id:
            payload["after"] = self.last_id
        ack = await self.client.call("resume", payload)
        if not ack or not ack.get("ok"):
            return False
        for msg in ack["messages"]:
            self.got(msg)
        for item in ack.get("redacted", []):
            self.soak.record.redactions_seen.add(item["message_id"])
        if ack["status"] == "ended":
            self.ended.set()
        elif ack["status"] == "active":
            self.paired.set()
        return True

    async def call(self, event: str, data: Any) -> Any:
        """An event that survives the server's death: resume and send again."""
        while not self.ended.is_set() and time.monotonic() < self.soak.deadline:
            ack = await self.client.call(event, data)
            if ack is not None and not (ack.get("ok") is False
                                        and ack["error"]["code"] == "unavailable"):
                return ack
            await self.resume()
        return None

    async def run(self) -> None:
        rng = random.Random(self.n)
        await self.client.connect(self.soak.deadline)
        sent = time.monotonic()
        ack = await self.client.call("start", {"age": 12 + self.n % 8})
        if not ack or not ack.get("ok"):
            self.soak.record.unfinished.append(f"chatter {self.n}: start {ack}")
            return
        self.cid, self.token = ack["conversation_id"], ack["resume_token"]
        self.soak.record.starts[self.cid] = (sent, time.monotonic())
        for i in range(rng.randint(3, 7)):
            while not self.paired.is_set() and not self.ended.is_set():
                if time.monotonic() > self.soak.deadline:
                    self.soak.record.unfinished.append(f"chatter {self.n}: never paired")
                    return
                await self.wait_or_resume(self.paired)
            if self.ended.is_set():
                break
            text = SECRET if i == 0 and self.n % 5 == 0 else f"bericht {i} van chatter {self.n}"
            sent = await self.call("message", {"text": text, "client_id": f"c{self.n}-{i}"})
            if sent and sent.get("ok"):
                self.soak.record.acked[sent["id"]] = (self.cid, "chatter")
                if text == SECRET:
                    self.secret_id = sent["id"]
            await asyncio.sleep(rng.uniform(0.3, 1.5))  # a person typing
            if rng.random() < 0.15:
                await self.client.close()  # the phone lost its signal
                await self.resume()
        if self.secret_id is not None:  # see it replaced before leaving: the flag's check
            await self.wait_until(lambda: self.secret_id in self.soak.record.redactions_seen)
        if not self.ended.is_set():
            await asyncio.sleep(1.0)  # read the last answer
            self.soak.record.left_at[self.cid] = time.monotonic()
            await self.call("leave", {})
        if not self.ended.is_set():
            await self.wait_or_resume(self.ended)
        await self.client.close()

    async def wait_until(self, condition: Any, seconds: float = 60) -> None:
        until = time.monotonic() + seconds
        while not condition() and not self.ended.is_set() and time.monotonic() < until:
            await self.wait_or_resume(self.ended)

    async def wait_or_resume(self, event: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(event.wait(), 1.0)
        except TimeoutError:
            if self.client.sio is None or not self.client.sio.connected:
                await self.resume()


class Volunteer:
    def __init__(self, soak: Soak, n: int, token: str) -> None:
        self.soak, self.n = soak, n
        self.client = Client(soak.url, "/staff", auth={"token": token})
        self.client.handlers = {"assigned": self.on_assigned, "message": self.on_message,
                                "ended": self.on_ended, "state": self.on_state,
                                "disconnect": self.on_disconnect}
        self.inbox: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.leaving = False
        self.timeouts_left = 1 if n == 0 else 0

    async def on_assigned(self, data: dict[str, Any]) -> None:
        self.soak.record.assigned[data["conversation_id"]].append(f"v{self.n}")
        self.adopt(data["conversation_id"])

    async def on_state(self, data: dict[str, Any]) -> None:
        mine = {conv["conversation_id"] for conv in data.get("conversations", [])}
        for cid in [c for c in self.inbox if c not in mine]:  # given to another while away
            await self.on_ended({"conversation_id": cid})
        for cid in mine:
            self.adopt(cid)

    def adopt(self, cid: str) -> None:
        if cid in self.inbox:
            return
        self.inbox[cid] = asyncio.Queue()
        if len(self.inbox) > 2:
            self.soak.record.over_capacity.append(f"v{self.n}: {sorted(self.inbox)}")
        task = asyncio.ensure_future(self.converse(cid))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def on_message(self, data: dict[str, Any]) -> None:
        if data.get("from") == "chatter" and data["conversation_id"] in self.inbox:
            self.inbox[data["conversation_id"]].put_nowait(data)

    async def on_ended(self, data: dict[str, Any]) -> None:
        queue = self.inbox.pop(data["conversation_id"], None)
        if queue is not None:
            queue.put_nowait({})

    async def on_disconnect(self, reason: Any = None) -> None:
        if not self.leaving:
            task = asyncio.ensure_future(self.come_back())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def come_back(self) -> None:
        await self.client.connect(self.soak.deadline)
        await self.client.call("available", {"capacity": 2})

    async def converse(self, cid: str) -> None:
        queue = self.inbox[cid]
        while True:
            msg = await queue.get()
            if not msg:
                return
            if msg["text"] == SECRET:
                ack = await self.client.call("flag", {"conversation_id": cid,
                                                      "message_id": msg["id"]})
                if ack and ack.get("ok") and PHONE not in ack["text"]:
                    self.soak.record.flagged[msg["id"]] = cid
                elif ack is not None:
                    self.soak.record.flag_failures.append(f"{msg['id']}: {ack}")
            if self.timeouts_left and "bericht 2 " in msg["text"]:
                self.timeouts_left -= 1
                ack = await self.client.call("timeout", {"conversation_id": cid, "minutes": 5})
                self.soak.record.timeouts_given += bool(ack and ack.get("ok"))
                continue
            ack = await self.client.call("message", {"conversation_id": cid,
                                                     "text": f"antwoord op {msg['id']}"})
            if ack and ack.get("ok"):
                self.soak.record.acked[ack["id"]] = (cid, "volunteer")
                self.soak.record.volunteer_order[cid].append(ack["id"])
                self.soak.record.acked_at[ack["id"]] = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        rng = random.Random(1000 + self.n)
        await self.client.connect(self.soak.deadline)
        await self.client.call("available", {"capacity": 2})
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(8, 20))
                break
            except TimeoutError:
                pass
            if self.n in (1, 2):  # a break: unavailable a few seconds, chats go on
                await self.client.call("unavailable", {})
                await asyncio.sleep(rng.uniform(1, 3))
                await self.client.call("available", {"capacity": 2})
            elif self.n == 3 and self.client.sio is not None:  # the console drops, comes back
                await self.client.sio.eio.disconnect(abort=True)
        self.leaving = True
        for task in list(self.tasks):
            task.cancel()
        await self.client.close()


class Soak:
    def __init__(self, args: argparse.Namespace, data_dir: Path) -> None:
        self.args = args
        self.server = Subprocess(
            data_dir, CHATSERVER_REDACTOR="true", CHATSERVER_TRUSTED_PROXIES="127.0.0.1",
            CHATSERVER_VOLUNTEER_GRACE_SECONDS="5", CHATSERVER_RATE_BURST="200")
        self.url = self.server.url
        self.record = Record()
        self.deadline = time.monotonic() + 3600  # set again when the load begins
        self.addresses: list[str] = []

    def add_staff(self, name: str, role: str) -> None:
        done = self.server.cli("users", "add", name, "--role", role, "--password-stdin",
                               stdin=PASSWORD + "\n")
        if done.returncode != 0:
            raise RuntimeError(f"users add {name}: {done.stderr}")

    async def login(self, http: httpx.AsyncClient, name: str) -> str:
        r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])

    async def run(self) -> None:
        args = self.args
        self.server.start()
        for n in range(args.volunteers):
            self.add_staff(f"vrijwilliger{n}", "volunteer")
        self.add_staff("begeleider", "supervisor")
        self.add_staff("coordinator", "coordinator")
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            tokens = [await self.login(http, f"vrijwilliger{n}") for n in range(args.volunteers)]
            self.coordinator = await self.login(http, "coordinator")
            supervisor = await self.login(http, "begeleider")
        # Clients give up on a server that stays away this long after the load ends.
        self.deadline = time.monotonic() + args.seconds + 90
        self.up = asyncio.Event()
        self.up.set()
        stop = asyncio.Event()
        volunteers = [Volunteer(self, n, t) for n, t in enumerate(tokens)]
        staff = [asyncio.ensure_future(v.run(stop)) for v in volunteers]
        staff.append(asyncio.ensure_future(self.supervise(supervisor, stop)))
        chatters = [asyncio.ensure_future(self.arrive(n)) for n in range(args.chatters)]
        chaos = [asyncio.ensure_future(self.vandal(at)) for at in (0.2, 0.8)]
        chaos.append(asyncio.ensure_future(self.kill_and_restart()))
        await asyncio.gather(*chaos)
        done, pending = await asyncio.wait(chatters, timeout=max(1.0, self.deadline - time.monotonic()))
        for task in pending:
            task.cancel()
        self.record.unfinished += [f"chatter task did not finish ({len(pending)})"] if pending else []
        for task in done:
            if task.exception() is not None:
                self.record.unfinished.append(f"chatter failed: {task.exception()!r}")
        stop.set()
        await asyncio.gather(*staff, return_exceptions=True)
        await self.check_health("end")

    async def arrive(self, n: int) -> None:
        await asyncio.sleep(self.args.seconds * 0.7 * n / self.args.chatters)
        chatter = Chatter(self, n)
        self.addresses.append(chatter.address)
        await chatter.run()

    async def supervise(self, token: str, stop: asyncio.Event) -> None:
        client = Client(self.url, "/staff", auth={"token": token})
        await client.connect(self.deadline)
        while not stop.is_set():
            listing = await client.call("list_conversations", {})
            for conv in (listing or {}).get("conversations", [])[:3]:
                await client.call("monitor", {"conversation_id": conv["conversation_id"]})
                if conv.get("status") == "active":
                    await client.call("whisper", {"conversation_id": conv["conversation_id"],
                                                  "text": "goed bezig"})
            try:
                await asyncio.wait_for(stop.wait(), 10)
            except TimeoutError:
                if client.sio is None or not client.sio.connected:
                    await client.connect(self.deadline)
        await client.close()

    async def kill_and_restart(self) -> None:
        await asyncio.sleep(self.args.seconds * 0.45)
        self.record.kill_at = time.monotonic()
        self.up.clear()
        await asyncio.to_thread(self.server.kill)
        # Launched from this (the main) thread: the server dies with the thread that started
        # it (PR_SET_PDEATHSIG), and an executor's thread ends before the checks are done.
        self.server.launch()
        await asyncio.to_thread(self.server.wait_health)
        self.record.restart_seconds = time.monotonic() - self.record.kill_at
        self.up.set()
        await self.check_health("after restart")

    async def check_health(self, when: str) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            r = await http.get("/healthz")
            if r.status_code != 200 or r.json().get("status") != "ok":
                self.record.health.append(f"{when}: {r.status_code} {r.text[:200]}")

    async def vandal(self, at: float) -> None:
        await asyncio.sleep(self.args.seconds * at)
        await self.up.wait()
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            token = await self.login(http, "begeleider")
        headers = {"X-Forwarded-For": "192.0.2.66"}
        self.addresses.append("192.0.2.66")
        clients = {"/chat": Client(self.url, "/chat", headers=headers),
                   "/staff": Client(self.url, "/staff", auth={"token": token})}
        for client in clients.values():
            await client.connect(self.deadline)
        for namespace, event, payload in BAD_PAYLOADS:
            ack = await clients[namespace].call(event, payload)
            self.judge_bad(f"{namespace} {event} {str(payload)[:40]}", ack)
        for client in clients.values():
            await client.close()
        await self.raw_packets()

    def judge_bad(self, what: str, ack: Any) -> None:
        self.record.bad_input_count += 1
        if not (isinstance(ack, dict) and ack.get("ok") is False
                and ack.get("error", {}).get("code") and ack["error"].get("message")):
            self.record.bad_input.append(f"{what}: {ack!r}"[:200])

    async def raw_packets(self) -> None:
        url = self.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, additional_headers={
                "X-Forwarded-For": "192.0.2.66"}) as ws:
            await ws.recv()
            await ws.send("40/chat,")
            await ws.recv()
            for ident, body in enumerate(RAW_BODIES, start=1):
                await ws.send(f"42/chat,{ident}{body}")
                prefix = f"43/chat,{ident}"
                try:
                    while not (frame := str(await asyncio.wait_for(ws.recv(), 10))).startswith(
                            prefix):
                        pass
                    self.judge_bad(f"raw {body}", json.loads(frame[len(prefix):])[0])
                except TimeoutError:
                    self.judge_bad(f"raw {body}", None)
        for frame in GARBAGE_FRAMES:
            try:
                async with websockets.connect(url) as ws:
                    await ws.recv()
                    await ws.send("40/chat,")
                    await ws.send(frame)
                    await asyncio.wait_for(ws.recv(), 2)
            except (websockets.ConnectionClosed, TimeoutError, OSError):
                pass

    # -- the invariants ----------------------------------------------------------------------

    async def transcripts(self, cids: set[str]) -> dict[str, list[dict[str, Any]]]:
        out = {}
        async with httpx.AsyncClient(base_url=self.url, timeout=30, headers={
                "Authorization": f"Bearer {self.coordinator}"}) as http:
            for cid in cids:
                r = await http.get(f"/api/conversations/{cid}/transcript")
                out[cid] = r.json().get("messages", []) if r.status_code == 200 else []
        return out

    async def invariants(self) -> list[tuple[str, str, list[str]]]:
        rec = self.record
        db = sqlite3.connect(self.server.data_dir / "chatserver.sqlite3")
        stored = {row[0] for row in db.execute("SELECT id FROM messages")}
        convs = db.execute("SELECT id, created_at, paired_at, ended_at FROM conversations"
                           ).fetchall()
        db.close()
        rows: list[tuple[str, str, list[str]]] = []
        lost = [m for m in rec.acked if m not in stored]
        rows.append(("durable", (f"{len(rec.acked) - len(lost)} of {len(rec.acked)} "
                     "acknowledged messages stored"), lost))
        # Every acknowledged volunteer message reached its chatter, once (but for the kill).
        missing, twice, ordered = [], [], []
        for cid, sent in rec.volunteer_order.items():
            got = rec.chatter_got.get(cid, [])
            first: dict[str, float] = {}
            for mid, when in got:
                if mid in first:
                    near_kill = rec.kill_at is not None and 0 <= rec.kill_at - first[mid] < IN_FLIGHT
                    if not near_kill:
                        twice.append(mid)
                else:
                    first[mid] = when
            missing += [rec.explain(m, cid) for m in sent if m not in first]
            seen_order = [m for m in first if m in set(sent)]
            if seen_order != [m for m in sent if m in first]:
                ordered.append(cid)
        count = sum(len(v) for v in rec.volunteer_order.values())
        rows.append(("delivered", (f"{count - len(missing)} of {count} volunteer messages "
                     "reached the chatter"), missing))
        rows.append(("exactly once", "no acknowledged message sent to a chatter twice", twice))
        rows.append(("order", f"{len(rec.volunteer_order)} conversations in sending order",
                     ordered))
        double = [f"{cid}: {who}" for cid, who in rec.assigned.items()
                  if len(set(who)) > 1 + rec.requeued[cid]]
        rows.append(("pairing", (f"{len(rec.assigned)} conversations, one volunteer at a time "
                     "within capacity"), double + rec.over_capacity))
        rows.append(("fifo", f"{len(rec.starts)} starts: none overtook an earlier one",
                     fifo_overtakes(convs, rec.starts)))
        rows.append(("bad input", f"{rec.bad_input_count} bad events, each an error ack",
                     rec.bad_input))
        transcripts = await self.transcripts(set(rec.flagged.values()))
        leaked = [mid for mid, cid in rec.flagged.items()
                  for m in transcripts.get(cid, []) if m["id"] == mid and PHONE in m["text"]]
        unseen = [mid for mid in rec.flagged if mid not in rec.redactions_seen]
        rows.append(("flags", (f"{len(rec.flagged)} flags: redacted everywhere, seen by the "
                     "chatter"), rec.flag_failures + leaked + unseen))
        rows.append(("health", "/healthz ok after the restart and at the end", rec.health))
        rows.append(("finished", (f"{self.args.chatters} chatters finished, "
                     f"{rec.timeouts_given} time-out(s)"), rec.unfinished))
        rows.append(("addresses", f"{len(set(self.addresses))} addresses in no file or log",
                     self.addresses_found()))
        return rows

    def addresses_found(self) -> list[str]:
        files = [p for p in self.server.data_dir.rglob("*") if p.is_file()]
        files.append(self.server.log_path)
        found = []
        for path in files:
            data = path.read_bytes()
            found += [f"{a} in {path.name}" for a in set(self.addresses) if a.encode() in data]
        return found


def fifo_overtakes(convs: list[tuple[Any, ...]], starts: dict[str, tuple[float, float]]
                   ) -> list[str]:
    """B joined the queue after A (A's `start` was acknowledged before B's was sent, by the
    client's clock) but was paired while A still waited (by the server's clock)."""
    def seconds(value: Any) -> float | None:
        return None if value is None else datetime.fromisoformat(str(value)).timestamp()

    left = {cid: seconds(p) if p is not None else seconds(e) for cid, _, p, e in convs}
    paired = {cid: seconds(p) for cid, _, p, _ in convs}
    out = []
    for a, (_, a_acked) in starts.items():
        for b, (b_sent, _) in starts.items():
            b_paired, a_left = paired.get(b), left.get(a)
            if a_acked < b_sent and b_paired is not None and (a_left is None or b_paired < a_left):
                out.append(f"{b[:8]} (paired {b_paired:.2f}) before {a[:8]} (left the queue "
                           f"{'never' if a_left is None else f'{a_left:.2f}'})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chatters", type=int, default=150)
    parser.add_argument("--volunteers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=240.0,
                        help="how long chatters keep arriving is 70%% of this")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        soak = Soak(args, Path(tmp) / "data")
        try:
            asyncio.run(soak.run())
            rows = asyncio.run(soak.invariants())
        finally:
            soak.server.stop()
    width = max(len(r[1]) for r in rows)
    print(f"\nsoak: {args.chatters} chatters, {args.volunteers} volunteers, {args.seconds:.0f} s, "
          f"one SIGKILL and restart (back after {soak.record.restart_seconds:.1f} s)")
    print(f"{'invariant':<13} {'what was checked':<{width}}  result")
    for name, what, violations in rows:
        print(f"{name:<13} {what:<{width}}  {'ok' if not violations else 'VIOLATED'}")
        for v in violations[:10]:
            print(f"{'':<13}   {v}")
    failed = sum(1 for r in rows if r[2])
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
