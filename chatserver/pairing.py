"""The pairing policy: which available volunteer takes the longest-waiting chatter.

Pure logic, no I/O: the live-state backends call it under their own atomicity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class VolunteerLoad:
    volunteer_id: str
    capacity: int
    active: int
    idle_since: float  # monotonic seconds; smaller means idle longer


def choose_volunteer(volunteers: Iterable[VolunteerLoad]) -> str | None:
    """Among volunteers below capacity: the fewest active conversations, then idle longest."""
    free = [v for v in volunteers if v.active < v.capacity]
    if not free:
        return None
    best = min(free, key=lambda v: (v.active, v.idle_since, v.volunteer_id))
    return best.volunteer_id
