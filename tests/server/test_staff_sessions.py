"""Issue #16 point 3: an open staff socket does not outlive its session. Every staff action and
the sweep (every 30 s) close a socket whose session ended (30 minutes unused, 12 hours after
login) or was revoked; a staff action counts as a use of the session."""

from __future__ import annotations

from pathlib import Path

from chatserver.actions import sessions
from chatserver.clock import FrozenClock
from chatserver.config import Settings
from tests.helpers import running, server_env


def settings_in(tmp_path: Path) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data"))


async def test_a_staff_action_after_the_idle_limit_is_refused_and_closes_the_socket(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    async with running(settings_in(tmp_path), clock) as server:
        vera = await server.staff("vera")
        assert (await vera.call("available", {}))["ok"]
        clock.advance(minutes=29)
        # In use: each action keeps the session open.
        assert (await vera.call("unavailable", {}))["ok"]
        clock.advance(minutes=29)
        assert (await vera.call("available", {}))["ok"]
        clock.advance(minutes=31)
        refused = await vera.call("available", {})
        assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"
        await vera.expect("disconnect")


async def test_the_sweep_closes_sockets_of_ended_and_revoked_sessions(tmp_path: Path) -> None:
    clock = FrozenClock()
    async with running(settings_in(tmp_path), clock) as server:
        ctx = server.components.ctx
        vera = await server.staff("vera")
        sam = await server.staff("sam")
        assert await sessions.sweep(ctx) == 0

        # Revoked elsewhere (an account disabled on the command line): no logout broadcast.
        account = await ctx.store.staff.user_by_name("sam")
        assert account is not None
        await ctx.store.staff.revoke_user_sessions(account.id, clock.now())
        assert await sessions.sweep(ctx) == 1
        await sam.expect("disconnect")
        assert not vera.seen("disconnect")

        clock.advance(minutes=31)  # vera's console stayed open, unused
        assert await sessions.sweep(ctx) == 1
        await vera.expect("disconnect")
        assert ctx.connections.staff == {}


async def test_the_absolute_limit_closes_a_socket_in_use(tmp_path: Path) -> None:
    clock = FrozenClock()
    async with running(settings_in(tmp_path), clock) as server:
        vera = await server.staff("vera")
        for _ in range(12 * 3):  # used every 20 minutes for twelve hours
            clock.advance(minutes=20)
            answer = await vera.call("available", {})
            if not answer["ok"]:
                break
        assert answer["error"]["code"] == "unauthorized"
        await vera.expect("disconnect")


def test_the_sweep_runs_every_30_seconds() -> None:
    assert sessions.SWEEP_SECONDS == 30


async def test_a_session_revoked_elsewhere_is_refused_by_the_next_action_within_30_s(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    async with running(settings_in(tmp_path), clock) as server:
        vera = await server.staff("vera")
        assert (await vera.call("available", {}))["ok"]
        store = server.components.store
        account = await store.staff.user_by_name("vera")
        assert account is not None
        await store.staff.revoke_user_sessions(account.id, clock.now())
        clock.advance(seconds=sessions.RECHECK_SECONDS)
        refused = await vera.call("unavailable", {})
        assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"
        await vera.expect("disconnect")


async def test_uses_by_staff_actions_are_written_together_by_the_sweep(tmp_path: Path) -> None:
    clock = FrozenClock()
    async with running(settings_in(tmp_path), clock) as server:
        ctx = server.components.ctx
        vera = await server.staff("vera")
        th = next(iter(ctx.connections.staff.values())).member.token_hash
        clock.advance(minutes=10)
        assert (await vera.call("available", {}))["ok"]
        row = await ctx.store.staff.session(th)
        assert row is not None and row.last_seen_at < clock.now().replace(tzinfo=None)
        await sessions.sweep(ctx)
        row = await ctx.store.staff.session(th)
        assert row is not None and row.last_seen_at == clock.now().replace(tzinfo=None)


async def test_staff_messages_do_not_each_ask_the_store_about_the_session(
    tmp_path: Path,
) -> None:
    async with running(settings_in(tmp_path)) as server:
        vera = await server.staff("vera")
        await vera.call("available", {})
        chatter = await server.chatter()
        cid = (await chatter.call("start", {}))["conversation_id"]
        await vera.expect("assigned")
        staff = server.components.store.staff
        asked = 0
        session = staff.session

        async def counted(token_hash: str) -> object:
            nonlocal asked
            asked += 1
            return await session(token_hash)

        staff.session = counted  # type: ignore[method-assign]
        try:
            for n in range(20):
                assert (await vera.call("message", {"conversation_id": cid,
                                                    "text": f"bericht {n}"}))["ok"]
        finally:
            staff.session = session  # type: ignore[method-assign]
        assert asked <= 1
