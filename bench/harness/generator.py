"""Load generator processes: each holds thousands of `WireClient`s and, on command from the
benchmark over a pipe, sets up volunteers, chatters or relay pairs, then sends on a fixed
schedule (open loop, a random phase per sender) and reports what it measured.

Every message carries its send time (CLOCK_MONOTONIC, system-wide on Linux, so comparable
between processes); latency = receipt at the other side - send. Flags pick a recently received
chatter message that carries identifying details."""

from __future__ import annotations

import array
import asyncio
import bisect
import gc
import itertools
import multiprocessing
import os
import random
import signal
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.harness.machine import run_delay
from bench.harness.measure import percentile
from bench.harness.wire import Refused, WireClient, mono
from tests.harness.processes import die_with_parent

CHATTER_TEXTS = (
    "Hoi, ik voel me de laatste tijd niet zo lekker en weet niet goed met wie ik kan praten.",
    "Op school gaat het niet zo goed, ik word steeds buitengesloten door mijn klasgenoten.",
    "Thuis is er veel ruzie en ik weet niet wat ik moet doen, kun je me helpen?",
)
VOLUNTEER_TEXT = "Fijn dat je het vertelt. Wil je er iets meer over zeggen, wat gebeurde er precies?"


@dataclass
class RunState:
    window: tuple[float, float] = (0.0, 0.0)
    sent: array.array = field(default_factory=lambda: array.array("d"))
    lag: array.array = field(default_factory=lambda: array.array("d"))
    recv_send: array.array = field(default_factory=lambda: array.array("d"))
    recv_recv: array.array = field(default_factory=lambda: array.array("d"))
    ack_lat: array.array = field(default_factory=lambda: array.array("d"))
    errors: Counter[str] = field(default_factory=Counter)
    flag_t: dict[str, float] = field(default_factory=dict)
    flag_ack: dict[str, float] = field(default_factory=dict)
    redacted_t: dict[str, float] = field(default_factory=dict)
    staff_redacted_t: dict[str, float] = field(default_factory=dict)
    # Which messages were sent in the window, by whom ("chatter"/"volunteer"/"relay"), and
    # which were received: the messages never delivered are named by direction (measure.py).
    sent_ids: dict[str, str] = field(default_factory=dict)
    recv_ids: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, gid: int, pipe: Connection) -> None:
        self.gid = gid
        self.pipe = pipe
        self.url = ""
        self.chatters: list[WireClient] = []
        self.volunteers: list[WireClient] = []
        self.relay: list[WireClient] = []
        self.state = RunState()
        self.errors: Counter[str] = Counter()  # set-up errors
        self.flag_candidates: deque[tuple[WireClient, str, str]] = deque(maxlen=2000)
        self.pii_share = 0.0
        self.seq = itertools.count()

    # -- events from the server ----------------------------------------------------------------

    def __call__(self, client: WireClient, event: str, data: Any) -> None:
        if event == "message":
            text = data.get("text", "") if isinstance(data, dict) else ""
            if text.startswith("B"):
                bar = text.find("|")
                try:
                    sent = float(text[1:bar])
                except ValueError:
                    return
                self.state.recv_send.append(sent)
                self.state.recv_recv.append(mono())
                w0, w1 = self.state.window
                if w0 <= sent <= w1:
                    self.state.recv_ids.append(text[bar + 1:text.find("|", bar + 1)])
                if "|P|" in text and data.get("from") == "chatter":
                    self.flag_candidates.append((client, data["conversation_id"], data["id"]))
        elif event == "paired":
            client.conv = data.get("conversation_id")
            if client.paired is not None and not client.paired.done():
                client.paired.set_result(data)
        elif event == "assigned":
            client.convs.append(data["conversation_id"])
        elif event == "redacted":
            target = self.state.redacted_t if client.nsp == "/chat" else self.state.staff_redacted_t
            target.setdefault(data.get("message_id", ""), mono())
        elif event == "ended":
            self.state.errors["ended"] += 1
        elif event == "requeued":  # its volunteer's socket went away: back in the queue
            self.state.errors["requeued"] += 1

    def ack(self, client: WireClient, pending: tuple[float, str, Any], reply: Any) -> None:
        t, kind, extra = pending
        if kind == "call":
            if not extra.done():
                extra.set_result(reply)
            return
        now = mono()
        ok = isinstance(reply, dict) and reply.get("ok")
        if kind == "flag":
            if ok:
                self.state.flag_ack[extra] = now - t
            else:
                self.state.errors["flag:" + str((reply or {}).get("error", {}).get("code"))] += 1
            return
        if ok:
            w0, w1 = self.state.window
            if w0 <= t <= w1:
                self.state.ack_lat.append(now - t)
        else:
            code = reply.get("error", {}).get("code") if isinstance(reply, dict) else "bad-ack"
            self.state.errors[f"ack:{code}"] += 1

    # -- set-up ----------------------------------------------------------------------------------

    async def setup_staff(self, cmd: dict[str, Any]) -> dict[str, Any]:
        import aiohttp

        self.url = cmd["ws_url"]
        # Few logins at once: each one's argon2id check runs on the server's event loop.
        sem = asyncio.Semaphore(2)

        async def one(session: aiohttp.ClientSession, name: str, ip: str) -> None:
            async with sem:
                try:
                    for _attempt in range(4):
                        async with session.post(
                            cmd["http_url"] + "/api/auth/login",
                            json={"username": name, "password": cmd["password"]},
                            headers={"X-Forwarded-For": ip},
                        ) as r:
                            body = await r.json()
                        if "token" in body:
                            break
                        self.errors[f"login:{body.get('error', {}).get('code')}"] += 1
                        await asyncio.sleep(1)
                    else:
                        return
                    c = WireClient("/staff", self)
                    c.name = name
                    await c.connect(self.url, ip, {"token": body["token"]})
                    reply = await c.call("available", {"capacity": cmd["capacity"]})
                    if not reply.get("ok"):
                        self.errors[f"available:{reply}"] += 1
                    self.volunteers.append(c)
                except Exception as exc:  # noqa: BLE001
                    self.errors[f"staff:{type(exc).__name__}:{str(exc)[:80]}"] += 1

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await asyncio.gather(*(one(session, n, ip) for n, ip in cmd["volunteers"]))
        return {"volunteers": len(self.volunteers), "errors": dict(self.errors)}

    async def setup_chatters(self, cmd: dict[str, Any]) -> dict[str, Any]:
        sem = asyncio.Semaphore(cmd.get("concurrency", 40))
        loop = asyncio.get_running_loop()

        async def one(i: int) -> None:
            ip = f"10.{100 + self.gid}.{i // 250}.{i % 250 + 1}"
            async with sem:
                c = WireClient("/chat", self)
                c.paired = loop.create_future()
                try:
                    await c.connect(self.url, ip)
                    reply = await c.call("start", {})
                    if not reply.get("ok"):
                        self.errors[f"start:{reply.get('error', {}).get('code')}"] += 1
                        await c.close()
                        return
                    self.chatters.append(c)
                except Exception as exc:  # noqa: BLE001
                    self.errors[f"chatter:{type(exc).__name__}:{str(exc)[:80]}"] += 1
                    await c.close()
                    return
            try:
                await asyncio.wait_for(c.paired, cmd.get("pair_timeout", 60))
            except TimeoutError:
                self.errors["not-paired"] += 1

        await asyncio.gather(*(one(i) for i in range(cmd["count"])))
        return {"chatters": len(self.chatters),
                "paired": sum(1 for c in self.chatters if c.conv), "errors": dict(self.errors)}

    async def setup_relay(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.url = cmd["ws_url"]
        sem = asyncio.Semaphore(40)

        async def one(i: int) -> None:
            room = f"r{self.gid}-{i}"
            for side in range(2):
                c = WireClient("/", self)
                c.room = room
                async with sem:
                    try:
                        await c.connect(self.url, f"10.{150 + self.gid}.{i // 250}.{i % 250 + 1}")
                        reply = await c.call("join", {"room": room})
                        if not reply.get("ok"):
                            raise Refused(str(reply))
                        self.relay.append(c)
                    except Exception as exc:  # noqa: BLE001
                        self.errors[f"relay:{type(exc).__name__}:{str(exc)[:80]}"] += 1
                        await c.close()

        await asyncio.gather(*(one(i) for i in range(cmd["pairs"])))
        return {"sockets": len(self.relay), "errors": dict(self.errors)}

    async def close_all(self) -> dict[str, Any]:
        clients = self.chatters + self.volunteers + self.relay
        for i in range(0, len(clients), 200):
            await asyncio.gather(*(c.close() for c in clients[i:i + 200]))
        self.chatters, self.volunteers, self.relay = [], [], []
        self.errors.clear()
        self.flag_candidates.clear()
        return {"closed": len(clients)}

    # -- the measured run ------------------------------------------------------------------------

    def senders(self) -> list[tuple[WireClient, Any]]:
        out: list[tuple[WireClient, Any]] = []
        pii = self.pii_share
        seq = self.seq
        for c in self.chatters:
            if not c.conv:
                continue

            def chatter(t: float, c: WireClient = c) -> str:
                n = next(seq)
                if pii and random.random() < pii:
                    name = random.choice(("Sanne de Vries", "Daan Jansen", "Lotte Bakker"))
                    body = (f"|P| Ik ben {name}, ik woon in Utrecht en zit op het Stedelijk "
                            "Gymnasium, mijn nummer is 06-12345678.")
                else:
                    body = "| " + CHATTER_TEXTS[n % 3]
                self._sent(t, f"{self.gid}.{n}", "chatter")
                return c.frame("message", {"text": f"B{t:.6f}|{self.gid}.{n}{body}",
                                           "client_id": f"g{self.gid}-{n}"}, t, "msg")

            out.append((c, chatter))
        for v in self.volunteers:
            for conv in v.convs:
                def volunteer(t: float, v: WireClient = v, conv: str = conv) -> str:
                    n = next(seq)
                    self._sent(t, f"{self.gid}.{n}", "volunteer")
                    return v.frame("message", {"conversation_id": conv,
                                               "text": f"B{t:.6f}|{self.gid}.{n}| {VOLUNTEER_TEXT}"},
                                   t, "msg")

                out.append((v, volunteer))
        for c in self.relay:
            def relay(t: float, c: WireClient = c) -> str:
                n = next(seq)
                self._sent(t, f"{self.gid}.{n}", "relay")
                return c.frame("message", {"room": c.room,
                                           "text": f"B{t:.6f}|{self.gid}.{n}| {CHATTER_TEXTS[n % 3]}",
                                           "client_id": f"g{self.gid}-{n}"}, t, "msg")

            out.append((c, relay))
        return out

    def _sent(self, t: float, mid: str, kind: str) -> None:
        w0, w1 = self.state.window
        if w0 <= t <= w1:
            self.state.sent_ids[mid] = kind

    async def _send_loop(self, client: WireClient, build: Any, first: float, interval: float,
                         end: float) -> None:
        st = self.state
        k = 0
        sched = first
        while sched < end:
            delay = sched - mono()
            if delay > 0:
                await asyncio.sleep(delay)
            if client.closed:
                st.errors["socket-closed"] += 1
                return
            t = mono()
            st.sent.append(t)
            st.lag.append(t - sched)
            try:
                await client.ws.send(build(t))
            except Exception:  # noqa: BLE001
                st.errors["send-failed"] += 1
                return
            k += 1
            sched = first + k * interval

    async def _flag(self) -> None:
        """One volunteer flags a recently received chatter message with identifying details."""
        st = self.state
        if not self.flag_candidates:
            st.errors["flag:no-candidate"] += 1
            return
        client, conv, mid = self.flag_candidates.pop()
        t = mono()
        st.flag_t[mid] = t
        await client.ws.send(client.frame(
            "flag", {"conversation_id": conv, "message_id": mid}, t, "flag", mid))

    async def _flag_loop(self, rate: float, start: float, end: float) -> None:
        if rate <= 0:
            return
        await asyncio.sleep(max(0.0, start - mono()))
        k = 0
        while True:
            sched = start + k / rate
            if sched >= end:
                return
            await asyncio.sleep(max(0.0, sched - mono()))
            k += 1
            await self._flag()

    async def _flag_burst(self, count: int, at: float) -> None:
        """`count` flags at once (a volunteer going through a backlog)."""
        if count <= 0:
            return
        await asyncio.sleep(max(0.0, at - mono()))
        for _ in range(count):
            await self._flag()

    def _while_flagging(self, w0: float, w1: float) -> tuple[list[float], float]:
        """Latencies of the messages sent in the window while at least one flag of this
        generator was waiting for its ack; and for how many seconds one was waiting."""
        st = self.state
        spans = sorted((t, t + st.flag_ack.get(m, w1 - t)) for m, t in st.flag_t.items())
        merged: list[list[float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        starts = [a for a, _ in merged]
        out = []
        for s, r in zip(st.recv_send, st.recv_recv):
            i = bisect.bisect_right(starts, s) - 1
            if w0 <= s <= w1 and i >= 0 and s <= merged[i][1]:
                out.append(r - s)
        return sorted(out), sum(b - a for a, b in merged)

    async def run(self, cmd: dict[str, Any]) -> dict[str, Any]:
        t0, interval, duration = cmd["t0"], cmd["interval"], cmd["duration"]
        self.pii_share = cmd.get("pii_share", 0.0)
        w0, w1 = cmd["window"]
        self.state = st = RunState(window=(w0, w1))
        senders = self.senders()
        rnd = random.Random(cmd.get("seed", 1) + self.gid)
        end = t0 + duration
        tasks = [asyncio.create_task(self._send_loop(c, b, t0 + rnd.random() * interval, interval,
                                                     end)) for c, b in senders]
        tasks.append(asyncio.create_task(self._flag_loop(cmd.get("flag_rate", 0.0),
                                                         w0, min(w1, end))))
        tasks.append(asyncio.create_task(self._flag_burst(cmd.get("flag_burst", 0),
                                                          w0 + (w1 - w0) / 3)))
        await asyncio.sleep(max(0.0, w0 - mono()))
        cpu0, wait0 = time.process_time(), run_delay([os.getpid()])
        await asyncio.sleep(max(0.0, w1 - mono()))
        cpu1, wait1 = time.process_time(), run_delay([os.getpid()])
        await asyncio.gather(*tasks)
        await asyncio.sleep(max(0.0, end + cmd.get("drain", 3.0) - mono()))

        lat = sorted(r - s for s, r in zip(st.recv_send, st.recv_recv) if w0 <= s <= w1)
        lags = sorted(x for t, x in zip(st.sent, st.lag) if w0 <= t <= w1)
        pending = sum(1 for c in self.chatters + self.volunteers + self.relay
                      for (t, kind, _) in c.acks.values() if kind == "msg" and w0 <= t <= w1)
        closed = sum(1 for c in self.chatters + self.volunteers + self.relay if c.closed)
        flagging, flagging_seconds = self._while_flagging(w0, w1)
        errors = Counter(st.errors)
        if pending:
            errors["ack-missing"] += pending
        if closed:
            errors["sockets-closed"] = closed
        return {
            "senders": len(senders),
            "sent_in_window": sum(1 for t in st.sent if w0 <= t <= w1),
            "received_in_window": sum(1 for r in st.recv_recv if w0 <= r <= w1),
            "received_of_window": len(lat),
            "latencies": lat,
            "lag_p99": percentile(lags, 99),
            "ack_p99": percentile(sorted(st.ack_lat), 99),
            "errors": dict(errors),
            "cpu": cpu1 - cpu0,
            "wait": wait1 - wait0,
            # flags: issued here, but the chatter who gets `redacted` may be in another process
            "flag_t": st.flag_t, "flag_ack": st.flag_ack, "redacted_t": st.redacted_t,
            "staff_redacted_t": st.staff_redacted_t,
            "latencies_while_flagging": flagging, "flagging_seconds": flagging_seconds,
            "sent_ids": st.sent_ids, "recv_ids": st.recv_ids,
        }

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        handlers = {
            "setup_staff": self.setup_staff, "setup_chatters": self.setup_chatters,
            "setup_relay": self.setup_relay, "close": lambda cmd: self.close_all(),
            "run": self.run,
            "status": lambda cmd: self._status(),
        }
        while True:
            cmd = await loop.run_in_executor(None, self.pipe.recv)
            if cmd["op"] == "quit":
                await self.close_all()
                self.pipe.send({"ok": True})
                return
            try:
                reply = await handlers[cmd["op"]](cmd)
                if cmd["op"] in ("setup_chatters", "setup_relay"):
                    gc.collect()
                    gc.freeze()
            except Exception as exc:  # noqa: BLE001
                reply = {"failed": f"{type(exc).__name__}: {exc}"}
            self.pipe.send(reply)

    async def _status(self) -> dict[str, Any]:
        return {"assigned": sum(len(v.convs) for v in self.volunteers),
                "paired": sum(1 for c in self.chatters if c.conv)}


def generator_main(gid: int, pipe: Connection, cpus: list[int] | None, parent: int) -> None:
    die_with_parent(parent)
    if cpus:
        os.sched_setaffinity(0, set(cpus))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.set_threshold(50_000, 50, 100)
    try:
        import uvloop

        uvloop.run(Generator(gid, pipe).serve())
    except ImportError:
        asyncio.run(Generator(gid, pipe).serve())


class Generators:
    def __init__(self, count: int, cpus: list[int] | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for gid in range(count):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=generator_main, args=(gid, child, cpus, os.getpid()),
                            daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def call(self, cmds: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for pipe, cmd in zip(self.pipes, cmds):
            pipe.send(cmd)
        out = []
        deadline = mono() + timeout
        for pipe in self.pipes:
            if not pipe.poll(max(0.0, deadline - mono())):
                raise SystemExit(f"a load generator did not answer within {timeout:.0f} s")
            reply = pipe.recv()
            if "failed" in reply:
                raise SystemExit(f"a load generator failed: {reply['failed']}")
            out.append(reply)
        return out

    def all(self, cmd: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        return self.call([cmd] * len(self.pipes), timeout)

    def quit(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send({"op": "quit"})
            except OSError:
                pass
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
