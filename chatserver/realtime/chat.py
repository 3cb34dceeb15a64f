"""Namespace `/chat`: anonymous young people.

The address is hashed on connect and never kept; timed-out or blocked chatters are refused."""

from __future__ import annotations

from typing import Any

import socketio

from chatserver.errors import ChatError, Refused
from chatserver.privacy.addresses import scope_address_hash
from chatserver.ratelimit import KeyedBuckets
from chatserver.realtime.handlers import answer
from chatserver.service import CHAT, ChatService


class ChatNamespace(socketio.AsyncNamespace):
    def __init__(self, service: ChatService) -> None:
        super().__init__(CHAT)
        self.service = service
        s = service.settings
        # New connections per address hash: a burst of 30, then one every 2 s.
        self.connects = KeyedBuckets(rate=0.5, burst=30)
        self._key = s.ip_hash_key
        self._proxies = s.trusted_proxies

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address_hash = scope_address_hash(environ.get("asgi.scope", {}), self._key, self._proxies)
        if not self.connects.take(address_hash, self.service.clock.monotonic()):
            raise Refused.of("rate_limited")
        await self.service.chatter_connect(sid, address_hash)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        await self.service.chatter_disconnect(sid)

    async def on_start(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await answer("start", self.service.start_chat, sid, data)

    async def on_message(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await answer("message", self.service.chatter_message, sid, data)

    async def on_typing(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await answer("typing", self.service.chatter_typing, sid, data)

    async def on_leave(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await answer("leave", self.service.leave, sid, data)

    async def on_resume(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await answer("resume", self.service.resume, sid, data)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        handler = getattr(self, f"on_{event}", None)
        if handler is None and event not in ("connect", "disconnect"):
            return ChatError("invalid", f"Onbekend bericht `{event[:40]}`.").payload()
        return await super().trigger_event(event, *args)
