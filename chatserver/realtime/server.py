"""The Socket.IO server, with a gate in front of event dispatch that the library lacks.

python-socketio hands a client's event to the namespace's `trigger_event` with the event name
as sent, and the namespace treats `connect` and `disconnect` as its own lifecycle calls: an
ordinary event *named* `connect` reached `on_connect` with the client's payload as `environ`,
so a client could choose its own address (and with `disconnect`, uncount a connection). Here
every event whose name is reserved, not a string, or missing is refused with `invalid` before
dispatch; lifecycle calls come only from the library's own CONNECT and DISCONNECT packets."""

from __future__ import annotations

import logging
from typing import Any

import socketio
from socketio import packet

from chatserver.errors import ChatError

log = logging.getLogger(__name__)

# The names Socket.IO reserves, on the server (python-socketio) and in the clients
# (python-socketio's and the JavaScript one's): never an application event.
RESERVED_EVENTS = frozenset({
    "connect", "connect_error", "disconnect", "disconnecting", "__disconnect_final",
    "newListener", "removeListener",
})


def refusal(data: Any) -> dict[str, Any] | None:
    """The `invalid` ack for an EVENT packet's data that is no application event, else None."""
    if not isinstance(data, list) or not data:
        return ChatError("invalid", "Het bericht heeft geen naam.").payload()
    name = data[0]
    if not isinstance(name, str):
        return ChatError("invalid", "De naam van het bericht moet tekst zijn.").payload()
    if name in RESERVED_EVENTS:
        return ChatError("invalid", "Die naam is voorbehouden aan de verbinding zelf.").payload()
    return None


class ChatServer(socketio.AsyncServer):
    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None,
                            data: Any) -> None:
        refused = refusal(data)
        if refused is None:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if not self.manager.is_connected(sid, namespace):
            return
        log.warning("refused an event with a reserved or malformed name on %s", namespace)
        if id is not None:
            await self._send_packet(eio_sid, self.packet_class(
                packet.ACK, namespace=namespace, id=id, data=[refused]))
