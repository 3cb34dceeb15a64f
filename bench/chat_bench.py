"""Chat relay benchmark: N paired conversations over real websockets, against the real server
(`chatserver serve`, a subprocess) and against a bare python-socketio relay in the same run.

    .venv/bin/python -m bench.chat_bench                      # 1,000 conversations, 1 msg / 5 s / side
    .venv/bin/python -m bench.chat_bench --saturate --conversations 500
    .venv/bin/python -m bench.chat_bench --relay-only --saturate

The servers, load generators, measurement and tables are in bench/harness/.

How it measures
- The server runs pinned to one core (`taskset -c 0`, `--server-cpu`); the load generators run
  as separate processes pinned to the other core(s). Their CPU use is measured and printed.
- Generators speak the Engine.IO 4 / Socket.IO 5 wire format directly over `websockets`
  (`40/chat,` connect, `42/chat,7["message",{...}]` with ack ids, `2` → `3` pings): a few
  hundred bytes of state per socket, so one core drives thousands of sockets.
- Every message carries its send time (CLOCK_MONOTONIC, system-wide on Linux, so comparable
  between generator processes); latency = receipt at the other side − send.
- Each side of each conversation sends one message per `--interval` seconds on a fixed
  schedule (open loop) with a random phase; the first interval (ramp) is not measured.
  Delivered = receipts inside the window / window length; messages sent inside the window but
  never received, error acks, missing acks and dropped sockets are errors.
- Chatters connect with distinct X-Forwarded-For addresses (the server trusts 127.0.0.1 as a
  proxy, CHATSERVER_TRUSTED_PROXIES), as behind the production reverse proxy: otherwise every
  chatter would share one address hash and its per-address limits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from bench.harness.generator import Generators
from bench.harness.machine import cpu_model, loadavg
from bench.harness.measure import P99_TARGET_MS, Row, best, measure, saturate
from bench.harness.report import print_table
from bench.harness.servers import setup_chatserver, setup_relay, start_chatserver, start_relay


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--conversations", type=int, default=None,
                   help="paired conversations (default 1000; 500 with --saturate)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between messages per side")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load (steady mode)")
    p.add_argument("--saturate", action="store_true", help="raise the load until p99 > 50 ms")
    p.add_argument("--rates", default="500,1000,1500,2000,2500,3000,3500,4000",
                   help="offered msgs/s steps of --saturate")
    p.add_argument("--step", type=float, default=12.0, help="seconds per saturation step")
    p.add_argument("--relay-only", action="store_true", help="only the bare relay")
    p.add_argument("--server-only", action="store_true", help="only the chat server")
    p.add_argument("--server-cpu", type=int, default=0, help="core for the server (-1: no pinning)")
    p.add_argument("--generators", type=int, default=2, help="load generator processes")
    p.add_argument("--capacity", type=int, default=6, help="conversations per volunteer")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the chat server (experiments), repeatable")
    p.add_argument("--json", help="also write the rows to this JSON file")
    p.add_argument("--py-spy", metavar="DIR",
                   help="sample the server with py-spy during set-up and each measured window "
                        "(py-spy from PATH, $PY_SPY or /tmp/pyspy/bin/py-spy)")
    args = p.parse_args(argv)

    conversations = args.conversations or (500 if args.saturate else 1000)
    server_cpu = None if args.server_cpu < 0 else args.server_cpu
    allowed = sorted(os.sched_getaffinity(0))
    gen_cpus = [c for c in allowed if c != server_cpu] or None
    rates = [float(x) for x in args.rates.split(",")]
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {loadavg()}; server on "
          f"core {server_cpu}, {args.generators} generator processes on cores {gen_cpus}",
          flush=True)

    rows: list[Row] = []
    gens = Generators(args.generators, gen_cpus)

    def run_load(srv: Any, mode: str) -> None:
        """The same load against either server: the saturation steps or one measured window."""
        if args.saturate:
            saturate(gens, srv, mode, conversations, rates, args.step, rows, spy_dir=args.py_spy)
        else:
            row, _ = measure(gens, srv, mode, conversations, args.interval, args.duration,
                             spy_dir=args.py_spy)
            rows.append(row)
            print_table([row])
        gens.all({"op": "close"}, 60)

    try:
        if not args.relay_only:
            capacity = args.capacity
            nvol = math.ceil(conversations / capacity)
            env = {"CHATSERVER_REDACTOR": "false",
                   "CHATSERVER_MAX_QUEUE": str(max(500, conversations + 10)),
                   "CHATSERVER_MAX_CAPACITY": str(max(6, capacity))}
            env.update(dict(kv.split("=", 1) for kv in args.server_env))
            if args.saturate:
                # A volunteer socket carries `capacity` conversations: lift the per-socket and
                # per-address event limits so that the rate limiter is not what is measured.
                env.update({"CHATSERVER_RATE_PER_SECOND": "10000", "CHATSERVER_RATE_BURST": "10000",
                            "CHATSERVER_ADDRESS_RATE_PER_SECOND": "10000",
                            "CHATSERVER_ADDRESS_RATE_BURST": "10000"})
            print(f"chat server: {conversations} conversations, {nvol} volunteers; env "
                  + " ".join(f"{k}={v}" for k, v in env.items()), flush=True)
            volunteers = [f"vol{i:04d}" for i in range(nvol)]
            srv = start_chatserver(server_cpu, env, volunteers)
            try:
                setup_chatserver(gens, srv, conversations, capacity, volunteers, args.py_spy)
                run_load(srv, "chatserver")
            finally:
                srv.stop()
        if not args.server_only:
            print(f"bare relay: {conversations} pairs (2 sockets, one room each)", flush=True)
            relay = start_relay(server_cpu)
            try:
                setup_relay(gens, relay, conversations)
                run_load(relay, "bare relay")
            finally:
                relay.stop()
    finally:
        gens.quit()

    print("\nall runs:")
    print_table(rows)
    chat, bare = best(rows, "chatserver"), best(rows, "bare relay")
    if args.saturate:
        for name, r in (("chatserver", chat), ("bare relay", bare)):
            print(f"{name}: max delivered at p99 <= {P99_TARGET_MS:.0f} ms: "
                  + (f"{r.delivered:.0f} msgs/s (p99 {r.p99:.1f} ms)" if r else "none"))
        if chat and bare:
            print(f"ratio chatserver / bare relay: {chat.delivered / bare.delivered:.0%} "
                  "(target >= 70%)")
    else:
        for r in rows:
            verdict = "meets" if r.ok else "MISSES"
            print(f"{r.mode}: {verdict} p99 < {P99_TARGET_MS:.0f} ms with {r.conversations} "
                  f"conversations (p99 {r.p99:.1f} ms, {r.errors} errors)")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
