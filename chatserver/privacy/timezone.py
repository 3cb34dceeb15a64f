"""The helpline's local time (Europe/Amsterdam) for days and hours in research and statistics.

Days are counted as the helpline lives them, not in UTC; without a tz database, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

try:
    LOCAL_TZ: tzinfo = ZoneInfo("Europe/Amsterdam")
except Exception:  # noqa: BLE001 - no tz database installed
    LOCAL_TZ = UTC


def local(dt: datetime) -> datetime:
    return dt.astimezone(LOCAL_TZ)
