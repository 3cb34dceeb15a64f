"""GET /metrics: operators with their own token read the worker's numbers in Prometheus' text
format; nobody else learns the endpoint exists, and no number names a person or a conversation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.errors import ConfigError
from tests.helpers import running, server_env

TOKEN = "m" * 20 + "3tr1cs-t0k3n-0f-0p3rat0rs"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORKER = str(os.getpid())  # the tests run the app in this process


def settings_for(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
                                        **extra))


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text)[(name, frozenset({"worker": WORKER, **labels}.items()))]


async def scrape(http: httpx.AsyncClient) -> str:
    r = await http.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_without_a_token_configured_the_endpoint_does_not_exist(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as server, server.http() as http:
        for headers in ({}, AUTH):
            r = await http.get("/metrics", headers=headers)
            assert r.status_code == 404
            assert r.json()["error"]["code"] == "not_found"


async def test_a_missing_or_wrong_token_gets_401_in_the_protocols_error_shape(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, CHATSERVER_METRICS_TOKEN=TOKEN)
    async with running(settings) as server, server.http() as http:
        for headers in ({}, {"Authorization": f"Bearer {TOKEN[:-1]}x"},
                        {"Authorization": f"Bearer {TOKEN}extra"},
                        {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"}):
            r = await http.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.json()["error"]["code"] == "unauthorized" and r.json()["error"]["message"]
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert "chatserver_" not in r.text
        # A staff member's session token is not the operators' token.
        vera = await server.staff("vera")
        r = await http.get("/metrics", headers={"Authorization": f"Bearer {vera.token}"})
        assert r.status_code == 401


def test_a_short_token_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CHATSERVER_METRICS_TOKEN"):
        settings_for(tmp_path, CHATSERVER_METRICS_TOKEN="short")


async def test_a_chat_moves_the_numbers_and_no_label_or_value_names_anyone(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    settings = settings_for(tmp_path, CHATSERVER_METRICS_TOKEN=TOKEN, CHATSERVER_RETENTION_DAYS="30",
                            CHATSERVER_RETENTION_INTERVAL_SECONDS="0")
    async with running(settings, clock) as server, server.http() as http:
        before = await scrape(http)
        assert value(before, "chatserver_queue_length") == 0
        assert value(before, "chatserver_active_conversations") == 0
        assert value(before, "chatserver_available_volunteers") == 0
        assert value(before, "chatserver_database_up") == 1
        assert value(before, "chatserver_redactor_ready") == 0  # disabled in these tests
        assert ("chatserver_redis_up", frozenset({("worker", WORKER)})) not in samples(before)

        chatter = await server.chatter()
        start = await chatter.call("start", {"age": 15, "topic": "Pesten"})
        cid = start["conversation_id"]
        waiting = await scrape(http)
        assert value(waiting, "chatserver_queue_length") == 1
        assert value(waiting, "chatserver_connected_chatters") == 1

        clock.advance(seconds=40)  # a wait of 40 s: in the 60 s bucket, not the 30 s one
        vera_id = await server.add_user("vera", display_name="Vera Veldhuis")
        vera = await server.connect_staff("vera")
        await vera.call("available", {"capacity": 2})
        assigned = await vera.expect("assigned")
        await chatter.expect("paired")
        sent = await chatter.call("message", {"text": "ik word gepest op school"})
        await vera.expect("message")
        await vera.call("message", {"conversation_id": cid, "text": "Wat naar, vertel eens."})
        await chatter.expect("message")
        flagged = await vera.call("flag", {"conversation_id": cid, "message_id": sent["id"]})
        assert flagged["ok"] is False  # no redactor here: the failure is counted

        talking = await scrape(http)
        assert value(talking, "chatserver_queue_length") == 0
        assert value(talking, "chatserver_active_conversations") == 1
        assert value(talking, "chatserver_available_volunteers") == 1
        assert value(talking, "chatserver_messages_relayed_total", to="chatter") == 1
        assert value(talking, "chatserver_messages_relayed_total", to="staff") == 2
        assert value(talking, "chatserver_waiting_seconds_count") == 1
        assert value(talking, "chatserver_waiting_seconds_bucket", le="60.0") == 1
        assert value(talking, "chatserver_waiting_seconds_bucket", le="30.0") == 0
        assert value(talking, "chatserver_redaction_failures_total", kind="flag") == 1
        assert value(talking, "chatserver_retention_due_conversations") == 0

        await vera.call("end", {"conversation_id": cid})
        ended = await chatter.expect("ended")
        clock.advance(days=31)  # past the retention term; the sweeper has not run
        later = await scrape(http)
        assert value(later, "chatserver_active_conversations") == 0
        assert value(later, "chatserver_retention_due_conversations") == 1

        secrets = [cid, assigned["chatter"], ended["reference"], vera.token, vera_id, "Veldhuis",
                   "gepest", "Pesten", start["resume_token"]]
        secrets += [c.address_hash for c in server.components.connections.chatters.values()]
        for text in (before, waiting, talking, later):
            for secret in secrets:
                assert secret not in text
            labels = {(k, v) for (_, ls) in samples(text) for k, v in ls if k != "le"}
            assert labels <= {("worker", WORKER), ("to", "chatter"), ("to", "staff"),
                              ("kind", "flag"), ("kind", "research")}, labels
            # No run of hex as long as a hash or an id outside numbers (1.76e+09).
            words = re.sub(r"[0-9.]+e[+-]\d+", "", text)
            assert not re.search(r"[0-9a-f]{16,}", words, re.IGNORECASE)


async def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, CHATSERVER_METRICS_TOKEN=TOKEN)
    async with running(settings) as one, one.http() as http_one:
        chatter = await one.chatter()
        await chatter.call("start", {})
        async with running(settings.with_(data_dir=tmp_path / "other",
                                          database_url=f"sqlite+aiosqlite:///{tmp_path}/o.db")
                           ) as two, two.http() as http_two:
            assert value(await scrape(http_one), "chatserver_connected_chatters") == 1
            assert value(await scrape(http_two), "chatserver_connected_chatters") == 0
