"""What both namespaces share: events dispatched to handlers by name, every ack an answer.

An action's ChatError becomes an error ack, anything else a generic one; no exception, stack
trace or payload text ever reaches a client or the log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from chatserver.errors import ChatError, Refused

log = logging.getLogger(__name__)

Action = Callable[[str, Any], Awaitable[dict[str, Any]]]

# Called by the library itself, from CONNECT and DISCONNECT packets only: an event with one
# of these names never gets here (chatserver/realtime/server.py refuses it).
LIFECYCLE = ("connect", "disconnect")


async def answer(event: str, action: Action, sid: str, payload: Any) -> dict[str, Any]:
    try:
        return await action(sid, payload)
    except ChatError as err:
        return err.payload()
    except Exception as exc:
        log.error("event %s failed: %s", event, type(exc).__name__, exc_info=log.isEnabledFor(10))
        return ChatError("internal").payload()


class ActionNamespace(socketio.AsyncNamespace):
    """Each event name maps to one handler taking `(sid, payload)`, which parses and calls an
    action (chatserver/actions/); whatever the client sent (no payload, one, several), an ack
    with a code comes back."""

    actions: dict[str, Action]

    def admit(self, sid: str) -> ChatError | None:
        """A refusal before any action runs (a rate limit), or None."""
        return None

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            return await self._connect(*args)
        if event in LIFECYCLE:
            return await super().trigger_event(event, *args)
        sid, payloads = args[0], args[1:]
        refused = self.admit(sid)
        if refused is not None:
            return refused.payload()
        action = self.actions.get(event)
        if action is None:
            return ChatError("invalid", f"Onbekend bericht `{event[:40]}`.").payload()
        if len(payloads) > 1:
            return ChatError("invalid", "Stuur één object per bericht.").payload()
        return await answer(event, action, sid, payloads[0] if payloads else None)

    async def _connect(self, *args: Any) -> Any:
        """The namespace's connect handler; an unexpected failure (a database that is gone)
        refuses the connection with `internal` at once. Left to the library, it was only
        logged, and the client waited for an answer that never came."""
        try:
            return await super().trigger_event("connect", *args)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except Exception:
            log.exception("connect failed on %s", self.namespace)  # scrubbed by logs.py
            raise Refused.of("internal") from None
