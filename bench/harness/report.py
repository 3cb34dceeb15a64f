"""The benchmarks' tables, in Markdown, one row per measured window."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.harness.measure import Row


def print_table(rows: list[Row], file: Any = None) -> None:
    file = file or sys.stdout
    head = ("mode", "conv", "offered/s", "delivered/s", "p50 ms", "p99 ms", "max ms", "errors",
            "srv CPU%", "CPU ms/msg", "wake/msg", "srv wait%", "srv RSS MB", "gen CPU%", "gen wait%", "gen lag p99",
            "load1")
    lines = [head]
    for r in rows:
        lines.append((r.mode, str(r.conversations), f"{r.offered:.0f}", f"{r.delivered:.0f}",
                      f"{r.p50:.1f}", f"{r.p99:.1f}", f"{r.max:.0f}", str(r.errors),
                      f"{r.server_cpu:.0f}", f"{10 * r.server_cpu / max(r.delivered, 1):.2f}",
                      f"{sum(r.wakeups.values()):.2f}",
                      f"{r.server_wait:.0f}", f"{r.server_rss:.0f}",
                      f"{r.gen_cpu:.0f}", f"{r.gen_wait:.0f}", f"{r.gen_lag_p99:.1f}", r.load))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(line, widths))) + " |", file=file)
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=file)
    for r in rows:
        if r.wakeups and os.environ.get("BENCH_WAKEUPS"):
            busiest = sorted(r.wakeups.items(), key=lambda kv: -kv[1])[:6]
            print(f"  {r.mode} @ {r.offered:.0f}/s wake-ups per msg by thread: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in busiest), file=file)
    for r in rows:
        if r.error_kinds:
            print(f"  {r.mode} @ {r.offered:.0f}/s errors: {r.error_kinds}", file=file)
    file.flush()
