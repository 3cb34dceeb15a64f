"""How long each kind of data is kept: every term in one place, read from the settings.

Retention enforces them (retention.py); docs/privacy.md lists them with what happens at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from chatserver.privacy.timezone import LOCAL_TZ, local

if TYPE_CHECKING:
    from chatserver.config import Settings

# A block lasts three months at most (the privacy statement's promise); configurable down only.
BLOCK_MAX_DAYS = 90
# Backups are not touched by erasure or retention: they are destroyed after BACKUP_DAYS, and the
# master key that opens the conversation keys inside them after BACKUP_KEY_DAYS (the operator's
# duty, docs/operations.md "Backup term"); the erasure answer names both.
BACKUP_DAYS = 30
BACKUP_KEY_DAYS = 60
# The terms' defaults, in days.
RESEARCH_TERM_DAYS = 5 * 365
REQUEST_REGISTER_DAYS = 365
AUDIT_LOG_DAYS = 2 * 365


@dataclass(frozen=True)
class Terms:
    """The terms, in days: conversations (from their start), address hashes (from when they
    were seen), research records (from their day), closed requests (from closing), audit
    entries (from when they were written), and the longest block."""

    conversations: int
    addresses: int
    research: int
    request_register: int
    audit_log: int
    block_max: int

    @classmethod
    def of(cls, settings: Settings) -> Terms:
        return cls(settings.retention_days, settings.address_retention_days,
                   settings.research_term_days, settings.request_register_days,
                   settings.audit_log_days, settings.block_default_days)

    def conversation_cutoff(self, now: datetime) -> datetime:
        """Conversations started before this go. Whole local days go together (so that their
        research copies are written in one batch, in random order): the day that reaches the
        term goes at its first moment, so no conversation is kept longer than the term."""
        reached = local(now - timedelta(days=self.conversations)).date()
        return day_start(reached + timedelta(days=1))

    def address_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.addresses)

    def research_cutoff(self, now: datetime) -> date:
        """Research records of days before this go."""
        return local(now).date() - timedelta(days=self.research)

    def request_register_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.request_register)

    def audit_log_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.audit_log)


# The defaults, for code that has no settings at hand.
DEFAULT_TERMS = Terms(90, 183, RESEARCH_TERM_DAYS, REQUEST_REGISTER_DAYS, AUDIT_LOG_DAYS,
                      BLOCK_MAX_DAYS)


def day_start(day: date) -> datetime:
    """The first moment of a local day, in UTC (as the database compares times)."""
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC)
