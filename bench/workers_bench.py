"""Scale-out benchmark (issue #17): what Redis costs one worker, and what more workers cost.

    .venv/bin/python -m bench.workers_bench                          # all three, one run
    .venv/bin/python -m bench.workers_bench --conversations 100 --step 6 --rates 400,800 \\
        --load 200 --duration 8                                      # quick: does it work

In one run, against `chatserver serve` (bench/harness/ generators, one throwaway redis-server
without persistence, one SQLite file per server, or with `--database postgresql` a throwaway
PostgreSQL server beside Redis, a database per server):

1. saturation: the offered load is raised step by step (`--rates`) until p99 > 50 ms, for one
   process without Redis and for one worker on Redis; ratio 1 = the best delivered msgs/s on
   Redis / without (target >= 70 %);
2. CPU per delivered message, summed over every process of the server (supervisor and
   workers), at one fixed offered load (`--load`) for 1, 2 and 4 workers on Redis; ratio 2 =
   2 workers / 1 worker (target <= 1.25x), ratio 3 = 4 workers / 1 worker (reported).

Pinning: every server process runs on `--server-cpu` (uvicorn's workers inherit the
affinity), Redis and the load generators on the other cores. On 2 cores that puts 1, 2 or 4
workers on one core: ratios 2 and 3 then say what the extra workers *cost*, not what they add.
On a larger machine give the workers cores of their own with `--server-cpus 0-3` (a range or a
list; Redis and generators get the rest) and compare delivered/s too."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from bench.harness.generator import Generators
from bench.harness.machine import cpu_model, loadavg
from bench.harness.measure import P99_TARGET_MS, Row, best, measure, saturate
from bench.harness.report import print_table
from bench.harness.servers import setup_chatserver, start_chatserver
from tests.live.postgres_server import PostgresServer
from tests.live.redis_server import RedisServer

HALF = "half load: 1 worker, Redis"


def cpu_list(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def ms_per_message(row: Row) -> float:
    """Server CPU milliseconds per delivered message (all processes of the server)."""
    return 10 * row.server_cpu / max(row.delivered, 1e-9)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--conversations", type=int, default=300)
    p.add_argument("--rates", default="600,1200,1800,2400,3000,3600,4200",
                   help="offered msgs/s steps of the saturation runs")
    p.add_argument("--step", type=float, default=8.0, help="seconds per saturation step")
    p.add_argument("--budget", type=float, default=150.0, help="seconds per saturation run")
    p.add_argument("--load", type=float, default=600.0,
                   help="offered msgs/s of the CPU-per-message runs (below 1 worker's saturation)")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per CPU run")
    p.add_argument("--workers", default="1,2,4", help="worker counts of the CPU runs")
    p.add_argument("--server-cpus", default="0", help="cores for the server processes ('' none)")
    p.add_argument("--generators", type=int, default=2)
    p.add_argument("--capacity", type=int, default=6)
    p.add_argument("--repeat", type=int, default=1,
                   help="CPU runs per worker count, interleaved; the median counts")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                   help="one SQLite file per server (the default), or a throwaway PostgreSQL "
                        "server (production's database) on the other cores, a database per server")
    p.add_argument("--half", action=argparse.BooleanOptionalAction, default=True,
                   help="also run 1 worker at half the load (what each of 2 workers carries): "
                        "a reference, reported")
    p.add_argument("--skip-saturation", action="store_true")
    p.add_argument("--py-spy", metavar="DIR",
                   help="sample the server (every worker) with py-spy during each measured step "
                        "(py-spy from PATH, $PY_SPY or /tmp/pyspy/bin/py-spy)")
    args = p.parse_args(argv)

    server_cpus = cpu_list(args.server_cpus) if args.server_cpus else []
    allowed = sorted(os.sched_getaffinity(0))
    others = [c for c in allowed if c not in server_cpus] or None
    counts = [int(x) for x in args.workers.split(",") if x.strip()]  # "": saturation only
    volunteers = [f"vol{i:04d}" for i in range(math.ceil(args.conversations / args.capacity))]
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {loadavg()}; server on "
          f"cores {server_cpus or 'any'}, Redis and {args.generators} generators on {others}; "
          f"{args.conversations} conversations, {args.database}", flush=True)
    base = {"CHATSERVER_REDACTOR": "false", "CHATSERVER_SQLITE_SYNCHRONOUS": "NORMAL",
            "CHATSERVER_MAX_QUEUE": str(args.conversations + 10),
            "CHATSERVER_MAX_CAPACITY": str(max(6, args.capacity)),
            "CHATSERVER_RATE_PER_SECOND": "10000", "CHATSERVER_RATE_BURST": "10000",
            "CHATSERVER_ADDRESS_RATE_PER_SECOND": "10000",
            "CHATSERVER_ADDRESS_RATE_BURST": "10000"}
    redis = RedisServer(Path(tempfile.mkdtemp(prefix="workersbench-redis-")))
    redis.start()
    postgres = PostgresServer() if args.database == "postgresql" else None
    if postgres is not None:
        postgres.start()
        if others and postgres.proc is not None:
            for pid in _tree(postgres.proc.pid):  # its backends, forked later, inherit it
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(pid, set(others))
    databases = itertools.count(1)
    if others and redis.proc is not None:
        os.sched_setaffinity(redis.proc.pid, set(others))
    on_redis = {"CHATSERVER_REDIS_URL": redis.url}
    pin = server_cpus[0] if len(server_cpus) == 1 else None
    rows: list[Row] = []
    gens = Generators(args.generators, others)

    def server(n: int, extra: dict[str, str]) -> object:
        redis.command("FLUSHALL")
        if postgres is not None:
            extra = {**extra, "CHATSERVER_DATABASE_URL":
                     postgres.create_database(f"bench{next(databases)}")}
        srv = start_chatserver(pin, {**base, **extra}, volunteers, "--workers", str(n),
                               within=120)
        if pin is None and server_cpus:
            for pid in _tree(srv.pid):
                os.sched_setaffinity(pid, set(server_cpus))
        setup_chatserver(gens, srv, args.conversations, args.capacity, volunteers)
        return srv

    try:
        if not args.skip_saturation:
            rates = [float(x) for x in args.rates.split(",")]
            for mode, extra in (("saturation: 1 process, no Redis", {}),
                                ("saturation: 1 worker, Redis", on_redis)):
                print(f"\n{mode}", flush=True)
                srv = server(1, extra)
                try:
                    saturate(gens, srv, mode, args.conversations, rates, args.step, rows,  # type: ignore[arg-type]
                             budget=args.budget, spy_dir=args.py_spy)
                    gens.all({"op": "close"}, 60)
                finally:
                    srv.stop()  # type: ignore[attr-defined]
        # interleaved: 1, 2, 4, 1 at half the load, 1, 2, 4, ... (0 stands for the last)
        # (no CPU runs at all with `--workers ''`: the half-load run is one of them)
        half = [0] if args.half and counts else []
        plan = [n for _ in range(args.repeat) for n in [*counts, *half]]
        for n in plan:
            load = args.load / 2 if n == 0 else args.load
            interval = 2 * args.conversations / load
            mode = HALF if n == 0 else f"cpu: {n} worker{'s' if n > 1 else ''}, Redis"
            print(f"\n{mode} at {load:.0f} msgs/s", flush=True)
            srv = server(max(n, 1), on_redis)
            try:
                redis.command("CONFIG", "RESETSTAT")
                row, _ = measure(gens, srv, mode, args.conversations, interval,  # type: ignore[arg-type]
                                 args.duration, spy_dir=args.py_spy)
                rows.append(row)
                row.extra["redis"] = redis_calls(redis, row.delivered * args.duration)
                print_table([row])
                print(f"  Redis calls per delivered message: {row.extra['redis']}")
                gens.all({"op": "close"}, 60)
            finally:
                srv.stop()  # type: ignore[attr-defined]
    finally:
        gens.quit()
        redis.stop()
        shutil.rmtree(redis.workdir, ignore_errors=True)
        if postgres is not None:
            postgres.stop()

    print("\nall runs:")
    print_table(rows)
    print("\nsummary:")
    print("| measure | value | target | met |\n|---|---|---|---|")
    bare = best(rows, "saturation: 1 process, no Redis")
    red = best(rows, "saturation: 1 worker, Redis")
    if not args.skip_saturation:
        def capped(mode: str) -> bool:
            """No step missed the target: the saturation is above the highest rate tried."""
            return all(r.ok for r in rows if r.mode == mode)

        def sat(r: Row | None) -> str:
            if r is None:
                return "none"
            at_least = "at least " if capped(r.mode) else ""
            return f"{at_least}{r.delivered:.0f} msgs/s (p99 {r.p99:.1f} ms)"

        print(f"| saturation (p99 <= {P99_TARGET_MS:.0f} ms), 1 process, no Redis | {sat(bare)} | | |")
        print(f"| saturation (p99 <= {P99_TARGET_MS:.0f} ms), 1 worker, Redis | {sat(red)} | | |")
        if bare and red:
            r1 = red.delivered / bare.delivered
            if capped(bare.mode):  # the real ratio is lower: not a measurement of the target
                print(f"| ratio 1: Redis / no Redis | at most {r1:.0%} (no Redis never saturated:"
                      f" raise --rates) | >= 70% | ? |")
            else:
                print(f"| ratio 1: Redis / no Redis | {r1:.0%} | >= 70% | "
                      f"{'yes' if r1 >= 0.70 else 'NO'} |")
    cpu: dict[int, Row] = {}
    for n in [*counts, 0]:
        runs = sorted((r for r in rows if (r.mode == HALF if n == 0
                                           else r.mode.startswith(f"cpu: {n} worker"))),
                      key=ms_per_message)
        if runs:
            cpu[n] = runs[(len(runs) - 1) // 2]  # the median (the lower one of an even count)
            each = ", ".join(f"{ms_per_message(r):.3f}" for r in runs)
            r = cpu[n]
            print(f"| CPU per delivered msg, {max(n, 1)} worker(s) at {r.offered:.0f} offered "
                  f"({r.delivered:.0f} delivered, p99 {r.p99:.1f} ms, {r.errors} errors)"
                  f"{f'; median of {each}' if len(runs) > 1 else ''} "
                  f"| {ms_per_message(r):.3f} ms | | |")
    if 1 in cpu:
        for n, label, target in ((2, "ratio 2", 1.25), (4, "ratio 3", None)):
            if n in cpu:
                ratio = ms_per_message(cpu[n]) / ms_per_message(cpu[1])
                met = "" if target is None else ("yes" if ratio <= target else "NO")
                print(f"| {label}: CPU/msg {n} workers / 1 worker | {ratio:.2f}x | "
                      f"{'<= 1.25x' if target else 'reported'} | {met} |")
    if 0 in cpu:
        print(f"| reference: CPU/msg 1 worker at half the load / at the load (what a lighter "
              f"load costs per message) | {ms_per_message(cpu[0]) / ms_per_message(cpu[1]):.2f}x"
              f" | reported | |")
        if 2 in cpu:
            print(f"| reference: CPU/msg 2 workers / 1 worker at half the load (each carries "
                  f"half) | {ms_per_message(cpu[2]) / ms_per_message(cpu[0]):.2f}x | reported | |")
    return 0


def redis_calls(redis: RedisServer, messages: float) -> str:
    """The commands the workers sent Redis during a run (INFO commandstats since RESETSTAT),
    per message delivered (approximate: the run's ramp and drain are counted too)."""
    text = b""
    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as s:
        s.sendall(b"INFO commandstats\r\n")
        s.settimeout(0.5)
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                text += chunk
    calls = {m.group(1).decode(): int(m.group(2))
             for m in re.finditer(rb"cmdstat_([a-z|]+):calls=(\d+)", text)
             if m.group(1) not in (b"info", b"config|resetstat")}
    return ", ".join(f"{k} {v / max(messages, 1):.2f}"
                     for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v >= messages / 100)


def _tree(pid: int) -> list[int]:
    from bench.harness.machine import tree

    return tree(pid)


if __name__ == "__main__":
    sys.exit(main())
