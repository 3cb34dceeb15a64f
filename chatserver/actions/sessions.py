"""Staff sessions and their sockets: logout closes the session's sockets on every worker; a
socket whose session ended (30 minutes unused, 12 hours after login) or was revoked is closed
by the next staff action on it and by the sweep (every 30 s), whichever comes first."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from chatserver.auth import StaffMember
from chatserver.connections import StaffConnection
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.live import LiveUnavailable

log = logging.getLogger(__name__)

# How often each worker checks the sessions of its staff sockets.
SWEEP_SECONDS = 30.0
# How long a staff action trusts the store's last word that its session is open (not revoked).
RECHECK_SECONDS = 30.0


async def logout_sockets(ctx: Context, member: StaffMember) -> None:
    """Logout revokes at once: the session's live sockets are closed too, on every worker."""
    try:
        await ctx.live.publish("logout", {"session": member.token_hash})
    except LiveUnavailable:
        log.warning("logout not published: other workers keep the session's sockets")


async def disconnect_session(ctx: Context, token_hash: str) -> None:
    """This worker's sockets of one session, closed."""
    for sid in ctx.connections.of_session(token_hash):
        await ctx.outbox.disconnect_staff(sid)


async def require_open(ctx: Context, conn: StaffConnection) -> None:
    """Every staff action: the socket's session must still be open, and the action counts as a
    use of it. Otherwise the socket is closed and the action refused with `unauthorized`.

    The end of the session is known on the socket: an expired one is refused at once. Whether
    it was revoked elsewhere (an account disabled on the command line; logout is told to every
    worker at once) is asked of the store at most every `RECHECK_SECONDS`, so that a volunteer's
    messages do not each cost a query."""
    now = ctx.clock.now()
    ends, checked = conn.session_ends, conn.session_checked_at
    if ends is not None and checked is not None and now < ends and (
        (now - checked).total_seconds() < RECHECK_SECONDS
    ):
        return
    try:
        conn.session_ends = await ctx.sessions.verify(conn.member.token_hash, now, touch=True)
        conn.session_checked_at = now
    except ChatError:
        ctx.worker.spawn(ctx.outbox.disconnect_staff(conn.sid), "session-ended")
        raise


async def sweep(ctx: Context) -> int:
    """Close this worker's staff sockets whose session has ended or was revoked (a console
    left open does not outlive its session); returns how many were closed. First the uses
    of sessions by staff actions since the last sweep are written, in one transaction."""
    await ctx.sessions.save_touches()
    now = ctx.clock.now()
    closed = 0
    verdicts: dict[str, datetime | None] = {}
    for conn in list(ctx.connections.staff.values()):
        th = conn.member.token_hash
        if th not in verdicts:
            try:
                verdicts[th] = await ctx.sessions.verify(th, now, touch=False)
            except ChatError:
                verdicts[th] = None
        ends = verdicts[th]
        if ends is None:
            await ctx.outbox.disconnect_staff(conn.sid)
            closed += 1
        else:
            conn.session_ends, conn.session_checked_at = ends, now
    if closed:
        log.info("closed %d staff sockets whose session ended", closed)
    return closed


async def sweep_loop(ctx: Context) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await sweep(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next round tries again
            log.exception("session sweep failed")
