"""The outbound event definitions and their checker (chatserver/events.py): a table of
payloads that conform and of payloads that break the contract."""

from __future__ import annotations

from typing import Any

import pytest

from chatserver import events

ASSIGNED = {"conversation_id": "c1", "chatter": "Blauwe vos", "contact_count": 2,
            "started_at": "2026-12-01T10:00:00.000Z"}
MESSAGE = {"id": "m1", "conversation_id": "c1", "from": "volunteer", "text": "hoi",
           "ts": "2026-12-01T10:00:00.000Z"}


@pytest.mark.parametrize(("namespace", "event", "payload"), [
    ("/chat", "queue", {"position": 3}),
    ("/chat", "message", MESSAGE),
    ("/chat", "ended", {"conversation_id": "c1", "reason": "timeout", "reference": "ABC"}),
    ("/staff", "assigned", ASSIGNED),
    ("/staff", "assigned", {**ASSIGNED, "age": 14, "topic": "school", "timeout_count": 1}),
    ("/staff", "message", {**MESSAGE, "from": "chatter"}),
    ("/staff", "hints", {"conversation_id": "c1", "message_id": "m1",
                         "entities": [{"type": "PERSON", "start": 0, "end": 4}]}),
    ("/staff", "state", {"user": {"username": "vera", "display_name": "Vera", "role": "volunteer"},
                         "available": False, "capacity": 1, "waiting": 0,
                         "conversations": [{**ASSIGNED, "status": "active", "volunteer": None}]}),
    ("/staff", "conversations_changed", {}),
])
def test_conforming_payloads_pass(namespace: str, event: str, payload: Any) -> None:
    assert events.violations(namespace, event, payload) == []


@pytest.mark.parametrize(("namespace", "event", "payload", "problem"), [
    ("/chat", "queue", {"position": "3"}, "is not int"),
    ("/chat", "queue", {"position": True}, "is not an int"),
    ("/chat", "queue", {}, "missing `position`"),
    ("/chat", "message", {**MESSAGE, "from": "supervisor"}, "not in"),
    ("/chat", "ended", {"conversation_id": "c1", "reason": "chatter"}, "missing `reference`"),
    ("/staff", "ended", {"conversation_id": "c1", "reason": "chatter", "reference": "ABC"},
     "unexpected `reference`"),
    ("/staff", "assigned", {**ASSIGNED, "address_hash": "ab12"}, "unexpected `address_hash`"),
    ("/staff", "hints", {"conversation_id": "c1", "message_id": "m1", "entities": [{}]},
     "missing `type`"),
    ("/staff", "queue", {"position": 1}, "no such outbound event"),
    ("/staff", "whisper", ["c1"], "is not an object"),
])
def test_payloads_that_break_the_contract_are_named(namespace: str, event: str, payload: Any,
                                                     problem: str) -> None:
    found = events.violations(namespace, event, payload)
    assert any(problem in p for p in found), found
