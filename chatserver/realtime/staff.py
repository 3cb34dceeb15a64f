"""Namespace `/staff`: volunteers, supervisors, coordinators and admins.

Connect with a session token (auth or cookie); every event checks role and ownership."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from chatserver.auth import COOKIE, Sessions
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import STAFF
from chatserver.realtime.handlers import ActionNamespace
from chatserver.service import ChatService


def _token(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    raw = environ.get("HTTP_COOKIE")
    if not raw:
        return None
    try:
        cookie = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel else None


class StaffNamespace(ActionNamespace):
    def __init__(self, ctx: Context, service: ChatService, sessions: Sessions) -> None:
        super().__init__(STAFF)
        self.service = service
        self.clock = ctx.clock
        self.sessions = sessions
        s = service
        self.actions = {
            "available": s.available,
            "unavailable": s.unavailable,
            "message": s.staff_message,
            "typing": s.staff_typing,
            "flag": s.flag,
            "redact_span": s.redact_span,
            "end": s.staff_end,
            "timeout": s.timeout,
            "register": s.register,
            "monitor": s.monitor,
            "unmonitor": s.unmonitor,
            "whisper": s.whisper,
            "block": s.block,
            "list_conversations": s.list_conversations,
        }

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            member = await self.sessions.check(_token(environ, auth), self.clock.now())
        except ChatError as err:
            raise Refused.of(err.code) from None
        await self.service.staff_connect(sid, member)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        await self.service.staff_disconnect(sid)
