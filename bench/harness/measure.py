"""Measuring a window of load (`measure`) into a table row (`Row`), and raising the load step
by step until the latency target is missed (`saturate`).

A row's errors are error acks, missing acks, messages sent in the window and never received,
and dropped sockets. The first interval of a run (ramp) is not measured."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.harness.machine import cpu_seconds, loadavg, rss_mb, run_delay, switches, tree
from bench.harness.profile import Spy
from bench.harness.report import print_table

if TYPE_CHECKING:
    from bench.harness.generator import Generators
    from tests.harness.servers import ServerProcess as Server

P99_TARGET_MS = 50.0
mono = time.monotonic


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass
class Row:
    mode: str
    conversations: int
    offered: float
    delivered: float
    p50: float
    p99: float
    max: float
    errors: int
    server_cpu: float
    server_rss: float
    gen_cpu: float
    gen_lag_p99: float
    server_wait: float
    gen_wait: float
    ack_p99: float
    load: str
    error_kinds: dict[str, int] = field(default_factory=dict)
    wakeups: dict[str, float] = field(default_factory=dict)  # per delivered msg, by thread
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.p99 <= P99_TARGET_MS and self.delivered >= 0.95 * self.offered and \
            self.errors <= max(5, 0.001 * self.offered)



def measure(gens: Generators, srv: Server, mode: str, conversations: int, interval: float,
            duration: float, *, extra_cmd: dict[str, Any] | None = None, drain: float = 3.0,
            ramp: float | None = None, spy_dir: str | None = None
            ) -> tuple[Row, list[dict[str, Any]]]:
    """One window of load: every generator sends on its schedule; the server's CPU, wait and
    memory are read from /proc around the window; the generators' replies are returned too."""
    t0 = mono() + 1.0
    ramp = interval if ramp is None else ramp
    w0, w1 = t0 + min(ramp, duration / 3), t0 + duration
    cmd = {"op": "run", "t0": t0, "interval": interval, "duration": duration,
           "window": (w0, w1), "drain": drain, **(extra_cmd or {})}
    for pipe in gens.pipes:
        pipe.send(cmd)
    pids = tree(srv.pid)
    time.sleep(max(0.0, w0 - mono()))
    c0, d0, s0 = cpu_seconds(pids), run_delay(pids), switches(pids)
    spy = Spy(spy_dir, srv, f"{mode.replace(' ', '-')}-{conversations}-{2 * conversations / interval:.0f}",
              w1 - w0)
    rss = 0.0
    load = loadavg()
    while mono() < w1:
        time.sleep(min(1.0, max(0.0, w1 - mono())))
        rss = max(rss, rss_mb(srv.pid))
    c1, d1, s1 = cpu_seconds(pids), run_delay(pids), switches(pids)
    replies = []
    spy_pending = spy
    for pipe in gens.pipes:
        if not pipe.poll(duration + drain + 60):
            raise SystemExit("a load generator did not finish its run")
        reply = pipe.recv()
        if "failed" in reply:
            raise SystemExit(f"a load generator failed: {reply['failed']}")
        replies.append(reply)
    spy_pending.done()
    span = w1 - w0
    delivered = sum(r["received_in_window"] for r in replies) / span
    # Wake-ups per delivered message, by thread name (threads gone meanwhile count nothing).
    wakeups = {name: (s1[name] - s0[name]) / max(delivered * span, 1)
               for name in s1 if s1[name] > s0[name]}
    lat = sorted(x for r in replies for x in r["latencies"])
    errors: Counter[str] = Counter()
    for r in replies:
        errors.update(r["errors"])
    sent = sum(r["sent_in_window"] for r in replies)
    lost = sent - len(lat)
    if lost > 0:
        # Named by direction (the receipt may be in another generator than the send).
        received = {m for r in replies for m in r.get("recv_ids", ())}
        kinds = Counter(kind for r in replies for m, kind in r.get("sent_ids", {}).items()
                        if m not in received)
        for kind, n in kinds.items():
            errors[f"not-delivered:{kind}"] += n
        if lost > sum(kinds.values()):
            errors["not-delivered"] += lost - sum(kinds.values())
    row = Row(
        mode=mode, conversations=conversations,
        offered=sent / span,
        delivered=delivered,
        p50=percentile(lat, 50) * 1000, p99=percentile(lat, 99) * 1000,
        max=(lat[-1] * 1000 if lat else float("nan")),
        errors=sum(errors.values()), server_cpu=100 * (c1 - c0) / span, server_rss=rss,
        gen_cpu=100 * sum(r["cpu"] for r in replies) / span,
        gen_lag_p99=max(r["lag_p99"] for r in replies) * 1000,
        server_wait=100 * (d1 - d0) / span,
        gen_wait=100 * max(r["wait"] for r in replies) / span,
        ack_p99=max(r["ack_p99"] for r in replies) * 1000,
        load=load, error_kinds=dict(errors), wakeups=wakeups,
    )
    return row, replies


def split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def disturbed(row: Row) -> bool:
    """Other work on the machine got in the way: the generator could not send on time, or the
    server (pinned to its core) waited for that core much of the time."""
    return row.gen_lag_p99 > 20 or row.server_wait > 15 or row.gen_wait > 15


def saturate(gens: Generators, srv: Server, mode: str, conversations: int,
             rates: list[float], step: float, rows: list[Row], budget: float = 180.0,
             spy_dir: str | None = None) -> None:
    """Raise the offered load step by step; stop when p99 passes the target or the delivered
    rate stops following; then one step halfway between the last good and the first bad.
    A failed step that was disturbed by other work on the machine is repeated (at most twice);
    every attempt is printed."""
    senders = 2 * conversations
    deadline = mono() + budget

    def attempt(rate: float) -> Row:
        row = None
        for _ in range(3):
            row, _ = measure(gens, srv, mode, conversations, senders / rate, step,
                             ramp=min(2.0, step / 4), spy_dir=spy_dir)
            rows.append(row)
            print_table([row])
            if row.ok or not disturbed(row) or mono() > deadline:
                break
            print("  (disturbed by other work on the machine: repeating this step)", flush=True)
            time.sleep(2)
        assert row is not None
        return row

    last_ok: float | None = None
    for rate in rates:
        if mono() > deadline:
            print("  (time budget of this saturation run used up)")
            return
        row = attempt(rate)
        if not row.ok:
            if last_ok is not None and mono() < deadline:
                time.sleep(2)
                attempt((last_ok + rate) / 2)
            return
        last_ok = rate
        time.sleep(1)


def best(rows: list[Row], mode: str) -> Row | None:
    ok = [r for r in rows if r.mode == mode and r.ok]
    # (rows with p99 over target never count, disturbed or not)
    return max(ok, key=lambda r: r.delivered) if ok else None
