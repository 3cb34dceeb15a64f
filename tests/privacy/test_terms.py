"""Promises over time: sanctions, the request register, the audit log and the research store
each go at the end of their term, and the erasure answer says exactly what stays."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.privacy import research
from chatserver.privacy.requests import not_erased
from chatserver.privacy.retention import Retention, from_redactor, plan_research_record
from chatserver.privacy.self_erasure import erase_own
from chatserver.privacy.terms import Terms
from chatserver.store import Store
from chatserver.store.models import (
    audit_log,
    audit_log_purges,
    research_conversations,
    research_messages,
    sanctions,
)
from tests.privacy.conftest import NOW, FakeRedactor, make_conversation

SECRET = b"s" * 32


async def count(store: Store, table: object) -> int:
    async with store.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def retention(settings: Settings, store: Store, clock: FrozenClock) -> Retention:
    return Retention(settings, store, clock, from_redactor(FakeRedactor()), random.Random(7))


# -- sanctions ------------------------------------------------------------------------------------


async def test_a_sanction_over_and_past_the_address_period_goes_with_its_reasons(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    made = await make_conversation(store, settings, NOW - timedelta(days=200))
    staff = "u" * 24
    old_block = await store.sanctions.add({
        "kind": "block", "address_hash": made.address_hash, "conversation_id": made.id,
        "created_at": NOW - timedelta(days=190), "until": NOW - timedelta(days=100),
        "staff_id": staff, "reason": "noemt zijn school: Het Lyceum",
        "override_reason": "dreigde"})
    lifted = await store.sanctions.add({
        "kind": "timeout", "address_hash": made.address_hash, "conversation_id": made.id,
        "created_at": NOW - timedelta(days=185), "until": NOW + timedelta(days=30),
        "staff_id": staff})
    await store.sanctions.lift(lifted, NOW - timedelta(days=184), staff, "excuses van school")
    young = await store.sanctions.add({
        "kind": "timeout", "address_hash": made.address_hash, "conversation_id": made.id,
        "created_at": NOW - timedelta(days=20), "until": NOW - timedelta(days=19),
        "staff_id": staff})
    in_force = await store.sanctions.add({  # an old 10-year block from before the 90-day rule
        "kind": "block", "address_hash": made.address_hash, "conversation_id": made.id,
        "created_at": NOW - timedelta(days=300), "until": NOW + timedelta(days=3000),
        "staff_id": staff, "reason": "oud"})

    report = await retention(settings, store, frozen).run()

    assert report.sanctions_deleted == 2
    assert await store.sanctions.get(old_block) is None
    assert await store.sanctions.get(lifted) is None
    assert await store.sanctions.get(young) is not None
    assert await store.sanctions.get(in_force) is not None
    async with store.db.engine.connect() as conn:
        left = " ".join(str(v) for r in await conn.execute(select(sanctions)) for v in r)
    for word in ("Lyceum", "dreigde", "excuses"):
        assert word not in left


async def test_an_erased_conversations_sanctions_go_when_they_end(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    made = await make_conversation(store, settings, NOW - timedelta(days=3))
    block = await store.sanctions.add({
        "kind": "block", "address_hash": made.address_hash, "conversation_id": made.id,
        "created_at": NOW - timedelta(days=1), "until": NOW + timedelta(days=30),
        "reason": "schold op De Vliet-school"})
    answer = await erase_own(store, frozen, SECRET, made.id, Terms.of(settings))
    assert answer["not_erased"][0].startswith("Een blokkade of time-out die nog loopt")
    # still in force: it stays, as the answer says
    await retention(settings, store, frozen).run()
    assert await store.sanctions.get(block) is not None
    # over: it goes at the next run, long before the address period
    frozen.advance(days=31)
    report = await retention(settings, store, frozen).run()
    assert report.sanctions_deleted == 1 and await store.sanctions.get(block) is None
    # and a lift ends it as well
    other = await make_conversation(store, settings, frozen.now() - timedelta(days=1),
                                    address="d" * 64)
    timeout = await store.sanctions.add({
        "kind": "timeout", "address_hash": other.address_hash, "conversation_id": other.id,
        "created_at": frozen.now(), "until": frozen.now() + timedelta(hours=1)})
    await erase_own(store, frozen, SECRET, other.id)
    await store.sanctions.lift(timeout, frozen.now(), "u" * 24, "vergissing")
    await retention(settings, store, frozen).run()
    assert await store.sanctions.get(timeout) is None


def test_the_erasure_answer_names_each_term_and_the_sanction_only_when_one_stays(
        settings: Settings) -> None:
    terms = Terms.of(settings.with_(audit_log_days=400, request_register_days=200,
                                    research_term_days=3 * 365))
    plain = not_erased(terms)
    assert len(plain) == 4 and not any("blokkade" in line for line in plain)
    joined = " ".join(plain)
    assert "400 dagen" in joined and "200 dagen" in joined and "3 jaar" in joined
    assert "60 dagen" in joined and "geen toelichting" in joined
    assert "blokkade" in not_erased(terms, sanctions_kept=1)[0]


# -- the request register and the audit log ---------------------------------------------------


async def test_closed_requests_go_after_their_term_with_notes_and_outcomes(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    base = {"kind": "erasure", "reference_hash": "r" * 64, "status": "done",
            "note": "moeder belde, noemde school", "outcome": json.dumps({"x": 1}),
            "extension_reason": "complex"}
    old = await store.subject_requests.add({
        **base, "received_at": NOW - timedelta(days=400), "due_at": NOW - timedelta(days=370),
        "closed_at": NOW - timedelta(days=366)})
    recent = await store.subject_requests.add({
        **base, "received_at": NOW - timedelta(days=100), "due_at": NOW - timedelta(days=70),
        "closed_at": NOW - timedelta(days=364)})
    still_open = await store.subject_requests.add({
        **base, "status": "open", "received_at": NOW - timedelta(days=800),
        "due_at": NOW - timedelta(days=770), "closed_at": None})
    report = await retention(settings, store, frozen).run()
    assert report.requests_dropped == 1
    assert await store.subject_requests.get(old) is None
    assert await store.subject_requests.get(recent) is not None
    assert await store.subject_requests.get(still_open) is not None


async def test_audit_entries_go_after_their_term_through_a_recorded_purge_only(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    await store.audit.record(NOW - timedelta(days=731), "flag", actor_id="u1", actor="vera",
                             conversation_id="c1")
    await store.audit.record(NOW - timedelta(days=729), "flag", actor_id="u1", actor="vera",
                             conversation_id="c2")
    # without a recorded purge the database refuses, even for an old entry
    with pytest.raises(Exception, match="append-only"):
        async with store.db.tx() as conn:
            await conn.execute(audit_log.delete().where(audit_log.c.conversation_id == "c1"))
    report = await retention(settings, store, frozen).run()
    assert report.audit_entries_purged == 1
    left = {e.conversation_id for e in await store.audit.entries()}
    assert "c1" not in left and "c2" in left
    async with store.db.engine.connect() as conn:
        (purge,) = (await conn.execute(select(audit_log_purges))).all()
    assert purge.actor == "retention"
    # a purge records only what was past the term: younger entries still cannot be deleted
    for stmt in (audit_log.delete().where(audit_log.c.conversation_id == "c2"),
                 update(audit_log).values(actor="iemand"),
                 audit_log_purges.delete()):
        with pytest.raises(Exception, match="append-only"):
            async with store.db.tx() as conn:
                await conn.execute(stmt)


# -- the research store -----------------------------------------------------------------------


def test_research_durations_are_whole_minutes_and_the_end_says_no_sanction() -> None:
    class Row:
        created_at = NOW
        paired_at = NOW + timedelta(seconds=151)  # 2:31
        ended_at = paired_at + timedelta(seconds=1189)  # 19:49
        status = "ended"
        age, chatter_age = 15, None
        topic = "School"
        end_reason = "blocked"

    record = plan_research_record(Row(), 4)  # type: ignore[arg-type]
    assert (record.waiting_seconds, record.duration_seconds) == (180, 1200)
    assert record.end_reason == "volunteer"


async def test_a_days_research_records_are_written_in_random_order_without_a_row_number(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    day = NOW - timedelta(days=120)
    starts = [day.replace(hour=h) for h in range(6, 22)]  # 16 conversations over one day
    made = [await make_conversation(store, settings, t, address=f"{i:064d}")
            for i, t in enumerate(starts)]
    order: list[str] = []
    move_in = store.research.move_in

    async def watched(conversation_id: str, *args: object, **kwargs: object) -> bool:
        order.append(conversation_id)
        return await move_in(conversation_id, *args, **kwargs)  # type: ignore[arg-type]

    store.research.move_in = watched  # type: ignore[method-assign]
    await retention(settings, store, frozen).run()
    by_time = [m.id for m in made]
    assert sorted(order) == sorted(by_time) and order != by_time
    async with store.db.engine.connect() as conn:
        # no rowid on SQLite: the physical order is that of the random ids, not of writing
        with pytest.raises(Exception, match="rowid"):
            await conn.execute(text("SELECT rowid FROM research_conversations"))
        with pytest.raises(Exception, match="rowid"):
            await conn.execute(text("SELECT rowid FROM research_messages"))
        stored = [r.id for r in await conn.execute(select(research_conversations.c.id))]
        ids = [r.id for r in await conn.execute(select(research_messages.c.id))]
    assert stored == sorted(stored)  # clustered by the random id
    assert all(len(i) == 24 for i in ids)
    assert not set(stored) & {m.id for m in made}


async def test_research_text_is_sealed_and_goes_after_the_research_term(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    await make_conversation(store, settings, NOW - timedelta(days=100))
    await retention(settings, store, frozen).run()
    async with store.db.engine.connect() as conn:
        raw = [r.text for r in await conn.execute(select(research_messages))]
    assert raw and all(t.startswith("g1:") and "[NAAM]" not in t for t in raw)
    # the export still opens it
    chunks = [c async for c in research.export(store, None, None, "jsonl")]
    assert "Hoi, ik ben [NAAM] uit [NAAM]" in "".join(chunks)
    # five years on (1825 days from its day), it is gone, with its contact counts
    frozen.advance(days=1825 - 99)
    report = await retention(settings, store, frozen).run()
    assert report.research_conversations_dropped == 1
    assert await count(store, research_conversations) == 0
    assert await count(store, research_messages) == 0
    assert await store.research.contact_hours_between(date(2000, 1, 1), date(2100, 1, 1)) == []


async def test_research_text_from_before_sealing_is_sealed_by_the_next_run(
        store: Store, settings: Settings, frozen: FrozenClock) -> None:
    async with store.db.tx() as conn:
        await conn.execute(research_conversations.insert().values(
            id="r" * 24, day=date(2026, 5, 1), message_count=1, left_queue=False))
        await conn.execute(research_messages.insert().values(
            id="m" * 24, conversation_id="r" * 24, position=0, sender="chatter",
            text="oud, al geredigeerd"))
    report = await retention(settings, store, frozen).run()
    assert report.research_texts_sealed == 1
    async with store.db.engine.connect() as conn:
        (raw,) = (await conn.execute(select(research_messages.c.text))).scalars()
    assert raw.startswith("g1:")
    assert [m.text for m in await store.research.messages_of(["r" * 24])] == [
        "oud, al geredigeerd"]


async def test_the_audit_log_takes_no_free_text(store: Store) -> None:
    with pytest.raises(ValueError, match="free text"):
        await store.audit.record(NOW, "block", actor_id="u1", actor="cora",
                                 detail={"sanction_id": "s1", "reason": "noemt zijn school"})
    assert await store.audit.entries() == []
