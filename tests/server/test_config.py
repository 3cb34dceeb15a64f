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
