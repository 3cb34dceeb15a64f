"""Statistics for quality monitoring: contacts per day and hour, waiting time, who left the
queue, conversation length, topics and ages, per week — over live and research data alike.

`summarise` is pure (records in, numbers out); `statistics` gathers the records."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chatserver.errors import ChatError
from chatserver.privacy.timezone import LOCAL_TZ, local
from chatserver.store import ConversationSummary, ResearchConversation, Store, utc

DEFAULT_WEEKS = 12
MAX_DAYS = 2 * 366
UNKNOWN = "onbekend"


@dataclass(frozen=True)
class Contact:
    """One conversation as statistics see it (no text, no identity)."""

    day: date
    hour: int | None  # None for research records: their hours are counted apart
    waiting_seconds: int | None
    left_queue: bool
    ended: bool
    duration_seconds: int | None
    message_count: int
    age: int | None
    topic: str | None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    value = ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
    return round(value, 1)


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    return {"median": percentile(values, 0.5), "p90": percentile(values, 0.9),
            "count": len(values)}


def week_of(day: date) -> tuple[str, date]:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=day.weekday())


def _group(contacts: Sequence[Contact]) -> dict[str, Any]:
    ended = [c for c in contacts if c.ended]
    left = sum(1 for c in ended if c.left_queue)
    helped = [c for c in contacts if c.waiting_seconds is not None]
    return {
        "contacts": len(contacts),
        "helped": len(helped),
        "left_queue": left,
        "left_queue_share": round(left / len(ended), 3) if ended else None,
        "waiting_seconds": _spread([c.waiting_seconds for c in helped
                                    if c.waiting_seconds is not None]),
        "duration_seconds": _spread([c.duration_seconds for c in helped
                                     if c.duration_seconds is not None]),
        "messages": _spread([c.message_count for c in helped]),
        "topics": dict(Counter(c.topic or UNKNOWN for c in contacts).most_common()),
        "ages": _ages(contacts),
    }


def _ages(contacts: Iterable[Contact]) -> dict[str, int]:
    counts = Counter(c.age for c in contacts)
    known = sorted(a for a in counts if a is not None)
    out = {str(a): counts[a] for a in known}
    if counts.get(None):
        out[UNKNOWN] = counts[None]
    return out


def summarise(contacts: Sequence[Contact], research_hours: Iterable[tuple[date, int, int]],
              since: date, until: date) -> dict[str, Any]:
    """The numbers for [since, until): totals, per day, per hour of the day, per week."""
    days = Counter(c.day for c in contacts)
    hours = Counter(c.hour for c in contacts if c.hour is not None)
    for _day, hour, n in research_hours:
        hours[hour] += n
    weeks: dict[str, list[Contact]] = {}
    starts: dict[str, date] = {}
    d = since
    while d < until:
        label, start = week_of(d)
        weeks.setdefault(label, [])
        starts[label] = start
        d += timedelta(days=1)
    for c in contacts:
        weeks.setdefault(week_of(c.day)[0], []).append(c)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "timezone": str(LOCAL_TZ),
        "totals": _group(contacts),
        "days": [{"day": (since + timedelta(days=i)).isoformat(),
                  "contacts": days[since + timedelta(days=i)]}
                 for i in range((until - since).days)],
        "hours": [{"hour": h, "contacts": hours[h]} for h in range(24)],
        "weeks": [{"week": label, "start": starts[label].isoformat(), **_group(group)}
                  for label, group in sorted(weeks.items())],
    }


def window(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The local days asked for: by default the last twelve weeks up to today."""
    end = until or today + timedelta(days=1)
    start = since or end - timedelta(weeks=DEFAULT_WEEKS)
    if start >= end:
        raise ChatError("invalid_range", "Het begin moet voor het einde liggen.")
    if (end - start).days > MAX_DAYS:
        raise ChatError("range_too_long", "Vraag hoogstens twee jaar tegelijk op.")
    return start, end


def _seconds(a: datetime | None, b: datetime | None) -> int | None:
    return None if a is None or b is None else max(0, int((b - a).total_seconds()))


def live_contact(row: ConversationSummary) -> Contact:
    created = utc(row.created_at)
    assert created is not None
    paired, ended = utc(row.paired_at), utc(row.ended_at)
    when = local(created)
    return Contact(
        day=when.date(), hour=when.hour, waiting_seconds=_seconds(created, paired),
        left_queue=paired is None and row.status == "ended", ended=row.status == "ended",
        duration_seconds=_seconds(paired, ended), message_count=int(row.message_count),
        age=row.age if row.age is not None else row.chatter_age,
        topic=row.topic,  # the registered topic; the chatter's own is sealed free text
    )


def research_contact(row: ResearchConversation) -> Contact:
    return Contact(
        day=row.day, hour=None, waiting_seconds=row.waiting_seconds,
        left_queue=bool(row.left_queue), ended=True, duration_seconds=row.duration_seconds,
        message_count=int(row.message_count), age=row.age, topic=row.topic,
    )


async def statistics(store: Store, since: date, until: date) -> dict[str, Any]:
    start = datetime.combine(since, time(), LOCAL_TZ)
    end = datetime.combine(until, time(), LOCAL_TZ)
    contacts = [live_contact(r) for r in await store.conversations.statistics(start, end)]
    after = ""
    while True:
        rows = await store.research.conversations_between(since, until, after_id=after,
                                                          limit=5000)
        if not rows:
            break
        contacts.extend(research_contact(r) for r in rows)
        after = rows[-1].id
    hours = [(r.day, r.hour, r.contacts)
             for r in await store.research.contact_hours_between(since, until)]
    return summarise(contacts, hours, since, until)
