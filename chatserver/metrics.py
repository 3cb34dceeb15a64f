"""What one worker tells Prometheus: counted as it happens (messages relayed, waits until
pairing, redactions) or read at scrape time from the live state and the store.

Each app has its own registry (tests run several apps in one process). The only label that
names anything is `worker`, this process's pid: no content, hash or identifier of a person or
a conversation ever becomes a label or a value."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.outbox import Outbox
from chatserver.privacy.retention import expired_conversations_waiting
from chatserver.redaction_worker import RedactionWorker

WORKER = str(os.getpid())

# Seconds a young person waits for a volunteer: from seconds to the hour a busy evening brings.
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
# Seconds one redaction takes in the worker process (tens of milliseconds when warm).
REDACTION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Meter:
    """This app's metrics and their registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.relayed = Counter(
            "chatserver_messages_relayed", "Chat messages this worker emitted, by audience "
            "(to=chatter: a volunteer's message; to=staff: to the consoles of a conversation).",
            ["worker", "to"], registry=r)
        self.waiting = Histogram(
            "chatserver_waiting_seconds", "Time from a conversation's start to its pairing with "
            "a volunteer, observed by the worker that paired it.",
            ["worker"], buckets=WAIT_BUCKETS, registry=r)
        self.redaction = Histogram(
            "chatserver_redaction_seconds", "Duration of redactions in the redaction worker "
            "(kind=flag: a flagged message or span; kind=research: retention's strict profile).",
            ["worker", "kind"], buckets=REDACTION_BUCKETS, registry=r)
        self.redaction_failures = Counter(
            "chatserver_redaction_failures", "Redactions that could not be done (redactor not "
            "ready, failed to load, or its process died).", ["worker", "kind"], registry=r)
        self.queue = Gauge("chatserver_queue_length",
                           "Conversations waiting for a volunteer (all workers).", ["worker"],
                           registry=r)
        self.active = Gauge("chatserver_active_conversations",
                            "Conversations with a volunteer (all workers).", ["worker"],
                            registry=r)
        self.volunteers = Gauge(
            "chatserver_available_volunteers", "Volunteers available for chats with a console "
            "on this worker (one with consoles on two workers counts on both).", ["worker"],
            registry=r)
        self.chatters = Gauge("chatserver_connected_chatters",
                              "Chatter sockets connected to this worker.", ["worker"], registry=r)
        self.retention_due = Gauge(
            "chatserver_retention_due_conversations", "Conversations past the retention term "
            "that the retention sweeper has not anonymised yet.", ["worker"], registry=r)
        self.database_up = Gauge("chatserver_database_up",
                                 "1 when this worker reaches the database.", ["worker"], registry=r)
        self.redis_up = Gauge("chatserver_redis_up", "1 when this worker reaches Redis (absent "
                              "without Redis).", ["worker"], registry=r)
        self.redactor_ready = Gauge("chatserver_redactor_ready",
                                    "1 when the redaction worker is loaded and answering.",
                                    ["worker"], registry=r)
        self.live_up = Gauge("chatserver_live_state_up",
                             "1 when the live state (queue, presence) could be read.", ["worker"],
                             registry=r)
        self.delivery_up = Gauge(
            "chatserver_delivery_subscribed", "1 while this worker's delivery listener is "
            "subscribed, so events from other workers reach its sockets (absent without Redis).",
            ["worker"], registry=r)
        self.delivery_dropped = Counter(
            "chatserver_delivery_dropped", "Socket.IO events for other workers that were dropped "
            "(Redis away longer than the backlog holds, or refusing them; absent without Redis).",
            ["worker"], registry=r)
        self._dropped_seen = 0

    def observe_wait(self, seconds: float) -> None:
        self.waiting.labels(WORKER).observe(max(0.0, seconds))

    async def exposition(self, ctx: Context) -> bytes:
        """Read the state of now into the gauges; the whole registry in the text format."""
        await self._refresh(ctx)
        return generate_latest(self.registry)

    async def _refresh(self, ctx: Context) -> None:
        database = await ctx.store.db.ping()
        self.database_up.labels(WORKER).set(1 if database else 0)
        if ctx.settings.redis_url:
            self.redis_up.labels(WORKER).set(1 if await ctx.live.ping() else 0)
            subscribed, dropped = ctx.outbox.delivery()
            self.delivery_up.labels(WORKER).set(1 if subscribed else 0)
            self.delivery_dropped.labels(WORKER).inc(max(0, dropped - self._dropped_seen))
            self._dropped_seen = max(dropped, self._dropped_seen)
        self.redactor_ready.labels(WORKER).set(1 if ctx.redactor.status == "ready" else 0)
        try:
            queue = await ctx.live.queue()
            live = await ctx.live.conversations()
        except ChatError:  # LiveUnavailable: the gauges keep their last value
            self.live_up.labels(WORKER).set(0)
        else:
            self.live_up.labels(WORKER).set(1)
            self.queue.labels(WORKER).set(len(queue))
            self.active.labels(WORKER).set(sum(1 for c in live if c.volunteer_id))
        available = {c.member.id for c in ctx.connections.staff.values() if c.capacity is not None}
        self.volunteers.labels(WORKER).set(len(available))
        self.chatters.labels(WORKER).set(len(ctx.connections.chatters))
        if database:
            self.retention_due.labels(WORKER).set(await retention_due(ctx))


async def retention_due(ctx: Context) -> int:
    """Conversations past the retention term and still here: what the next sweep removes."""
    return await expired_conversations_waiting(ctx.settings, ctx.store, ctx.clock)


class MeteredOutbox(Outbox):
    """The outbox, counting relayed messages and waits as they pass: the relay code is left
    as it is."""

    def __init__(self, sio: Any, meter: Meter, clock: Any) -> None:
        super().__init__(sio)
        self.meter = meter
        self.clock = clock

    async def message_to_chatter(self, *args: Any, **kwargs: Any) -> None:
        await super().message_to_chatter(*args, **kwargs)
        self.meter.relayed.labels(WORKER, "chatter").inc()

    async def message_to_staff(self, *args: Any, **kwargs: Any) -> None:
        await super().message_to_staff(*args, **kwargs)
        self.meter.relayed.labels(WORKER, "staff").inc()

    async def assigned(self, volunteer_id: str, payload: Any) -> None:
        """Sent once per pairing, by the worker that paired: the wait ends here."""
        await super().assigned(volunteer_id, payload)
        try:
            started = datetime.fromisoformat(payload["started_at"])
        except (KeyError, TypeError, ValueError):
            return
        self.meter.observe_wait((self.clock.now() - started).total_seconds())


class MeteredRedactionWorker(RedactionWorker):
    """The redaction worker, timing each redaction and counting those that fail."""

    def __init__(self, meter: Meter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.meter = meter

    async def _timed(self, kind: str, call: Any) -> Any:
        began = time.perf_counter()
        try:
            result = await call
        except ChatError:
            self.meter.redaction_failures.labels(WORKER, kind).inc()
            raise
        self.meter.redaction.labels(WORKER, kind).observe(time.perf_counter() - began)
        return result

    async def redact(self, *args: Any, **kwargs: Any) -> Any:
        return await self._timed("flag", super().redact(*args, **kwargs))

    async def redact_span(self, *args: Any, **kwargs: Any) -> Any:
        return await self._timed("flag", super().redact_span(*args, **kwargs))

    async def redact_research(self, *args: Any, **kwargs: Any) -> Any:
        return await self._timed("research", super().redact_research(*args, **kwargs))
