"""Scale-out benchmark: the same chat load against `chatserver serve --workers N` on Redis.

    .venv/bin/python -m bench.workers_bench --workers 1,2,4 --conversations 300 --interval 0.5

Uses bench/harness/'s load generators (raw Engine.IO clients in their own processes) and
measurement; starts one throwaway redis-server (no persistence, tests/live/redis_server.py) and,
per N, one `chatserver serve --workers N` on one SQLite file. Nothing is pinned: the workers, Redis and
the generators share the machine's cores, as they would on one production host."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
from pathlib import Path

from bench.harness.generator import Generators
from bench.harness.machine import loadavg
from bench.harness.measure import Row, measure
from bench.harness.report import print_table
from bench.harness.servers import setup_chatserver, start_chatserver
from tests.live.redis_server import RedisServer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workers", default="1,2,4")
    p.add_argument("--conversations", type=int, default=300)
    p.add_argument("--interval", type=float, default=0.5, help="seconds between messages per side")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--capacity", type=int, default=6)
    p.add_argument("--generators", type=int, default=2)
    p.add_argument("--no-redis-baseline", action="store_true",
                   help="skip the one-process run without Redis")
    args = p.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",")]
    volunteers = [f"vol{i:04d}" for i in range(math.ceil(args.conversations / args.capacity))]
    offered = 2 * args.conversations / args.interval
    print(f"machine: {os.cpu_count()} CPUs, load average {loadavg()}; {args.conversations} "
          f"conversations, {offered:.0f} msgs/s offered", flush=True)
    base = {"CHATSERVER_REDACTOR": "false", "CHATSERVER_SQLITE_SYNCHRONOUS": "NORMAL",
            "CHATSERVER_MAX_QUEUE": str(args.conversations + 10),
            "CHATSERVER_RATE_PER_SECOND": "10000", "CHATSERVER_RATE_BURST": "10000",
            "CHATSERVER_ADDRESS_RATE_PER_SECOND": "10000",
            "CHATSERVER_ADDRESS_RATE_BURST": "10000"}
    runs: list[tuple[str, int, dict[str, str]]] = []
    if not args.no_redis_baseline:
        runs.append(("1 process, memory", 1, {}))
    redis = RedisServer(Path(tempfile.mkdtemp(prefix="workersbench-redis-")))
    redis.start()
    runs += [(f"{n} worker(s), Redis", n, {"CHATSERVER_REDIS_URL": redis.url}) for n in counts]
    rows: list[Row] = []
    gens = Generators(args.generators, None)
    try:
        for name, n, extra in runs:
            redis.command("FLUSHALL")
            srv = start_chatserver(None, {**base, **extra}, volunteers, "--workers", str(n),
                                   within=120)
            try:
                setup_chatserver(gens, srv, args.conversations, args.capacity, volunteers)
                row, _ = measure(gens, srv, name, args.conversations, args.interval,
                                 args.duration)
                rows.append(row)
                print_table([row])
                gens.all({"op": "close"}, 60)
            finally:
                srv.stop()
    finally:
        gens.quit()
        redis.stop()
        shutil.rmtree(redis.workdir, ignore_errors=True)
    print("\nall runs:")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
