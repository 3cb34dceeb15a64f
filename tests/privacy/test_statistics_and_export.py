"""Statistics over live and research data alike, and the research export (anonymised only)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.privacy.retention import Retention, from_redactor
from chatserver.privacy.statistics import Contact, percentile, summarise
from chatserver.store import Store
from tests.helpers import Subprocess, running
from tests.privacy.conftest import NOW, FakeRedactor, make_conversation
from tests.privacy.test_requests_and_audit import coordinator


def test_percentiles_and_weeks_are_plain_arithmetic() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10, 20, 30, 40], 0.5) == 25
    assert percentile(list(range(1, 11)), 0.9) == 9.1
    day = date(2026, 6, 10)
    contacts = [
        Contact(day, 20, 60, False, True, 600, 10, 15, "School"),
        Contact(day, 21, None, True, True, None, 0, None, None),
        Contact(day + timedelta(days=7), None, 300, False, True, 900, 20, 16, "Thuis"),
    ]
    out = summarise(contacts, [(day + timedelta(days=7), 9, 1)], date(2026, 6, 8),
                    date(2026, 6, 22))
    assert [w["week"] for w in out["weeks"]] == ["2026-W24", "2026-W25"]
    first = out["weeks"][0]
    assert (first["contacts"], first["helped"], first["left_queue_share"]) == (2, 1, 0.5)
    assert first["ages"] == {"15": 1, "onbekend": 1}
    assert out["hours"][9]["contacts"] == 1 and out["hours"][20]["contacts"] == 1
    assert len(out["days"]) == 14 and out["totals"]["waiting_seconds"]["median"] == 180


async def test_statistics_cover_conversations_moved_to_research(settings: Settings) -> None:
    clock = FrozenClock(NOW)
    async with running(settings, clock) as server:
        store = server.components.store
        for days in (5, 6, 100, 101):
            await make_conversation(store, settings, NOW - timedelta(days=days),
                                    address=f"{days:064d}")
        await make_conversation(store, settings, NOW - timedelta(days=102), paired=False,
                                address="f" * 64, topic=None)
        params = {"since": "2026-02-01", "until": "2026-06-16"}
        async with await coordinator(server) as http:
            before = (await http.get("/api/privacy/statistics", params=params)).json()
        await Retention(settings, store, clock, from_redactor(FakeRedactor())).run()
        async with await coordinator(server) as http:
            after = (await http.get("/api/privacy/statistics", params=params)).json()
            r = await http.get("/api/privacy/research/export", params={"format": "jsonl"})
            assert r.status_code == 200
            assert "attachment" in r.headers["content-disposition"]
            lines = [json.loads(line) for line in r.text.splitlines()]
            r = await http.get("/api/privacy/research/export",
                               params={"format": "csv", "since": "2026-03-06"})
            rows = list(csv.DictReader(io.StringIO(r.text)))
            audit = (await http.get("/api/privacy/audit",
                                    params={"action": "research_export"})).json()["entries"]
    assert before["totals"] == after["totals"]
    assert before["hours"] == after["hours"] and before["days"] == after["days"]
    assert after["totals"]["contacts"] == 5 and after["totals"]["left_queue"] == 1
    assert after["totals"]["waiting_seconds"]["median"] == 120
    assert len(lines) == 3
    assert all(set(c) == {"id", "day", "age", "topic", "waiting_seconds", "duration_seconds",
                          "message_count", "left_queue", "end_reason", "messages"}
               for c in lines)
    text = r.text + json.dumps(lines)
    assert "Sanne" not in text and "Utrecht" not in text and "0" * 60 not in text
    assert {row["day"] for row in rows} == {"2026-03-07", "2026-03-06"}
    assert len(audit) == 2 and audit[0]["actor"] == "cora"


async def test_the_command_line_exports_and_reports(settings: Settings, tmp_path: Path) -> None:
    store = Store.from_settings(settings)
    await store.start()
    made = await make_conversation(store, settings, NOW - timedelta(days=200))
    await store.audit.record(NOW - timedelta(hours=5), "transcript_read", actor_id="u1", actor="vera",
                             conversation_id=made.id)
    await store.audit.record(NOW - timedelta(hours=4), "flag", actor_id="u1", actor="vera",
                             conversation_id=made.id, detail={"message_id": "m1"})
    await store.audit.record(NOW - timedelta(hours=3), "monitor", actor_id="u2", actor="sam",
                             conversation_id="anders")
    await Retention(settings, store, FrozenClock(NOW), from_redactor(FakeRedactor())).run()
    await store.close()
    proc = Subprocess(tmp_path / "data")
    out = proc.cli("export", "research", "--since", "2025-01-01", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("conversation,day,age,topic")
    assert "[NAAM]" in out.stdout and "Sanne" not in out.stdout
    bad = proc.cli("export", "research", "--since", "vorige week")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    report = proc.cli("audit", "report", "--since", "2026-06-15T06:00:00Z", "--actor", "vera",
                      "--json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert [e["action"] for e in data["entries"]] == ["transcript_read", "flag"]
    assert data["conversations"] == [{"conversation_id": made.id, "first": data["entries"][0]["at"],
                                      "last": data["entries"][1]["at"],
                                      "actions": {"transcript_read": 1, "flag": 1}}]
    text = proc.cli("audit", "report", "--since", "2026-06-15", "--until", "2026-06-16")
    assert text.returncode == 0 and "sam" in text.stdout and "vera" in text.stdout
    assert "conversations touched" in text.stdout
