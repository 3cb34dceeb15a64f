"""Flag benchmark: flag-to-`redacted` latency while conversations chat (issue 4).

    .venv/bin/python -m bench.flag_bench [--conversations 200] [--flags-per-second 2]

Starts `chatserver serve` with CHATSERVER_REDACTOR=true (pinned to one core like chat_bench;
the redactor's worker process inherits that core unless --redactor-cpu moves it), waits until
GET /healthz says "redactor": "ready", pairs the conversations and lets each side send one
message per --interval seconds. A share of the chatter messages (--pii-share) carries
identifying details (name, place, school, phone number). Then two measured phases:

1. chat only (hints still run: the server analyses every chatter message in the redactor),
2. chat while volunteers flag recently received detail-carrying messages at --flags-per-second,
3. chat while --burst flags are sent at once, a third into the window (0: no such phase).

Printed: flag-to-`redacted` p50/p99/max (from the volunteer emitting `flag` to the chatter
receiving `redacted`), the flag ack latency, the message latency of every phase, and the
latency of the messages sent while at least one flag was waiting for its answer (what
tests/server/test_flagging.py checks without a clock: messages keep flowing meanwhile).

    .venv/bin/python -m bench.flag_bench --conversations 20 --baseline 5 --duration 10 --burst 20

is a quick run (the redactor still takes its 10-30 s to load).
Without the redaction library (`from redaction import Redactor`) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from typing import Any

from bench.harness.generator import Generators
from bench.harness.machine import cpu_model, loadavg, tree
from bench.harness.measure import Row, measure, percentile
from bench.harness.report import print_table
from bench.harness.servers import setup_chatserver, start_chatserver
from tests.harness.processes import run


def flag_figures(replies: list[dict[str, Any]]) -> dict[str, Any]:
    flag_t: dict[str, float] = {}
    flag_ack: dict[str, float] = {}
    redacted: dict[str, float] = {}
    staff_redacted: dict[str, float] = {}
    for r in replies:
        flag_t.update(r["flag_t"])
        flag_ack.update(r["flag_ack"])
        redacted.update(r["redacted_t"])
        staff_redacted.update(r["staff_redacted_t"])
    to_chatter = sorted(redacted[m] - t for m, t in flag_t.items() if m in redacted)
    to_staff = sorted(staff_redacted[m] - t for m, t in flag_t.items() if m in staff_redacted)
    acks = sorted(flag_ack.values())
    during = sorted(x for r in replies for x in r["latencies_while_flagging"])
    return {
        "flags": len(flag_t),
        "acked": len(acks),
        "redacted_at_chatter": len(to_chatter),
        "missing": len(flag_t) - len(to_chatter),
        "p50": percentile(to_chatter, 50) * 1000,
        "p99": percentile(to_chatter, 99) * 1000,
        "max": (to_chatter[-1] * 1000 if to_chatter else float("nan")),
        "staff_p99": percentile(to_staff, 99) * 1000,
        "ack_p50": percentile(acks, 50) * 1000,
        "ack_p99": percentile(acks, 99) * 1000,
        "messages_while_flagging": len(during),
        "flagging_seconds": max(r["flagging_seconds"] for r in replies),
        "msg_p50": percentile(during, 50) * 1000,
        "msg_p99": percentile(during, 99) * 1000,
        "msg_max": (during[-1] * 1000 if during else float("nan")),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--interval", type=float, default=5.0, help="seconds between messages per side")
    p.add_argument("--flags-per-second", type=float, default=2.0)
    p.add_argument("--pii-share", type=float, default=0.3,
                   help="share of chatter messages with identifying details")
    p.add_argument("--baseline", type=float, default=30.0, help="seconds of chat without flags")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of chat with flags")
    p.add_argument("--burst", type=int, default=50,
                   help="flags sent at once in a third phase of --duration seconds (0: none)")
    p.add_argument("--server-cpu", type=int, default=0, help="core for the server (-1: no pinning)")
    p.add_argument("--redactor-cpu", type=int, default=None,
                   help="move the server's child processes (the redactor) to this core")
    p.add_argument("--generators", type=int, default=1)
    p.add_argument("--ready-timeout", type=float, default=240.0)
    args = p.parse_args(argv)

    if importlib.util.find_spec("redaction") is None:
        print("flag_bench: the redaction library (`from redaction import Redactor`) is not "
              "installed yet; nothing to measure.")
        return 0

    server_cpu = None if args.server_cpu < 0 else args.server_cpu
    gen_cpus = [c for c in sorted(os.sched_getaffinity(0)) if c != server_cpu] or None
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {loadavg()}; server on "
          f"core {server_cpu}, generator on cores {gen_cpus}", flush=True)
    n = args.conversations
    nvol = math.ceil(n / 6)
    names = [f"vol{i:04d}" for i in range(nvol)]
    env = {"CHATSERVER_REDACTOR": "true", "CHATSERVER_MAX_QUEUE": str(max(500, n + 10))}
    gens = Generators(args.generators, gen_cpus)
    rows: list[Row] = []
    phases: list[tuple[str, dict[str, Any]]] = []
    try:
        t = time.monotonic()
        srv = start_chatserver(server_cpu, env, names)
        try:
            health = srv.wait_health(
                200, args.ready_timeout, lambda h: h.get("redactor") in ("ready", "failed"))
            if health.get("redactor") != "ready":
                print(f"flag_bench: the redactor did not load ({health}); nothing to measure.")
                return 0
            print(f"  redactor ready {time.monotonic() - t:.1f} s after start", flush=True)
            children = [c for c in tree(srv.pid) if c != srv.pid]
            if args.redactor_cpu is not None:
                for pid in children:
                    run(["taskset", "-pc", str(args.redactor_cpu), str(pid)],
                        capture_output=True)
                print(f"  moved server child processes {children} to core {args.redactor_cpu}")
            setup_chatserver(gens, srv, n, 6, names)
            common = {"pii_share": args.pii_share}
            row, _ = measure(gens, srv, "chat, no flags", n, args.interval, args.baseline,
                             extra_cmd=common)
            rows.append(row)
            print_table([row])
            row, replies = measure(
                gens, srv, f"chat + {args.flags_per_second:g} flags/s", n, args.interval,
                args.duration, drain=10.0,
                extra_cmd={**common, "flag_rate": args.flags_per_second / args.generators})
            rows.append(row)
            print_table([row])
            phases.append((f"{args.flags_per_second:g} flags/s", flag_figures(replies)))
            if args.burst > 0:
                row, replies = measure(
                    gens, srv, f"chat + {args.burst} flags at once", n, args.interval,
                    args.duration, drain=10.0,
                    extra_cmd={**common, "flag_burst": math.ceil(args.burst / args.generators)})
                rows.append(row)
                print_table([row])
                phases.append((f"{args.burst} at once", flag_figures(replies)))
            gens.all({"op": "close"}, 60)
        finally:
            srv.stop()
    finally:
        gens.quit()

    print("\nmessage latency (server CPU includes the redactor process):")
    print_table(rows)
    for name, f in phases:
        print(f"\nflags, {name}: {f['flags']} issued, {f['acked']} acked ok, "
              f"{f['redacted_at_chatter']} `redacted` at the chatter, {f['missing']} missing")
        print(f"  flag -> `redacted` at the chatter: p50 {f['p50']:.0f} ms, p99 {f['p99']:.0f} ms, "
              f"max {f['max']:.0f} ms (at the volunteer: p99 {f['staff_p99']:.0f} ms)")
        print(f"  flag ack: p50 {f['ack_p50']:.0f} ms, p99 {f['ack_p99']:.0f} ms")
        print(f"  messages sent while a flag was waiting ({f['flagging_seconds']:.1f} s, "
              f"{f['messages_while_flagging']} messages): p50 {f['msg_p50']:.1f} ms, "
              f"p99 {f['msg_p99']:.1f} ms, max {f['msg_max']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
