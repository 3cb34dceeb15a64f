"""A Redis connection spoken to in RESP directly: the two hot paths of delivery between
workers (delivery.py), publishing socket.io events and receiving them.

redis-py opens it, so TLS, AUTH, the client name or a Unix socket are whatever the URL says,
as for every other Redis connection of the server; then redis-py lets go of it. Commands are
buffered and written once per turn of the event loop, without waiting for their replies; a
reader returns every reply and push that arrived, in order, parsed by hiredis.

Why not redis-py's own pipeline and PubSub: an event crossing workers (publish, its reply,
receive) cost 289 µs of CPU through them and 111 µs here (`bench/resp_bench.py`, both in one
run, median of 3): a pipeline object, a retry wrapper and timeout contexts per event. On two
workers sharing a core that was a good part of what a message crossing workers cost."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import hiredis
import redis.asyncio as aioredis

READ_CHUNK = 1 << 16


def command(*args: str | bytes) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


class RespConnection:
    """One connection to Redis, opened by redis-py (`open`), written and read here."""

    def __init__(self, conn: Any, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._conn = conn
        self._reader = reader
        self._writer = writer
        self._parser = hiredis.Reader()
        self._out: list[bytes] = []
        self._out_bytes = 0  # len of what is in _out, kept as it grows (read per publish)

    @classmethod
    async def open(cls, pool: aioredis.ConnectionPool) -> RespConnection:
        """A new connection made as `pool` makes its own (not kept in the pool)."""
        conn = pool.make_connection()
        await conn.connect()
        reader, writer = conn._reader, conn._writer
        if reader is None or writer is None:
            raise ConnectionError("Redis connection not open")
        return cls(conn, reader, writer)

    def write(self, data: bytes) -> None:
        """Buffer a command; what is buffered goes out in one write, after this turn of the
        event loop. Raises ConnectionError when the connection is closed."""
        if self._writer.transport.is_closing():
            raise ConnectionError("Redis connection closed")
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(data)
        self._out_bytes += len(data)

    def _flush(self) -> None:
        data, self._out, self._out_bytes = b"".join(self._out), [], 0
        if data and not self._writer.transport.is_closing():
            self._writer.write(data)

    @property
    def buffered(self) -> int:
        """Bytes written and not yet sent (Redis slow or away)."""
        return self._writer.transport.get_write_buffer_size() + self._out_bytes

    async def read(self) -> list[Any]:
        """The replies and pushes that arrived (at least one), in order; a Redis error
        reply is a `hiredis.ReplyError` in the list. ConnectionError when Redis closed."""
        replies: list[Any] = []
        while not replies:
            data = await self._reader.read(READ_CHUNK)
            if not data:
                raise ConnectionError("Redis closed the connection")
            self._parser.feed(data)
            while (reply := self._parser.gets()) is not False:
                replies.append(reply)
        return replies

    async def close(self) -> None:
        self._out, self._out_bytes = [], 0
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._conn.disconnect(), 2)
