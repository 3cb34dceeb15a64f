"""A Socket.IO client for tests: one namespace, every received event recorded, so that a test
awaits what it expects (`expect`) instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import socketio

from chatserver import events as event_schemas

TIMEOUT = 10.0


class Peer:
    """One Socket.IO client on one namespace, with every received event recorded."""

    def __init__(self, base_url: str, namespace: str, **client: Any) -> None:
        """`client`: more options of `socketio.AsyncClient` (`ssl_verify`, `http_session`)."""
        self.base_url = base_url
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False, **client)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Condition()
        self.connect_error: Any = None
        self.token: str | None = None  # a staff member's session token
        # Every event received, checked against its definition in chatserver/events.py.
        self.violations: list[str] = []

        @self.sio.on("*", namespace=namespace)
        async def any_event(event: str, data: Any = None) -> None:
            self.violations += event_schemas.violations(namespace, event, data)
            async with self._changed:
                self.events[event].append(data)
                self._changed.notify_all()

        @self.sio.on("disconnect", namespace=namespace)
        async def disconnected(reason: Any = None) -> None:
            async with self._changed:
                self.events["disconnect"].append(reason)
                self._changed.notify_all()

        @self.sio.on("connect_error", namespace=namespace)
        async def refused(data: Any = None) -> None:
            async with self._changed:
                self.connect_error = data
                self._changed.notify_all()

    async def connect(self, auth: Any = None, headers: dict[str, str] | None = None,
                      transports: Sequence[str] = ("websocket",)) -> None:
        await self.sio.connect(
            self.base_url, namespaces=[self.namespace], transports=list(transports), auth=auth,
            headers=headers or {}, wait_timeout=TIMEOUT,
        )

    async def call(self, event: str, data: Any = None, timeout: float = TIMEOUT) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    async def expect(self, event: str, where: Callable[[Any], bool] | None = None,
                     timeout: float = TIMEOUT) -> Any:
        """The first recorded `event` (matching `where`) not yet consumed; waits for it."""
        async def found() -> Any:
            async with self._changed:
                while True:
                    for i, data in enumerate(self.events[event]):
                        if where is None or where(data):
                            return self.events[event].pop(i)
                    await self._changed.wait()

        return await asyncio.wait_for(found(), timeout)

    def seen(self, event: str) -> list[Any]:
        return list(self.events[event])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
