"""Retention: a run over conversations of many ages leaves exactly what the policy says."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.privacy.retention import (
    RedactorUnavailable,
    Retention,
    from_redactor,
    load_redactor,
    plan_research_record,
)
from chatserver.privacy.terms import day_start
from chatserver.store import Store
from chatserver.store.models import (
    audit_log,
    contacts,
    conversations,
    messages,
    research_contact_hours,
    research_conversations,
    research_messages,
    sanctions,
)
from tests.helpers import Subprocess, running
from tests.privacy.conftest import NOW, FakeRedactor, make_conversation


async def count(store: Store, table: object) -> int:
    async with store.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_run_over_many_ages_keeps_exactly_what_the_policy_says(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    ages = [0, 1, 30, 89, 91, 120, 200, 365]  # days
    made = {d: await make_conversation(store, settings, NOW - timedelta(days=d, minutes=5),
                                       address=f"{d:064d}") for d in ages}
    # Whole local days go together, when the day reaches 90 days: a conversation started at the
    # first moment of the next day stays, one started a minute earlier goes (89.5 days old).
    next_day = day_start(date(2026, 3, 18))
    edge_keep = await make_conversation(store, settings, next_day)
    edge_go = await make_conversation(store, settings, next_day - timedelta(minutes=1))
    # a time-out long over, from 200 days ago; a block still in force, from 300 days ago
    await store.sanctions.add({"kind": "timeout", "address_hash": made[200].address_hash,
                              "conversation_id": made[200].id,
                              "created_at": NOW - timedelta(days=200),
                              "until": NOW - timedelta(days=199)})
    await store.sanctions.add({"kind": "block", "address_hash": made[365].address_hash,
                              "conversation_id": made[365].id,
                              "created_at": NOW - timedelta(days=300),
                              "until": NOW + timedelta(days=30)})
    fake = FakeRedactor()

    report = await Retention(settings, store, frozen, from_redactor(fake)).run()

    gone = {made[d].id for d in (91, 120, 200, 365)} | {edge_go.id}
    kept = {made[d].id for d in (0, 1, 30, 89)} | {edge_keep.id}
    async with store.db.engine.connect() as conn:
        left = {r.id for r in await conn.execute(select(conversations.c.id))}
        left_msgs = {r.conversation_id for r in await conn.execute(select(messages))}
        research = (await conn.execute(select(research_conversations))).all()
        sealed = [r.text for r in await conn.execute(select(research_messages))]
        contact_days = sorted(
            (NOW - r.created_at.replace(tzinfo=NOW.tzinfo)).days
            for r in await conn.execute(select(contacts)))
        sanction_hashes = {r.kind: r.address_hash for r in await conn.execute(select(sanctions))}
        hours = sum(r.contacts for r in await conn.execute(select(research_contact_hours)))
    # Sealed at rest like message text; the store opens it
    assert sealed and all(t.startswith("g1:") for t in sealed)
    texts = [m.text for m in await store.research.messages_of([r.id for r in research])]
    assert left == kept and left_msgs == kept
    assert report.conversations_moved == len(gone) == len(research) == hours
    assert report.messages_redacted == 2 * len(gone) == len(texts)
    # Redacted, every message, every entity type the redactor knows
    assert all("Sanne" not in t and "Utrecht" not in t and "Vera" not in t for t in texts)
    assert "Hoi, ik ben [NAAM] uit [NAAM]" in texts
    # Nothing that links back: no ids, references, staff or times finer than a day
    assert not {r.id for r in research} & gone
    assert {tuple(sorted(r._mapping)) for r in research} == {tuple(sorted(
        ["id", "day", "age", "topic", "waiting_seconds", "duration_seconds", "message_count",
         "left_queue", "end_reason"]))}
    assert {(r.age, r.topic, r.waiting_seconds, r.duration_seconds) for r in research} == {
        (15, "School", 120, 1200)}
    # Contacts older than 183 days are gone; younger ones (even of moved conversations) stay
    assert contact_days == sorted([0, 1, 30, 89, 91, 120, 89, 89])
    assert report.contacts_dropped == 2
    # The time-out, long over, is gone (hash, staff, link); the block in force keeps its hash
    assert sanction_hashes == {"block": made[365].address_hash}
    assert report.sanctions_deleted == 1
    # A reference of a moved conversation no longer finds anything
    assert await store.conversations.find_by(reference_hash=made[120].reference) is None

    again = await Retention(settings, store, frozen, from_redactor(fake)).run()
    assert again.conversations_moved == again.contacts_dropped == 0
    assert again.sanctions_deleted == 0
    assert await count(store, research_conversations) == len(gone)


class Broken:
    def redact(self, text: str) -> str:
        raise OSError("model missing")


@pytest.mark.parametrize("redactor", ["broken", "none"])
async def test_with_the_redactor_down_expired_data_still_goes_and_no_text_is_kept(
        store: Store, settings: Settings, frozen: FrozenClock, redactor: str) -> None:
    old = await make_conversation(store, settings, NOW - timedelta(days=730))
    young = await make_conversation(store, settings, NOW - timedelta(days=5), address="b" * 64)
    retention = Retention(settings, store, frozen,
                          from_redactor(Broken()) if redactor == "broken" else None)
    assert await retention.expired_waiting() == 1
    assert await retention.overdue()

    report = await retention.run()

    assert report.conversations_moved == 1 and report.conversations_without_text == 1
    assert report.redactor == "unavailable"
    assert await store.conversations.get(old.id) is None
    assert await store.messages.of_conversation(old.id) == []
    assert await store.conversations.get(young.id) is not None
    async with store.db.engine.connect() as conn:
        hashes = {r.address_hash for r in await conn.execute(select(contacts))}
        research = (await conn.execute(select(research_conversations))).all()
    # its address hash and contact row are gone; the young one's stay
    assert hashes == {young.address_hash}
    # the research copy: metadata only, never a text that was not redacted
    assert [(r.message_count, r.topic) for r in research] == [(2, "School")]
    assert await count(store, research_messages) == 0
    assert await retention.expired_waiting() == 0 and not await retention.overdue()


async def test_a_redactor_failing_halfway_still_moves_everything_without_raw_text(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    for d in (100, 110, 120):
        await make_conversation(store, settings, NOW - timedelta(days=d), address=f"{d:064d}")

    class Flaky(FakeRedactor):
        def redact(self, text: str) -> str:
            if self.calls >= 3:  # conversation 1 (2 texts), then 1 of conversation 2
                raise RuntimeError("pipeline crashed")
            return super().redact(text)

    report = await Retention(settings, store, frozen, from_redactor(Flaky())).run()
    assert report.conversations_moved == 3 and report.conversations_without_text == 2
    assert await count(store, research_conversations) == 3
    assert await count(store, conversations) == 0 and await count(store, messages) == 0
    async with store.db.engine.connect() as conn:
        ids = [r.id for r in await conn.execute(select(research_conversations))]
    texts = [m.text for m in await store.research.messages_of(ids)]
    assert len(texts) == 2 and all("Sanne" not in t for t in texts)


async def test_two_sweepers_at_once_move_each_conversation_once(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    for d in range(100, 130):
        await make_conversation(store, settings, NOW - timedelta(days=d), address=f"{d:064d}")
    a, b = (Retention(settings, store, frozen, from_redactor(FakeRedactor())) for _ in "ab")
    ra, rb = await asyncio.gather(a.run(), b.run())
    assert ra.conversations_moved + rb.conversations_moved == 30
    assert await count(store, research_conversations) == 30
    assert await count(store, research_messages) == 60


async def test_a_conversation_moved_by_another_sweeper_between_two_reads_is_skipped(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    """The flake of the test above: one sweeper read the messages, the other moved the
    conversation (its key went with it), then the first read the keys and found none."""
    made = await make_conversation(store, settings, NOW - timedelta(days=100))
    keys = store.conversation_keys
    read_keys = keys.for_reading

    async def other_sweeper_first(conversation_id: str, versions: Any) -> Any:
        await store.conversations.delete(conversation_id)
        return await read_keys(conversation_id, versions)

    keys.for_reading = other_sweeper_first  # type: ignore[method-assign]
    report = await Retention(settings, store, frozen, from_redactor(FakeRedactor())).run()
    assert report.conversations_moved == 0 and report.skipped == [made.id]
    assert await count(store, research_conversations) == 0


def test_the_research_record_keeps_the_day_not_the_time() -> None:
    class Row:
        created_at = NOW.replace(hour=22, minute=30)  # 00:30 the next day in Amsterdam (CEST)
        paired_at = None
        ended_at = created_at + timedelta(minutes=3)
        status = "ended"
        age, chatter_age = None, 14
        topic, chatter_topic = "Pesten", "School"
        end_reason = "chatter"

    record = plan_research_record(Row(), 0)
    assert record.day.isoformat() == "2026-06-16" and record.hour == 0
    assert record.left_queue and record.waiting_seconds is None
    assert (record.age, record.topic) == (14, "Pesten")
    assert "hour" not in record.row("x")


async def test_the_audit_log_refuses_update_and_delete(store: Store) -> None:
    await store.audit.record(NOW, "flag", actor_id="u1", actor="vera", conversation_id="c1")
    for stmt in (update(audit_log).values(actor="iemand"), audit_log.delete()):
        with pytest.raises(Exception, match="append-only"):
            async with store.db.tx() as conn:
                await conn.execute(stmt)
    assert [r.actor for r in await store.audit.entries()] == ["vera"]


def test_the_command_deletes_without_the_redaction_library_and_says_so(
        settings: Settings) -> None:
    from chatserver.privacy.commands import retention_command

    async def seed() -> str:
        s = Store.from_settings(settings)
        await s.start()
        made = await make_conversation(s, settings, NOW - timedelta(days=4000))
        await s.close()
        return made.id

    cid = asyncio.run(seed())

    def missing() -> object:
        raise RedactorUnavailable("the redaction library cannot be imported (ImportError)")

    out = io.StringIO()
    args = argparse.Namespace(addresses_only=False, every=None, json=True)
    assert retention_command(settings, args, redactor=missing, out=out) == 3  # type: ignore[arg-type]
    report = json.loads(out.getvalue())
    assert report["conversations_moved"] == report["conversations_without_text"] == 1
    assert report["expired_conversations_waiting"] == 0

    async def gone() -> bool:
        s = Store.from_settings(settings)
        await s.start()
        try:
            return await s.conversations.get(cid) is None
        finally:
            await s.close()

    assert asyncio.run(gone())


def test_the_command_runs_and_reports(settings: Settings) -> None:
    from chatserver.privacy.commands import retention_command

    async def seed() -> None:
        s = Store.from_settings(settings)
        await s.start()
        await make_conversation(s, settings, NOW - timedelta(days=4000))
        await s.close()

    asyncio.run(seed())
    out = io.StringIO()
    args = argparse.Namespace(addresses_only=False, every=None, json=False)
    code = retention_command(settings, args, redactor=lambda: from_redactor(FakeRedactor()),
                             out=out)
    assert code == 0
    assert "1 conversations (2 messages) moved" in out.getvalue()


def test_chatserver_retention_run_says_clearly_when_redaction_is_missing(
        tmp_path: Path) -> None:
    proc = Subprocess(tmp_path / "data")
    result = proc.cli("retention", "run")
    if result.returncode == 0:
        pytest.skip("the redaction library is installed: covered by the real-redactor test")
    assert result.returncode == 3
    assert "metadata only" in result.stderr and "Traceback" not in result.stderr
    ok = proc.cli("retention", "run", "--addresses-only", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["conversations_moved"] == 0


async def test_the_real_redactor_anonymises_before_anything_moves(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    try:
        redact = load_redactor()
    except RedactorUnavailable as exc:
        pytest.skip(f"redaction not ready: {exc}")
    await make_conversation(store, settings, NOW - timedelta(days=100),
                            texts=("Ik ben Sanne de Vries, bel me op 06-12345678",
                                   "we hangen altijd rond bij de zwartewaalbrug"))
    report = await Retention(settings, store, frozen, redact).run()
    assert report.conversations_moved == 1
    async with store.db.engine.connect() as conn:
        ids = [r.id for r in await conn.execute(select(research_conversations))]
    texts = [m.text for m in await store.research.messages_of(ids)]
    assert texts and all("Sanne" not in t and "12345678" not in t for t in texts)
    # The research profile: a word no recognizer knows, but no ordinary word either, goes too
    assert "we hangen altijd rond bij de [WOORD]" in texts


async def test_the_server_sweeps_by_itself(settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings.with_(retention_interval_seconds=1), clock) as server:
        store = server.components.store
        fake = FakeRedactor()

        async def redact_research(text: str) -> str:
            return fake.redact(text)

        server.components.redactor.redact_research = redact_research  # type: ignore[method-assign]
        # The loop runs on its own every second; its audit entry says a run has finished.
        runs: asyncio.Queue[None] = asyncio.Queue()
        record = store.audit.record

        async def audited(*args: Any, **kwargs: Any) -> Any:
            result = await record(*args, **kwargs)
            if "retention_run" in args:
                runs.put_nowait(None)
            return result

        store.audit.record = audited  # type: ignore[method-assign]
        old = await make_conversation(store, settings, NOW - timedelta(days=95))
        fresh = await make_conversation(store, settings, NOW - timedelta(days=5))
        # A run that began before both conversations were there may end just after: wait for
        # the next one then.
        for _ in range(2):
            await asyncio.wait_for(runs.get(), 10)
            if await store.conversations.get(old.id) is None:
                break
        assert [e.actor for e in await store.audit.entries(action="retention_run")][:1] == [
            "retention"]
        assert await store.conversations.get(old.id) is None
        assert await store.conversations.get(fresh.id) is not None
        assert await count(store, research_conversations) == 1


async def test_healthz_answers_503_when_retention_is_overdue_or_the_redactor_failed(
        settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings.with_(retention_interval_seconds=0), clock) as server:
        store = server.components.store
        async with server.http() as http:
            ok = await http.get("/healthz")
            assert ok.status_code == 200 and ok.json()["retention"] == "ok"
            # expired, but not a day past its term yet: the next run has time
            await make_conversation(store, settings, NOW - timedelta(days=90, hours=12))
            assert (await http.get("/healthz")).status_code == 200
            await make_conversation(store, settings, NOW - timedelta(days=92), address="c" * 64)
            late = await http.get("/healthz")
            assert late.status_code == 503
            assert late.json()["retention"] == "overdue"
            await Retention(settings, store, clock, None).run()
            assert (await http.get("/healthz")).status_code == 200
            worker = server.components.redactor
            worker.enabled, worker.error = True, "OSError"
            failed = await http.get("/healthz")
            assert failed.status_code == 503 and failed.json()["redactor"] == "failed"


async def test_the_loop_logs_how_many_expired_conversations_wait(
        store: Store, settings: Settings, frozen: FrozenClock,
        caplog: pytest.LogCaptureFixture) -> None:
    from chatserver.privacy.retention import RetentionLoop, expired_conversations_waiting

    await make_conversation(store, settings, NOW - timedelta(days=200))

    class Down:
        async def redact_research(self, text: str) -> str:
            raise RuntimeError("no worker")

    caplog.set_level("INFO", logger="chatserver.privacy.retention")
    loop = RetentionLoop(settings, store, frozen, Down())
    assert await expired_conversations_waiting(settings, store, frozen) == 1
    await loop.run_once()
    assert "retention: expired_conversations_waiting=0" in caplog.text
    assert await count(store, conversations) == 0
