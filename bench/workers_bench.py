"""Scale-out benchmark: the same chat load against `chatserver serve --workers N` on Redis.

    .venv/bin/python -m bench.workers_bench --workers 1,2,4 --conversations 300 --interval 0.5

Uses bench/chat_bench.py's load generators (raw Engine.IO clients in their own processes) and
measurement; starts one throwaway redis-server (no persistence) and, per N, one
`chatserver serve --workers N` on one SQLite file. Nothing is pinned: the workers, Redis and
the generators share the machine's cores, as they would on one production host."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.chat_bench import (
    REPO,
    Generators,
    Row,
    Server,
    create_volunteers,
    free_port,
    loadavg,
    measure,
    print_table,
    server_env,
    setup_chatserver,
)


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"redis://127.0.0.1:{port}/0"


def start_workers(n: int, env_extra: dict[str, str], volunteers: list[str]) -> Server:
    data_dir = tempfile.mkdtemp(prefix="workersbench-")
    env = server_env({"CHATSERVER_DATA_DIR": data_dir, "CHATSERVER_LOG_LEVEL": "warning",
                      "CHATSERVER_TRUSTED_PROXIES": "127.0.0.1", **env_extra})
    create_volunteers(env, volunteers)
    port = free_port()
    exe = Path(sys.executable).parent / "chatserver"
    log = open(Path(data_dir) / "server.log", "w+b")  # noqa: SIM115 - closed by Server.stop
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", str(n)],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(f"{n} worker(s)", proc, port, data_dir, log)
    srv.wait_healthy(120)
    return srv


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
    redis_proc, redis_url = start_redis()
    runs += [(f"{n} worker(s), Redis", n, {"CHATSERVER_REDIS_URL": redis_url}) for n in counts]
    rows: list[Row] = []
    gens = Generators(args.generators, None)
    try:
        for name, n, extra in runs:
            subprocess.run(["redis-cli", "-u", redis_url, "FLUSHALL"], capture_output=True,
                           check=False)
            srv = start_workers(n, {**base, **extra}, volunteers)
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
        redis_proc.kill()
    print("\nall runs:")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
