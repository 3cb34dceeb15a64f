"""Namespace `/chat`: anonymous young people.

The address is hashed on connect and never kept; timed-out or blocked chatters are refused.
Per address hash: new connections, simultaneous connections and events are all limited.
Each event handler parses its payload and calls the action (chatserver/actions/)."""

from __future__ import annotations

from typing import Any

from chatserver import events
from chatserver.actions import conversations, relay, resume
from chatserver.context import Context
from chatserver.errors import ChatError, Refused
from chatserver.events import CHAT
from chatserver.privacy.addresses import scope_address_hash
from chatserver.ratelimit import KeyedBuckets
from chatserver.realtime.handlers import ActionNamespace


class ChatNamespace(ActionNamespace):
    def __init__(self, ctx: Context) -> None:
        super().__init__(CHAT)
        self.ctx = ctx
        self.clock = ctx.clock
        self.actions = {
            "start": self.start,
            "message": self.message,
            "typing": self.typing,
            "leave": self.leave,
            "resume": self.resume,
            "erase": self.erase,
        }
        s = ctx.settings
        # New connections per address hash.
        self.connects = KeyedBuckets(rate=s.address_connects_per_second,
                                     burst=s.address_connects_burst)
        # Events across all connections of one address hash (per connection: Connections).
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
            await conversations.connect(self.ctx, sid, address_hash)
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
        await conversations.disconnected(self.ctx, sid)

    def admit(self, sid: str) -> ChatError | None:
        address_hash = self._address_of.get(sid)
        if address_hash is not None and not self.events.take(
            address_hash, self.clock.monotonic()
        ):
            return ChatError("rate_limited")
        return None

    # -- events ----------------------------------------------------------------------------------

    async def start(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        data = events.obj(payload)
        age = events.integer(data, "age", 0, 120)
        topic = events.optional_text(data, "topic", 100)
        if topic is not None:  # free text; one of the list is kept as the list spells it
            topic = events.canonical_topic(topic, self.ctx.settings.topics) or topic
        return await conversations.start(self.ctx, chatter, age, topic)

    async def message(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        data = events.obj(payload)
        text = events.text(data, self.ctx.settings.max_text_length)
        client_id = events.ident(data, "client_id", required=False)
        return await relay.chatter_message(self.ctx, chatter, text, client_id)

    async def typing(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        typing = events.boolean(events.obj(payload), "typing")
        return await relay.chatter_typing(self.ctx, chatter, typing)

    async def leave(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        events.obj(payload)
        return await conversations.leave(self.ctx, chatter)

    async def resume(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        data = events.obj(payload)
        token = data.get("resume_token")
        if not isinstance(token, str) or not 0 < len(token) <= 200:
            raise ChatError("invalid", "`resume_token` ontbreekt of is ongeldig.")
        after = events.ident(data, "after", required=False)
        return await resume.resume(self.ctx, chatter, token, after)

    async def erase(self, sid: str, payload: Any) -> dict[str, Any]:
        chatter = self.ctx.connections.chatter(sid)
        events.obj(payload)
        return await conversations.erase(self.ctx, chatter)
