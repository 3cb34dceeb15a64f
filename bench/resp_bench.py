"""What one event crossing workers costs the two workers in CPU: through redis-py (a
pipeline per publish, PubSub.parse_response per received event, as delivery.py did) and
through chatserver.live.resp (RESP written and read directly, as it does now).

    .venv/bin/python -m bench.resp_bench [--events 3000] [--repeat 3] [--cpu 0]

Against a throwaway redis-server (on the other cores). Each round trip: one event published
(and its reply read), then received on the subscribing connection, one at a time, as events
cross workers when the load is light. CPU is this process's (time.process_time); the two
ways alternate, the median of `--repeat` runs counts, and the ratio is taken in the run."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from bench.harness.machine import cpu_model, loadavg
from chatserver.live.resp import RespConnection, command
from tests.live.redis_server import RedisServer

CHANNEL = "bench:room"
PAYLOAD = b"0123456789ab|" + b'{"m":"emit","e":"message","a":[{"text":"' + b"x" * 200 + b'"}]}'


async def through_redis_py(url: str, events: int) -> float:
    pub = aioredis.Redis.from_url(url)
    sub = aioredis.Redis.from_url(url).pubsub()
    await sub.execute_command("SSUBSCRIBE", CHANNEL)
    await sub.parse_response(block=True)
    t0 = time.process_time()
    for _ in range(events):
        pipe = pub.pipeline(transaction=False)
        pipe.execute_command("SPUBLISH", CHANNEL, PAYLOAD)
        await pipe.execute()
        message = await sub.parse_response(block=True)
        assert message[2] == PAYLOAD
    spent = time.process_time() - t0
    await sub.aclose()  # type: ignore[no-untyped-call]
    await pub.aclose()
    return spent


async def through_resp(url: str, events: int) -> float:
    pool = aioredis.ConnectionPool.from_url(url)
    pub, sub = await RespConnection.open(pool), await RespConnection.open(pool)
    sub.write(command("SSUBSCRIBE", CHANNEL))
    await sub.read()
    t0 = time.process_time()
    for _ in range(events):
        pub.write(command("SPUBLISH", CHANNEL, PAYLOAD))
        await pub.read()
        (message,) = await sub.read()
        assert message[2] == PAYLOAD
    spent = time.process_time() - t0
    await pub.close()
    await sub.close()
    await pool.disconnect()
    return spent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=3000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cpu", type=int, default=0, help="the core this process runs on")
    args = p.parse_args(argv)
    others = sorted(set(os.sched_getaffinity(0)) - {args.cpu})
    redis = RedisServer(Path(tempfile.mkdtemp(prefix="respbench-redis-")))
    redis.start()
    if others and redis.proc is not None:
        os.sched_setaffinity(redis.proc.pid, set(others))
    os.sched_setaffinity(0, {args.cpu})
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {loadavg()}; "
          f"this process on core {args.cpu}, Redis on {others or 'the same'}; "
          f"{args.events} events of {len(PAYLOAD)} bytes per run")
    runs: dict[str, list[float]] = {"redis-py": [], "resp": []}
    try:
        for _ in range(args.repeat):
            for name, way in (("redis-py", through_redis_py), ("resp", through_resp)):
                runs[name].append(1e6 * asyncio.run(way(redis.url, args.events)) / args.events)
    finally:
        redis.stop()
        shutil.rmtree(redis.workdir, ignore_errors=True)
    print("\n| way | CPU µs per event crossing (publish + reply + receive) | runs |")
    print("|---|---|---|")
    for name, values in runs.items():
        print(f"| {name} | {statistics.median(values):.0f} | "
              f"{', '.join(f'{v:.0f}' for v in values)} |")
    ratio = statistics.median(runs["resp"]) / statistics.median(runs["redis-py"])
    print(f"\nresp / redis-py: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
