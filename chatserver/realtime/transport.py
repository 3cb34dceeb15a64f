"""How Socket.IO packets are encoded and handed to connections, tuned for a chat relay.

Two extension points python-socketio offers for exactly this:

- `ChatPacket`, the server's `serializer`: JSON only. The server never sends bytes, so the
  recursive search for binary attachments that the default packet runs over every outgoing
  payload is skipped (a `bytes` value would now fail to encode instead of travelling as an
  attachment), and the JSON encoder and decoder are built once instead of once per packet.
  Integers in received JSON stay limited to 100 digits, as Engine.IO's own decoder does.
- `DirectManager`, the client manager of a single process: an event goes to its recipients
  one after the other, in order, on the emitting task. The default manager starts a task per
  recipient and waits for all of them; sending only appends to each connection's outgoing
  queue, so those tasks bought nothing but their cost. An event for nobody (a volunteer's own
  message, echoed to supervisors when none is monitoring) is not even encoded.

Several workers use `chatserver.live.delivery.TargetedManager`, which builds on this one for
local recipients and reaches other workers only for the rooms they hold.

An acknowledgement handler may be a `NamedAck`: a name registered on every worker
(`register_ack`) with JSON arguments. Unlike a closure it can travel with the event, so a
socket on another worker is acknowledged *there*, without a trip back to the emitting worker
(the volunteer's message: the chatter's worker records the delivery itself)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet


def _safe_int(digits: str) -> int:
    if len(digits) > 100:
        raise ValueError("Integer is too large")
    return int(digits)


class _Json:
    """The two functions of the `json` module that a Socket.IO packet uses."""

    _encoder = json.JSONEncoder(separators=(",", ":"))
    _decoder = json.JSONDecoder(parse_int=_safe_int)

    @classmethod
    def dumps(cls, obj: Any, **_: Any) -> str:
        return cls._encoder.encode(obj)

    @classmethod
    def loads(cls, s: str | bytes, **_: Any) -> Any:
        if not isinstance(s, str):
            s = bytes(s).decode("utf-8")
        return cls._decoder.decode(s)


class ChatPacket(sio_packet.Packet):
    uses_binary_events = False
    json = _Json


log = logging.getLogger(__name__)


class NamedAck:
    """An acknowledgement handler by name (registered with `DirectManager.register_ack`) and
    JSON-serialisable arguments; the client's own acknowledgement arguments follow them."""

    __slots__ = ("args", "name")

    def __init__(self, name: str, *args: Any) -> None:
        self.name = name
        self.args = args


class DirectManager(socketio.AsyncManager):
    def __init__(self) -> None:
        super().__init__()
        self.acks: dict[str, Callable[..., Any]] = {}

    def register_ack(self, name: str, handler: Callable[..., Any]) -> None:
        self.acks[name] = handler

    def bind_ack(self, name: Any, args: Any) -> Callable[..., Any] | None:
        """The handler of a named acknowledgement, with its arguments; None (logged) when the
        name is unknown here (a worker of another release)."""
        handler = self.acks.get(name) if isinstance(name, str) else None
        if handler is None or not isinstance(args, list | tuple):
            log.warning("acknowledgement handler %r unknown: acknowledgement ignored", name)
            return None
        return partial(handler, *args)

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        if isinstance(callback, NamedAck):
            callback = self.bind_ack(callback.name, callback.args)
        if callback is not None:
            # Each recipient needs a packet with its own acknowledgement id: the library's way.
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, to=to, **kwargs)
            return
        room = to or room
        if namespace not in self.rooms:
            return
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, room)
                      if sid not in skip]
        if not recipients:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        packets = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in parts]
        for eio_sid in recipients:
            for pkt in packets:
                await self.server._send_eio_packet(eio_sid, pkt)
