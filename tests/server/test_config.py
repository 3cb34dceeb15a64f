"""GET /api/config: what the widget and the console take from the server rather than keep a copy of."""

from __future__ import annotations

from pathlib import Path

from chatserver.config import Settings
from redaction import ENTITY_TYPES
from tests.helpers import running, server_env


async def test_config_names_the_topics_and_the_redactors_entity_types_with_dutch_labels(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(server_env(tmp_path / "data",
                                            CHATSERVER_TOPICS="Thuis, School,Geld"))
    async with running(settings) as server, server.http() as http:
        r = await http.get("/api/config")
    assert r.status_code == 200
    body = r.json()
    assert body["topics"] == ["Thuis", "School", "Geld"]
    assert body["entity_types"] == list(ENTITY_TYPES)
    # A label for every type and no other: the console offers exactly these in its redaction bar.
    assert list(body["entity_labels"]) == list(ENTITY_TYPES)
    assert body["entity_labels"]["PERSON"] == "naam"
    assert body["entity_labels"]["PHONE_NUMBER"] == "telefoonnummer"
    assert all(isinstance(label, str) and label for label in body["entity_labels"].values())


async def test_config_links_the_privacy_statement(tmp_path: Path) -> None:
    settings = Settings.from_env(server_env(
        tmp_path / "data", CHATSERVER_PRIVACY_URL="https://hulplijn.example/privacy"))
    async with running(settings) as server, server.http() as http:
        r = await http.get("/api/config")
    assert r.json()["privacy_url"] == "https://hulplijn.example/privacy"


def test_the_privacy_url_is_a_path_or_https(tmp_path: Path) -> None:
    import pytest

    from chatserver.config import DEFAULT_PRIVACY_URL, ConfigError

    assert Settings.from_env(server_env(tmp_path / "d")).privacy_url == DEFAULT_PRIVACY_URL
    assert Settings.from_env(server_env(tmp_path / "d", CHATSERVER_PRIVACY_URL="/privacy")
                             ).privacy_url == "/privacy"
    for bad in ("javascript:alert(1)", "http://hulplijn.example/privacy", "//elders.example",
                'https://x.example/"><script>'):
        with pytest.raises(ConfigError):
            Settings.from_env(server_env(tmp_path / "d", CHATSERVER_PRIVACY_URL=bad))


async def test_topics_are_matched_whatever_their_case_and_kept_as_the_list_spells_them(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(server_env(tmp_path / "data"))
    async with running(settings) as server:
        vera = await server.staff("vera")
        await vera.call("available", {})
        chatter = await server.chatter()
        cid = (await chatter.call("start", {"topic": "  pesten "}))["conversation_id"]
        await vera.expect("assigned")
        assert (await vera.call("register", {"conversation_id": cid, "topic": "pesten"}))["ok"]
        refused = await vera.call("register", {"conversation_id": cid, "topic": "iets anders"})
        assert refused["error"]["code"] == "invalid"
        row = await server.components.store.conversations.get(cid)
        assert row is not None and row.topic == "Pesten"
        assert server.components.store.sealer.open(row.chatter_topic or "", cid) == "Pesten"
