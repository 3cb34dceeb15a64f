"""The world of the privacy tests: a store on a frozen clock, conversations of chosen ages,
and a small fake redactor (the real one is exercised where it can be imported)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.privacy import references
from chatserver.store import Store

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


class FakeRedactor:
    """Replaces names from a short list, phone numbers and e-mail addresses."""

    NAMES = re.compile(r"\b(Sanne|Jan|Vera|Mo|Utrecht)\b")
    PHONE = re.compile(r"\b06[- ]?\d{8}\b")
    MAIL = re.compile(r"\S+@\S+")

    def __init__(self) -> None:
        self.calls = 0

    def redact(self, text: str) -> str:
        self.calls += 1
        text = self.MAIL.sub("[E-MAIL]", text)
        text = self.PHONE.sub("[TELEFOONNUMMER]", text)
        return self.NAMES.sub("[NAAM]", text)


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    s = Store.from_settings(settings.with_(sqlite_synchronous="NORMAL"))
    await s.start()
    yield s
    await s.close()


@dataclass
class Made:
    id: str
    reference: str
    address_hash: str


async def make_conversation(
    store: Store, settings: Settings, started: datetime, *, address: str = "a" * 64,
    texts: tuple[str, ...] = ("Hoi, ik ben Sanne uit Utrecht", "Hoi Sanne, ik ben Vera"),
    paired: bool = True, age: int | None = 15, topic: str | None = "School",
    volunteer_id: str | None = None,
) -> Made:
    """A finished conversation started at `started`: waited 2 minutes, talked 20."""
    cid = references.new_alias().replace(" ", "")[:8].lower() + started.strftime("%y%m%d%H%M%S")
    cid = cid + f"{abs(hash((cid, address, texts))) % 10_000:04d}"
    reference = references.reference_for(settings.secret_key, cid)
    values: dict[str, Any] = {
        "id": cid, "alias": "Blauwe Vos", "address_hash": address, "status": "ended",
        "created_at": started,
        "paired_at": started + timedelta(minutes=2) if paired else None,
        "ended_at": started + timedelta(minutes=22 if paired else 5),
        "end_reason": "volunteer" if paired else "chatter",
        "volunteer_id": volunteer_id, "chatter_age": age, "topic": topic,
        # the chatter's own topic is free text and sealed, as the server stores it
        "chatter_topic": store.sealer.seal("iets over school", cid),
        "reference_hash": references.reference_hash(settings.secret_key, reference),
    }
    await store.conversations.start(values)
    if paired:
        for i, text in enumerate(texts):
            await store.messages.add(cid, "chatter" if i % 2 == 0 else "volunteer", text,
                                     started + timedelta(minutes=3 + i))
    return Made(cid, reference, address)
