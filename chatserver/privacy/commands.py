"""`chatserver retention run | export research | audit report`: privacy operations on the
command line. Errors are one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, TextIO

from chatserver.clock import Clock, OffsetClock, iso
from chatserver.config import Settings
from chatserver.privacy import audit, research
from chatserver.privacy.retention import Redact, RedactorUnavailable, Retention, load_redactor
from chatserver.store import Store

log = logging.getLogger(__name__)

EXIT_REDACTOR = 3


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="apply the retention policy")
    rsub = retention.add_subparsers(dest="retention_command", required=True)
    run = rsub.add_parser("run", help="delete what is past its term (conversations move to "
                          "the research store, redacted; without a redactor, metadata only)")
    run.add_argument("--every", type=float, metavar="SECONDS",
                     help="keep running, once every SECONDS (a worker process)")
    run.add_argument("--addresses-only", action="store_true",
                     help="only drop old address hashes and sanctions that are over")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.set_defaults(run=lambda settings, args: retention_command(settings, args))

    export = sub.add_parser("export", help="export data")
    esub = export.add_subparsers(dest="export_command", required=True)
    res = esub.add_parser("research", help="the anonymised research data")
    res.add_argument("--since", help="first day, YYYY-MM-DD")
    res.add_argument("--until", help="day after the last, YYYY-MM-DD")
    res.add_argument("--format", choices=research.FORMATS, default="jsonl")
    res.add_argument("--output", "-o", help="file to write (default: standard output)")
    res.set_defaults(run=lambda settings, args: _run(export_command(settings, args)))

    aud = sub.add_parser("audit", help="the audit log")
    asub = aud.add_subparsers(dest="audit_command", required=True)
    rep = asub.add_parser("report", help="what a staff account or a time window touched")
    rep.add_argument("--since", required=True, help="start, YYYY-MM-DD or ISO timestamp")
    rep.add_argument("--until", help="end (exclusive), YYYY-MM-DD or ISO timestamp")
    rep.add_argument("--actor", help="a staff username")
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    rep.set_defaults(run=lambda settings, args: _run(audit_command(settings, args)))


def _run(coro: Any) -> int:
    code: int = asyncio.run(coro)
    return code


def _fail(message: str, code: int = 2) -> int:
    print(f"chatserver: {message}", file=sys.stderr)
    return code


def clock_of(settings: Settings) -> Clock:
    return OffsetClock(settings.test_clock_file) if settings.test_clock_file else Clock()


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Store]:
    store = Store.from_settings(settings)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def parse_moment(raw: str | None, name: str) -> datetime | None:
    """`YYYY-MM-DD` (midnight UTC) or an ISO timestamp; ValueError with a clear message."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), dtime(), UTC)
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{name} must be YYYY-MM-DD or an ISO timestamp, not {raw!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- retention ----------------------------------------------------------------------------------


def retention_command(settings: Settings, args: argparse.Namespace,
                      redactor: Callable[[], Redact] = load_redactor,
                      out: TextIO | None = None) -> int:
    """One run, or (`--every`) a run every so many seconds until interrupted."""
    out = out or sys.stdout
    redact: Redact | None = None
    if not args.addresses_only:
        try:
            redact = redactor()
        except RedactorUnavailable as exc:
            # Deleting never waits for the redactor: the research copies keep metadata only,
            # and the exit code still tells the operator.
            print(f"chatserver: {exc}; expired conversations are deleted all the same, their "
                  "research copies keep metadata only", file=sys.stderr)
    every = getattr(args, "every", None)
    if every is not None and every <= 0:
        return _fail("--every must be a positive number of seconds")
    while True:
        try:
            code = asyncio.run(_retention_once(settings, args, redact, out))
        except KeyboardInterrupt:
            return 130
        if every is None:
            return code
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return 0


async def _retention_once(settings: Settings, args: argparse.Namespace, redact: Redact | None,
                          out: TextIO) -> int:
    async with opened(settings) as store:
        retention = Retention(settings, store, clock_of(settings), redact)
        report = await retention.run(addresses_only=args.addresses_only)
        waiting = await retention.expired_waiting()
    if args.json:
        print(json.dumps({**report.__dict__, "expired_conversations_waiting": waiting},
                         ensure_ascii=False), file=out)
    else:
        print(report.summary(), file=out)
        print(f"retention: expired_conversations_waiting={waiting}", file=out)
    out.flush()
    return EXIT_REDACTOR if report.redactor == "unavailable" else 0


# -- research export ----------------------------------------------------------------------------


async def export_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since = research.parse_day(args.since, "--since")
        until = research.parse_day(args.until, "--until")
    except ValueError as exc:
        return _fail(str(exc))
    async with opened(settings) as store:
        target: TextIO
        with contextlib.ExitStack() as stack:
            if args.output:
                # A local file written chunk by chunk; nothing else runs on this loop.
                target = stack.enter_context(Path(args.output).open(  # noqa: ASYNC230
                    "w", encoding="utf-8", newline=""))
            else:
                target = sys.stdout
            async for chunk in research.export(store, since, until, args.format):
                target.write(chunk)
        await store.audit.record(clock_of(settings).now(), "research_export", actor_id=None,
                                 actor="cli", detail={"since": args.since, "until": args.until,
                                                      "format": args.format})
    return 0


# -- audit report -------------------------------------------------------------------------------


async def audit_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since = parse_moment(args.since, "--since")
        until = parse_moment(args.until, "--until")
    except ValueError as exc:
        return _fail(str(exc))
    assert since is not None
    if until is not None and until <= since:
        return _fail("--until must be after --since")
    async with opened(settings) as store:
        report = await audit.breach_report(store, since, until, args.actor)
        await store.audit.record(clock_of(settings).now(), "audit_report", actor_id=None, actor="cli",
                                 detail={"since": iso(since), "until": iso(until) if until else None,
                                         "actor": args.actor})
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(audit.format_report(report))
    return 0
