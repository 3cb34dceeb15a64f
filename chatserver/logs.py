"""Logging that never writes an address, an engine.io sid, a token, a cookie or message text.

One filter (`PrivacyFilter`) on the one handler that every logger reaches: it masks addresses
and secrets in the formatted message, and keeps of a traceback only where it happened (files,
lines, functions) and the exception's type, never the exception's message, which can quote a
chatter's text or a database row. uvicorn logs `IP:port - "WebSocket /socket.io/?…sid=…"` on
every handshake even without an access log: those lines are dropped."""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# IPv6 in any spelling (compressed, with an embedded IPv4, with a zone) is found by parsing the
# runs of hex digits, colons and dots that hold two colons or more.
_RUN = re.compile(r"[0-9A-Fa-f:.]+(?:%[\w.-]+)?")
_LONGEST_IPV6 = 64  # 45 characters and a zone; a longer run is masked whole
_SECRETS = re.compile(r"(?i)\b(sid|token|session|cookie|resume_token|EIO)=[^&\s\"']*")
# Engine.IO and Socket.IO name a connection by its sid (20 url-safe characters), which lets its
# holder post on the polling transport.
_SID = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{20}(?![\w-])")
_DROP = ('"WebSocket ', "connection open", "connection closed", "connection rejected")
# Loggers whose lines after the first can quote a payload or an exception's repr.
_FIRST_LINE_ONLY = ("engineio", "socketio", "asyncio")
HIDDEN = "[message hidden]"


def _ipv6(match: re.Match[str]) -> str:
    run = match.group(0)
    if run.count(":") < 2:
        return run
    if len(run) > _LONGEST_IPV6:
        return "[address]"
    # Text around an address may have joined its run ("ad:2001:db8::1", "2001:db8::1:"): the
    # run, then what starts at or after each of its colons, each also without a trailing colon.
    starts = [0, *(i for i, c in enumerate(run) if c == ":"),
              *(i + 1 for i, c in enumerate(run) if c == ":")]
    for start in sorted(set(starts)):
        for text in (run[start:], run[start:].rstrip(":.")):
            try:
                ipaddress.IPv6Address(text)
            except ValueError:
                continue
            return run[:start] + "[address]" + run[start + len(text):]
    return run


def scrub(text: str) -> str:
    """`text` with every IPv4 and IPv6 address and every `sid=`/`token=`… value masked."""
    text = _RUN.sub(_ipv6, text)
    text = _IPV4.sub("[address]", text)
    return _SECRETS.sub(lambda m: m.group(1) + "=[hidden]", text)


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it came from, each exception's message
    replaced by `[message hidden]`: frames and types tell where it went wrong, messages can
    quote data (SQL parameters, a payload, a remote traceback of the redaction worker)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__)
    parts = []
    for e in reversed(chain):
        kind = type(e)
        name = kind.__qualname__ if kind.__module__ == "builtins" else (
            f"{kind.__module__}.{kind.__qualname__}")
        frames = "".join(traceback.format_tb(e.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{name}: {HIDDEN}")
    return scrub("\n\nwhich led to:\n\n".join(parts))


class PrivacyFilter(logging.Filter):
    """Drops handshake lines; masks addresses, sids and tokens in the message; tracebacks
    without exception messages. Rewrites the record, so every handler after it sees that."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is dropped, not raised
            return False
        if any(marker in message for marker in _DROP):
            return False
        if record.name.startswith(_FIRST_LINE_ONLY):
            message = message.splitlines()[0] if message else message
        if record.name.startswith(("engineio", "socketio")):
            message = _SID.sub("[sid]", message)
        record.msg = scrub(message)
        record.args = None
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            record.exc_text = redacted_traceback(exc)
        elif record.exc_text:
            # Formatted by someone else: only where it happened can be kept apart from data.
            record.exc_text = _frames_only(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _frames_only(text: str) -> str:
    """The lines of a formatted traceback that say where (`File …` and the source line)."""
    lines = text.splitlines()
    kept = [line for i, line in enumerate(lines)
            if line.startswith(("Traceback", "  File "))
            or (i > 0 and lines[i - 1].startswith("  File ") and line.startswith("    "))]
    return scrub("\n".join([*kept, HIDDEN]))


def adopt_library_handlers() -> None:
    """Take away the handlers that libraries attach to their own loggers (python-socketio and
    python-engineio when given `False`, spaCy, Presidio's decision log): their records would
    bypass the filter. The records go to the root handler, through the filter, instead."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        for handler in list(logger.handlers):
            if not isinstance(handler, logging.NullHandler):
                logger.removeHandler(handler)
                logger.propagate = True


def configure(level: str | int = "INFO") -> dict[str, Any]:
    """Install the logging configuration; returns it for uvicorn's `log_config`."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"privacy": {"()": PrivacyFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["privacy"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            "websockets": {"handlers": [], "propagate": True, "level": "WARNING"},
            "socketio": {"handlers": [], "propagate": True, "level": "WARNING"},
            "engineio": {"handlers": [], "propagate": True, "level": "WARNING"},
            "sqlalchemy": {"handlers": [], "propagate": True, "level": "WARNING"},
            "presidio-analyzer": {"handlers": [], "propagate": True, "level": "WARNING"},
            "presidio-anonymizer": {"handlers": [], "propagate": True, "level": "WARNING"},
            # Presidio's trace of every decision quotes the text analysed.
            "decision_process": {"handlers": [], "propagate": True, "level": "CRITICAL"},
        },
    }
    logging.config.dictConfig(config)
    everything_through_the_filter()
    return config


def everything_through_the_filter() -> None:
    """After the configuration is installed (by `configure`, or by uvicorn in a worker)."""
    # Warnings (a library's deprecation, SQLAlchemy's) and uncaught exceptions (of the main
    # thread, of the SQLite writer's) are printed to stderr directly otherwise.
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    adopt_library_handlers()


def _uncaught(kind: type[BaseException], exc: BaseException,
              tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("chatserver.uncaught").critical(
        "uncaught %s", kind.__name__, exc_info=(kind, exc, tb))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if issubclass(args.exc_type, SystemExit) or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("chatserver.uncaught").critical(
        "uncaught %s in thread %s", args.exc_type.__name__, name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
