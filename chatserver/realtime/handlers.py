"""Turns actions into acks: ChatError becomes an error ack, anything else a generic one.

No exception, stack trace or payload text ever reaches a client or the log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.errors import ChatError

log = logging.getLogger(__name__)

Action = Callable[[str, Any], Awaitable[dict[str, Any]]]


async def answer(event: str, action: Action, sid: str, payload: Any) -> dict[str, Any]:
    try:
        return await action(sid, payload)
    except ChatError as err:
        return err.payload()
    except Exception as exc:
        log.error("event %s failed: %s", event, type(exc).__name__, exc_info=log.isEnabledFor(10))
        return ChatError("internal").payload()
