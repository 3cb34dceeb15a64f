"""Retention: conversations older than the retention period become anonymised research data;
hashed addresses older than the address period are dropped.

`plan_research_record` is the pure decision of what survives; `Retention.run` does the I/O.
Deleting never waits for the redactor: without one, the research copy keeps metadata only."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chatserver.clock import Clock, iso
from chatserver.config import Settings
from chatserver.privacy.terms import Terms
from chatserver.privacy.timezone import local
from chatserver.store import ConversationRecord, MessageRow, Store, new_id, utc
from chatserver.store.sealing import SealError

log = logging.getLogger(__name__)

Redact = Callable[[str], Awaitable[str]]
# Retention that has not removed an expired conversation for this long breaks its promise.
OVERDUE = timedelta(days=1)


class RedactorUnavailable(Exception):
    """The redaction library cannot be loaded or failed: retention writes no text then (the
    research copy keeps metadata only), but deletes all the same."""


class SyncRedactor(Protocol):
    def redact(self, text: str) -> str: ...


# -- pure decisions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    conversations: datetime
    addresses: datetime


def cutoffs(now: datetime, terms: Terms) -> Cutoffs:
    """Conversations started before `conversations` (whole local days) and addresses seen
    before `addresses` go."""
    return Cutoffs(terms.conversation_cutoff(now), terms.address_cutoff(now))


@dataclass(frozen=True)
class ResearchRecord:
    """What is kept of a conversation: no address, reference, staff or time finer than a day,
    durations in whole minutes."""

    day: date
    hour: int  # kept only as an anonymous count per day and hour, not on the record
    age: int | None
    topic: str | None
    waiting_seconds: int | None
    duration_seconds: int | None
    message_count: int
    left_queue: bool
    end_reason: str | None

    def row(self, research_id: str) -> dict[str, Any]:
        values = asdict(self)
        values.pop("hour")
        return {"id": research_id, **values}


# With the day, a time-out or block as the end would match the sanction kept by address hash.
RESEARCH_END_REASONS = {"timeout": "volunteer", "blocked": "volunteer"}


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    """Whole minutes, in seconds: exact seconds would match times kept elsewhere."""
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60)) * 60


def plan_research_record(conv: ConversationRecord, message_count: int) -> ResearchRecord:
    """The research record of a conversation row (the volunteer's registration before the
    chatter's own answer for age). The topic is the registered one, from the helpline's fixed
    list: the chatter's own topic is free text they typed, which may identify them."""
    created = utc(conv.created_at)
    assert created is not None
    paired, ended = utc(conv.paired_at), utc(conv.ended_at)
    started_local = local(created)
    return ResearchRecord(
        day=started_local.date(),
        hour=started_local.hour,
        age=conv.age if conv.age is not None else conv.chatter_age,
        topic=conv.topic,
        waiting_seconds=_seconds(created, paired),
        duration_seconds=_seconds(paired, ended),
        message_count=message_count,
        left_queue=paired is None and conv.status == "ended",
        end_reason=RESEARCH_END_REASONS.get(conv.end_reason or "", conv.end_reason),
    )


# -- redactors ----------------------------------------------------------------------------------


def from_redactor(redactor: SyncRedactor) -> Redact:
    """An async redact over a synchronous `Redactor`, run off the event loop."""

    async def redact(text: str) -> str:
        try:
            return await asyncio.to_thread(redactor.redact, text)
        except Exception as exc:
            raise RedactorUnavailable(f"redaction failed: {type(exc).__name__}") from exc

    return redact


def load_redactor() -> Redact:
    """The real `redaction.Redactor` in its research profile, or RedactorUnavailable."""
    try:
        from redaction import Redactor
    except Exception as exc:
        raise RedactorUnavailable(
            f"the redaction library cannot be imported ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        redactor = Redactor(profile="research")
    except Exception as exc:
        raise RedactorUnavailable(
            f"the redaction pipeline failed to load ({type(exc).__name__}: {exc})"
        ) from exc
    return from_redactor(redactor)


class _Worker(Protocol):
    async def redact_research(self, text: str) -> str: ...


def from_worker(worker: _Worker) -> Redact:
    """Research copies through the server's RedactionWorker, in the research profile."""

    async def redact(text: str) -> str:
        try:
            redacted = await worker.redact_research(text)
        except Exception as exc:
            raise RedactorUnavailable(f"redactor unavailable ({type(exc).__name__})") from exc
        return redacted

    return redact


# -- the sweeper --------------------------------------------------------------------------------


@dataclass
class RetentionReport:
    started_at: str
    conversation_cutoff: str
    address_cutoff: str
    conversations_moved: int = 0
    messages_redacted: int = 0
    # Moved with metadata only: the redactor was unavailable (or the text no longer opened).
    conversations_without_text: int = 0
    redactor: str = "ok"
    contacts_dropped: int = 0
    sanctions_deleted: int = 0
    conversation_addresses_dropped: int = 0
    research_conversations_dropped: int = 0
    research_texts_sealed: int = 0
    requests_dropped: int = 0
    audit_entries_purged: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"retention: {self.conversations_moved} conversations ({self.messages_redacted} "
            f"messages) moved to the research store, started before {self.conversation_cutoff}; "
            f"{self.contacts_dropped} contact rows and {self.conversation_addresses_dropped} "
            f"conversation address hashes dropped, older than {self.address_cutoff}; "
            f"{self.sanctions_deleted} sanctions that were over deleted; "
            f"{self.research_conversations_dropped} research conversations, "
            f"{self.requests_dropped} closed requests and {self.audit_entries_purged} audit "
            f"entries past their term deleted; {self.seconds:.2f} s"
            + (f"; redactor {self.redactor}: {self.conversations_without_text} conversations "
               "kept as metadata only, without text" if self.conversations_without_text else "")
        )


class Retention:
    """Runs the retention policy once over the database; safe to interrupt and to repeat.

    Each conversation moves in its own transaction, so an interrupted run leaves every
    conversation either untouched or fully anonymised, and the next run carries on."""

    def __init__(self, settings: Settings, store: Store, clock: Clock,
                 redact: Redact | None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.terms = Terms.of(settings)
        self.store = store
        self.clock = clock
        self.redact = redact
        self.rng = rng or random.SystemRandom()

    async def run(self, *, addresses_only: bool = False) -> RetentionReport:
        began = time.perf_counter()
        now = self.clock.now()
        cut = cutoffs(now, self.terms)
        report = RetentionReport(iso(now), iso(cut.conversations), iso(cut.addresses))
        if addresses_only:
            report.redactor = "not used"
        elif self.redact is None:
            report.redactor = "unavailable"
        if not addresses_only:
            await self._move_conversations(cut.conversations, report)
        dropped = await self.store.conversations.drop_old_addresses(cut.addresses)
        report.contacts_dropped = dropped["contacts"]
        report.conversation_addresses_dropped = dropped["conversations"]
        report.sanctions_deleted = await self.store.sanctions.drop_ended(cut.addresses, now)
        if not addresses_only:
            await self._other_terms(now, report)
        await self.store.db.checkpoint()
        report.seconds = round(time.perf_counter() - began, 3)
        await self.store.audit.record(now, "retention_run", actor_id=None, actor="retention", detail={
            k: v for k, v in asdict(report).items() if k not in ("skipped", "started_at")
        })
        log.info("retention run: %d conversations moved (%d without text, redactor %s), "
                 "%d contacts dropped", report.conversations_moved,
                 report.conversations_without_text, report.redactor, report.contacts_dropped)
        return report

    async def _other_terms(self, now: datetime, report: RetentionReport) -> None:
        """The research store, the request register and the audit log, each past its term."""
        report.research_texts_sealed = await self.store.research.seal_plain()
        dropped = await self.store.research.drop_before(self.terms.research_cutoff(now))
        report.research_conversations_dropped = dropped.conversations
        report.requests_dropped = await self.store.subject_requests.drop_closed_before(
            self.terms.request_register_cutoff(now))
        report.audit_entries_purged = await self.store.audit.purge_before(
            self.terms.audit_log_cutoff(now), now, actor="retention")

    async def expired_waiting(self) -> int:
        """How many conversations are past the retention period and still here (0 after a
        complete run): the number an operator alerts on."""
        cutoff = self.terms.conversation_cutoff(self.clock.now())
        return await self.store.conversations.count_created_before(cutoff)

    async def overdue(self) -> bool:
        """Whether a conversation is still here more than a day after its retention period
        ended: the server is not keeping its promise (for /healthz)."""
        cutoff = self.terms.conversation_cutoff(self.clock.now())
        return await self.store.conversations.count_created_before(
            cutoff - OVERDUE, limit=1) > 0

    async def _move_conversations(self, cutoff: datetime, report: RetentionReport) -> None:
        """Day by day, each day's conversations in random order: the research rows of a day
        are written together, in an order that says nothing about the time of day."""
        days: dict[date, list[str]] = {}
        for cid, created in await self.store.conversations.started_before(cutoff):
            days.setdefault(local(created).date(), []).append(cid)
        for day in sorted(days):
            batch = days[day]
            self.rng.shuffle(batch)
            for cid in batch:
                conv = await self.store.conversations.get(cid)
                moved = await self._move(conv, report) if conv is not None else None
                if moved is None:
                    report.skipped.append(cid)
                    continue
                report.conversations_moved += 1
                report.messages_redacted += moved

    async def _move(self, conv: ConversationRecord, report: RetentionReport) -> int | None:
        """Move one conversation; the number of texts the research copy keeps, or None when it
        was gone already (another sweeper, an erasure)."""
        try:
            messages: Sequence[MessageRow] = await self.store.messages.of_conversation(conv.id)
        except SealError:
            # The messages were read, then their key went before it was read: another sweeper
            # (or an erasure) removed the conversation in between. Not ours to move.
            if await self.store.conversations.get(conv.id) is None:
                return None
            log.warning("retention: a conversation's text no longer opens; moved without text")
            messages, count = [], await self.store.messages.count(conv.id)
        else:
            count = len(messages)
        texts = await self._research_texts(messages, report)
        record = plan_research_record(conv, count)
        if not await self.store.research.move_in(conv.id, record.row(new_id()), texts,
                                                 record.hour):
            return None
        if count and not texts:
            report.conversations_without_text += 1
        return len(texts)

    async def _research_texts(self, messages: Sequence[MessageRow],
                              report: RetentionReport) -> list[tuple[str, str]]:
        """The redacted texts, or none at all when the redactor is unavailable (then for the
        rest of this run): never a text that was not redacted."""
        if self.redact is None or not messages:
            return []
        try:
            return [(m.sender, await self.redact(m.text)) for m in messages]
        except RedactorUnavailable as exc:
            log.error("retention: redactor unavailable, research copies keep metadata only: %s",
                      exc)
            report.redactor = "unavailable"
            self.redact = None
            return []


async def expired_conversations_waiting(settings: Settings, store: Store, clock: Clock) -> int:
    """How many conversations are past their retention term and still in the database: 0 after
    a complete run. For a metric or an alert (no redactor needed)."""
    return await Retention(settings, store, clock, None).expired_waiting()


class RetentionLoop:
    """The sweeper inside the server: runs every `retention_interval_seconds`, logs and
    carries on after a failure; after each run it logs how many expired conversations wait."""

    def __init__(self, settings: Settings, store: Store, clock: Clock, worker: _Worker) -> None:
        self.interval = settings.retention_interval_seconds
        self.settings = settings
        self.store = store
        self.clock = clock
        self.worker = worker
        self._task: asyncio.Task[None] | None = None

    def retention(self) -> Retention:
        """A run's sweeper (a redactor found unavailable in one run is tried again in the next)."""
        return Retention(self.settings, self.store, self.clock, from_worker(self.worker))

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.run_once()

    async def run_once(self) -> None:
        retention = self.retention()
        try:
            await retention.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention run failed")
        try:
            waiting = await retention.expired_waiting()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("counting expired conversations failed")
            return
        # One line per run, always the same words: an operator's alert matches on it (> 0).
        log.log(logging.ERROR if waiting else logging.INFO,
                "retention: expired_conversations_waiting=%d", waiting)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
