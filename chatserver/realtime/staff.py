"""Namespace `/staff`: volunteers, supervisors, coordinators and admins.

Connect with a session token (auth or cookie); every event checks role and ownership. Each
event handler parses its payload and calls the action (chatserver/actions/)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from chatserver import events
from chatserver.actions import (
    conversations,
    flagging,
    moderation,
    presence,
    registration,
    relay,
    sessions,
    supervision,
)
from chatserver.auth import COOKIE
from chatserver.connections import StaffConnection
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import STAFF
from chatserver.realtime.handlers import ActionNamespace


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


def _conversation_id(data: dict[str, Any]) -> str:
    cid = events.ident(data, "conversation_id")
    assert cid is not None
    return cid


class StaffNamespace(ActionNamespace):
    def __init__(self, ctx: Context) -> None:
        super().__init__(STAFF)
        self.ctx = ctx
        self.clock = ctx.clock
        self.actions = {
            "available": self.available,
            "unavailable": self.unavailable,
            "message": self.message,
            "typing": self.typing,
            "flag": self.flag,
            "redact_span": self.redact_span,
            "end": self.end,
            "timeout": self.timeout,
            "register": self.register,
            "monitor": self.monitor,
            "unmonitor": self.unmonitor,
            "whisper": self.whisper,
            "block": self.block,
            "list_conversations": self.list_conversations,
        }

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            member = await self.ctx.sessions.check(_token(environ, auth), self.clock.now())
        except ChatError as err:
            raise Refused.of(err.code) from None
        await presence.connect(self.ctx, sid, member)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        await presence.disconnected(self.ctx, sid)

    async def _require(self, sid: str, payload: Any, role: str = "volunteer"
                       ) -> tuple[StaffConnection, dict[str, Any]]:
        """Who acts (at least `role`, one event from their bucket, their session still open)
        and the payload object."""
        conn = self.ctx.connections.require(sid, role)
        await sessions.require_open(self.ctx, conn)
        return conn, events.obj(payload)

    # -- presence ------------------------------------------------------------------------------

    async def available(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        capacity = events.integer(data, "capacity", 1, self.ctx.settings.max_capacity) or 1
        return await presence.available(self.ctx, conn, capacity)

    async def unavailable(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, _ = await self._require(sid, payload)
        return await presence.unavailable(self.ctx, conn)

    # -- the conversation ----------------------------------------------------------------------

    async def message(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        text = events.text(data, self.ctx.settings.max_text_length)
        return await relay.staff_message(self.ctx, conn.member, _conversation_id(data), text,
                                         from_sid=sid)

    async def typing(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        typing = events.boolean(data, "typing")
        return await relay.staff_typing(self.ctx, conn.member, _conversation_id(data), typing)

    async def end(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        return await conversations.end_by_staff(self.ctx, conn.member, _conversation_id(data))

    async def register(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        cid = events.ident(data, "conversation_id")
        age = events.integer(data, "age", 0, 120)
        topic = events.topic(data, self.ctx.settings.topics)
        return await registration.register(self.ctx, conn.member, cid, age, topic)

    # -- flagging ------------------------------------------------------------------------------

    async def flag(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        cid, mid = _conversation_id(data), events.ident(data, "message_id")
        assert mid is not None
        return await flagging.flag(self.ctx, conn.member, cid, mid)

    async def redact_span(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        cid, mid = _conversation_id(data), events.ident(data, "message_id")
        assert mid is not None
        span = events.span(data, self.ctx.settings.max_text_length)
        return await flagging.redact_span(self.ctx, conn.member, cid, mid, span)

    # -- moderation ----------------------------------------------------------------------------

    async def timeout(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload)
        s = self.ctx.settings
        minutes = events.integer(data, "minutes", s.timeout_min_minutes, s.timeout_max_minutes)
        return await moderation.timeout(self.ctx, conn.member, _conversation_id(data), minutes)

    async def block(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload, "coordinator")
        req = events.block_request(data)
        return await moderation.block(self.ctx, conn.member, req.conversation_id, req.days,
                                      req.reason, req.override_reason)

    # -- supervision ---------------------------------------------------------------------------

    async def monitor(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload, "supervisor")
        return await supervision.monitor(self.ctx, conn, _conversation_id(data))

    async def unmonitor(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload, "supervisor")
        return await supervision.unmonitor(self.ctx, conn, _conversation_id(data))

    async def whisper(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, data = await self._require(sid, payload, "supervisor")
        text = events.text(data, self.ctx.settings.max_text_length)
        return await supervision.whisper(self.ctx, conn, _conversation_id(data), text)

    async def list_conversations(self, sid: str, payload: Any) -> dict[str, Any]:
        conn, _ = await self._require(sid, payload, "supervisor")
        return await supervision.list_conversations(self.ctx, conn)
