"""The actions without a server: the memory live state, a real SQLite store, an outbox that
records what would have been emitted. What a socket handler or HTTP route would call, called
directly with domain arguments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest

from chatserver.actions import (
    conversations,
    flagging,
    moderation,
    pairing,
    presence,
    relay,
    resume,
)
from chatserver.actions.worker import Worker
from chatserver.auth import Sessions, StaffMember, hash_password
from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.connections import ChatterConnection, Connections
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.live import MemoryLiveState
from chatserver.outbox import Outbox
from chatserver.redaction_worker import RedactionWorker
from chatserver.store import Store


class RecordingOutbox:
    """Every outbox call, recorded: (method, args, kwargs)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return record

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for method, args, _ in self.calls if method == name]


class FakeRedactor:
    """Redacts the word "Amsterdam" as a LOCATION."""

    status = "ready"

    async def redact(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        start = text.find("Amsterdam")
        if start < 0:
            return text, []
        end = start + len("Amsterdam")
        return text.replace("Amsterdam", "[plaats]"), [
            {"type": "LOCATION", "start": start, "end": end, "score": 1.0}]

    async def hints(self, text: str) -> list[dict[str, Any]] | None:
        return None


@dataclass
class World:
    ctx: Context
    outbox: RecordingOutbox
    clock: FrozenClock

    async def member(self, name: str, role: str = "volunteer") -> StaffMember:
        store = self.ctx.store
        uid = await store.staff.add_user(name, name.title(), role, hash_password("x" * 12),
                                         self.clock.now())
        return StaffMember(uid, name, name.title(), role, f"session-of-{name}")

    def chatter(self, sid: str = "c1", address_hash: str = "a" * 64) -> ChatterConnection:
        return self.ctx.connections.add_chatter(sid, address_hash)

    async def pair(self) -> None:
        for found in await self.ctx.live.pair(self.clock.now().timestamp()):
            await pairing.assign(self.ctx, found)


@pytest.fixture
async def world(settings: Settings, clock: FrozenClock) -> AsyncIterator[World]:
    store = Store.from_settings(settings)
    await store.start()
    outbox = RecordingOutbox()
    sessions = Sessions(store, timedelta(minutes=30), timedelta(hours=12))
    ctx = Context(settings, clock, store, MemoryLiveState(), cast(RedactionWorker, FakeRedactor()),
                  cast(Outbox, outbox), Connections(settings, clock), Worker(), sessions)
    try:
        yield World(ctx, outbox, clock)
    finally:
        await ctx.worker.close()
        await store.close()


async def test_start_pair_relay_end(world: World) -> None:
    ctx = world.ctx
    vera = await world.member("vera")
    chatter = world.chatter()
    started = await conversations.start(ctx, chatter, 15, "School")
    cid = started["conversation_id"]
    assert started["position"] == 1 and started["resume_token"]
    assert chatter.conversation_id == cid

    staff = await presence.connect(ctx, "s1", vera)
    await presence.available(ctx, staff, 1)
    await world.pair()
    assert world.outbox.named("paired") == [(cid, "Vera")]
    assert (await ctx.store.conversations.get(cid)).status == "active"  # type: ignore[union-attr]

    said = await relay.chatter_message(ctx, chatter, "hoi", None)
    answered = await relay.staff_message(ctx, vera, cid, "hallo, waar wil je over praten?")
    assert said["ok"] and answered["ok"]
    texts = [m.text for m in await ctx.store.messages.of_conversation(cid)]
    assert texts == ["hoi", "hallo, waar wil je over praten?"]
    assert [a[1]["text"] for a in world.outbox.named("message_to_chatter")] == [
        "hallo, waar wil je over praten?"]

    with pytest.raises(ChatError) as refused:
        await relay.staff_message(ctx, await world.member("otto"), cid, "ik ook")
    assert refused.value.code == "forbidden"

    left = await conversations.leave(ctx, chatter)
    assert left["reference"]
    row = await ctx.store.conversations.get(cid)
    assert row is not None and row.status == "ended" and row.end_reason == "chatter"
    with pytest.raises(ChatError) as ended:
        await relay.staff_message(ctx, vera, cid, "nog iets")
    assert ended.value.code == "conversation_ended"


async def test_a_block_ends_the_chat_and_refuses_the_address(world: World) -> None:
    ctx = world.ctx
    chatter = world.chatter(address_hash="b" * 64)
    cid = (await conversations.start(ctx, chatter, None, None))["conversation_id"]
    volunteer = await world.member("vera")
    with pytest.raises(ChatError) as refused:
        await moderation.block(ctx, volunteer, cid, 7, "dreigementen")
    assert refused.value.code == "forbidden"

    coordinator = await world.member("cora", "coordinator")
    with pytest.raises(ChatError) as first:  # no earlier time-out from this address
        await moderation.block(ctx, coordinator, cid, 7, "dreigementen")
    assert first.value.code == "no_earlier_timeout"
    blocked = await moderation.block(ctx, coordinator, cid, 7, "dreigementen",
                                     override_reason="dreigt iemand iets aan te doen")
    assert blocked["ok"] and blocked["id"]
    assert await ctx.live.conversation(cid) is None
    assert [args[1] for args in world.outbox.named("ended")] == ["blocked"]
    with pytest.raises(Refused):
        await conversations.connect(ctx, "c2", "b" * 64)
    entries = await ctx.store.audit.entries(action="block", limit=10)
    assert [e.conversation_id for e in entries] == [cid]

    lifted = await moderation.lift(ctx, coordinator, blocked["id"], None)
    assert lifted == {"ok": True}
    await conversations.connect(ctx, "c3", "b" * 64)  # welcome again


async def test_flag_redacts_the_stored_text_and_tells_the_volunteer(world: World) -> None:
    ctx = world.ctx
    vera = await world.member("vera")
    chatter = world.chatter()
    cid = (await conversations.start(ctx, chatter, None, None))["conversation_id"]
    await presence.available(ctx, await presence.connect(ctx, "s1", vera), 1)
    await world.pair()
    said = await relay.chatter_message(ctx, chatter, "ik woon in Amsterdam", None)

    otto = await world.member("otto")
    with pytest.raises(ChatError) as refused:
        await flagging.flag(ctx, otto, cid, said["id"])
    assert refused.value.code == "forbidden"

    flagged = await flagging.flag(ctx, vera, cid, said["id"])
    assert flagged["redacted"] and flagged["text"] == "ik woon in [plaats]"
    stored = await ctx.store.messages.get(cid, said["id"])
    assert stored is not None and stored.text == "ik woon in [plaats]" and stored.redacted
    assert world.outbox.named("redacted") == [(cid, vera.id, said["id"], "ik woon in [plaats]")]
    entries = await ctx.store.audit.entries(action="flag", limit=10)
    assert len(entries) == 1 and entries[0].actor == "vera"


async def test_the_resume_token_works_two_minutes_after_the_end(world: World) -> None:
    ctx = world.ctx
    chatter = world.chatter()
    started = await conversations.start(ctx, chatter, None, None)
    token = started["resume_token"]
    await conversations.leave(ctx, chatter)

    world.clock.advance(seconds=110)
    back = await resume.resume(ctx, world.chatter("c2"), token, None)
    assert back["status"] == "ended" and back["reference"] == started["reference"]

    world.clock.advance(seconds=11)
    with pytest.raises(ChatError) as late:
        await resume.resume(ctx, world.chatter("c3"), token, None)
    assert late.value.code == "not_found"


async def test_the_reference_is_stored_at_start(world: World) -> None:
    from chatserver.privacy.self_erasure import erase_by_reference

    ctx = world.ctx
    started = await conversations.start(ctx, world.chatter(), None, None)
    with pytest.raises(ChatError) as live:
        await erase_by_reference(ctx.store, ctx.clock, ctx.settings.secret_key,
                                 started["reference"])
    assert live.value.code == "conversation_active"
