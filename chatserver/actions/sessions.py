"""Staff sessions and their sockets: logout closes the session's sockets on every worker."""

from __future__ import annotations

import logging

from chatserver.auth import StaffMember
from chatserver.context import Context
from chatserver.live import LiveUnavailable

log = logging.getLogger(__name__)


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
