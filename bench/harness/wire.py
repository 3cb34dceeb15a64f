"""A Socket.IO client over one raw websocket, speaking Engine.IO 4 / Socket.IO 5 directly
(`40/chat,` connect, `42/chat,7["message",{...}]` with ack ids, `2` -> `3` pings): a few hundred
bytes of state per socket, so that one core drives thousands of them."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

mono = time.monotonic


class Refused(Exception):
    pass


class WireClient:
    """One Socket.IO client over one raw websocket, in one namespace."""

    __slots__ = (
        "ack_prefix",
        "acks",
        "closed",
        "conv",
        "convs",
        "emit_prefix",
        "handler",
        "name",
        "next_ack",
        "nsp",
        "paired",
        "reader",
        "room",
        "ws",
    )

    def __init__(self, nsp: str, handler: Any) -> None:
        self.ws: Any = None
        self.nsp = nsp
        sep = "" if nsp == "/" else nsp + ","
        self.emit_prefix = "42" + sep
        self.ack_prefix = "43" + sep
        self.acks: dict[int, tuple[float, str, Any]] = {}
        self.next_ack = itertools.count(1).__next__
        self.handler = handler
        self.reader: asyncio.Task[None] | None = None
        self.closed = False
        self.convs: list[str] = []  # volunteer: assigned conversations
        self.conv: str | None = None  # chatter: its conversation
        self.room: str | None = None  # bare relay: its room
        self.paired: asyncio.Future[Any] | None = None
        self.name = ""

    async def connect(self, url: str, xff: str, auth: dict[str, Any] | None = None,
                      timeout: float = 30.0) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            url, additional_headers={"X-Forwarded-For": xff}, compression=None,
            max_size=1 << 20, ping_interval=None, open_timeout=timeout, close_timeout=1,
        )
        sep = "" if self.nsp == "/" else self.nsp + ","
        deadline = mono() + timeout
        first = await asyncio.wait_for(self.ws.recv(), timeout)
        if not first.startswith("0"):
            raise Refused(f"unexpected open packet {first[:40]!r}")
        await self.ws.send("40" + sep + (json.dumps(auth) if auth else ""))
        while True:
            msg = await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - mono()))
            if msg == "2":
                await self.ws.send("3")
            elif msg.startswith("40" + sep):
                break
            elif msg.startswith("44" + sep):
                raise Refused(msg[len(sep) + 2:][:200])
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws = self.ws
        try:
            async for msg in ws:
                if msg == "2":
                    await ws.send("3")
                    continue
                if not msg or msg[0] != "4":
                    continue
                kind = msg[1]
                rest = msg[2:]
                if rest.startswith("/"):
                    rest = rest[rest.index(",") + 1:]
                j = 0
                while j < len(rest) and rest[j].isdigit():
                    j += 1
                ack_id = int(rest[:j]) if j else None
                data: Any = json.loads(rest[j:]) if j < len(rest) else None
                if kind == "2":
                    if ack_id is not None:
                        await ws.send(f"{self.ack_prefix}{ack_id}[]")
                    self.handler(self, data[0], data[1] if len(data) > 1 else None)
                elif kind == "3" and ack_id is not None:
                    pending = self.acks.pop(ack_id, None)
                    if pending is not None:
                        self.handler.ack(self, pending, data[0] if data else None)
        except Exception:  # noqa: BLE001, S110 - a dropped socket is counted, not raised
            pass
        finally:
            self.closed = True

    def frame(self, event: str, data: Any, t: float, kind: str, extra: Any = None) -> str:
        ack_id = self.next_ack()
        self.acks[ack_id] = (t, kind, extra)
        return f"{self.emit_prefix}{ack_id}{json.dumps([event, data], separators=(',', ':'))}"

    async def call(self, event: str, data: Any, timeout: float = 30.0) -> Any:
        """Emit and wait for the ack (set-up only)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.ws.send(self.frame(event, data, mono(), "call", fut))
        return await asyncio.wait_for(fut, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 2)
            except Exception:  # noqa: BLE001, S110 - closing anyway
                pass
        if self.reader is not None:
            self.reader.cancel()
