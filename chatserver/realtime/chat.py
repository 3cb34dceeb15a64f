"""Namespace `/chat`: anonymous young people.

The address is hashed on connect and never kept; timed-out or blocked chatters are refused.
Per address hash: new connections, simultaneous connections and events are all limited."""

from __future__ import annotations

from typing import Any

from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import CHAT
from chatserver.privacy.addresses import scope_address_hash
from chatserver.ratelimit import KeyedBuckets
from chatserver.realtime.handlers import ActionNamespace
from chatserver.service import ChatService


class ChatNamespace(ActionNamespace):
    def __init__(self, ctx: Context, service: ChatService) -> None:
        super().__init__(CHAT)
        self.service = service
        self.clock = ctx.clock
        self.actions = {
            "start": service.start_chat,
            "message": service.chatter_message,
            "typing": service.chatter_typing,
            "leave": service.leave,
            "resume": service.resume,
        }
        s = ctx.settings
        # New connections per address hash.
        self.connects = KeyedBuckets(rate=s.address_connects_per_second,
                                     burst=s.address_connects_burst)
        # Events across all connections of one address hash (per connection: ChatService).
        self.events = KeyedBuckets(rate=s.address_rate_per_second, burst=s.address_rate_burst)
        self.max_connections = s.max_connections_per_address
        self._open: dict[str, int] = {}
        self._address_of: dict[str, str] = {}
        self._key = s.ip_hash_key
        self._proxies = s.trusted_proxies

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address_hash = scope_address_hash(environ.get("asgi.scope", {}), self._key, self._proxies)
        if not self.connects.take(address_hash, self.clock.monotonic()):
            raise Refused.of("rate_limited")
        if self._open.get(address_hash, 0) >= self.max_connections:
            raise Refused({"code": "too_many_connections",
                           "message": "Er zijn al te veel chats open vanaf deze verbinding."})
        # Counted before the first await, so simultaneous connects cannot all slip through.
        self._open[address_hash] = self._open.get(address_hash, 0) + 1
        self._address_of[sid] = address_hash
        try:
            await self.service.chatter_connect(sid, address_hash)
        except BaseException:
            self._release(sid)
            raise

    def _release(self, sid: str) -> None:
        address_hash = self._address_of.pop(sid, None)
        if address_hash is None:
            return
        left = self._open.get(address_hash, 0) - 1
        if left > 0:
            self._open[address_hash] = left
        else:
            self._open.pop(address_hash, None)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._release(sid)
        await self.service.chatter_disconnect(sid)

    def admit(self, sid: str) -> ChatError | None:
        address_hash = self._address_of.get(sid)
        if address_hash is not None and not self.events.take(
            address_hash, self.clock.monotonic()
        ):
            return ChatError("rate_limited")
        return None
