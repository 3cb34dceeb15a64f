"""The clock the server reads time from.

Passed in everywhere so that tests can move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_ZERO = timedelta(0)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as the protocol writes timestamps."""
    if dt.utcoffset() != _ZERO:
        dt = dt.astimezone(UTC)
    return dt.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


class Clock:
    """Wall-clock time in UTC, and a monotonic clock for intervals."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock(Clock):
    """A clock that only moves when told to (for tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, **kwargs: float) -> None:
        delta = timedelta(**kwargs)
        self._now += delta
        self._mono += delta.total_seconds()


class OffsetClock(Clock):
    """The system clock shifted by an offset read from a file (tests of a server subprocess).

    Only used when CHATSERVER_TEST_CLOCK_FILE is set; the file holds seconds to add."""

    def __init__(self, path: str) -> None:
        self._path = path

    def _offset(self) -> float:
        try:
            with open(self._path, encoding="ascii") as f:
                return float(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset())

    def monotonic(self) -> float:
        return time.monotonic() + self._offset()
