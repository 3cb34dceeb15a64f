"""The RESP connection that delivery between workers publishes and listens through
(chatserver/live/resp.py), against a real redis-server."""

from __future__ import annotations

import hiredis
import pytest
import redis.asyncio as aioredis

from chatserver.live.resp import RespConnection, command
from tests.live.redis_server import RedisServer


def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert command("SPUBLISH", "ch", b"a\r\nb") == (
        b"*3\r\n$8\r\nSPUBLISH\r\n$2\r\nch\r\n$4\r\na\r\nb\r\n")
    assert command("PING", "é") == b"*2\r\n$4\r\nPING\r\n$2\r\n\xc3\xa9\r\n"


async def test_replies_come_back_in_order_across_reads_errors_as_values(
        redis_server: RedisServer) -> None:
    pool = aioredis.ConnectionPool.from_url(redis_server.url)
    conn = await RespConnection.open(pool)
    try:
        # 2,000 commands buffered in one turn of the loop: one write, replies in several reads
        for i in range(1000):
            conn.write(command("ECHO", f"{i:04d}" * 20))
            conn.write(command("SPUBLISH", "resp-test:nobody", b"x" * 100))
        conn.write(command("NO-SUCH-COMMAND"))
        conn.write(command("ECHO", "last"))
        replies: list[object] = []
        reads = 0
        while len(replies) < 2002:
            replies += await conn.read()
            reads += 1
        assert replies[0:2000:2] == [f"{i:04d}".encode() * 20 for i in range(1000)]
        assert replies[1:2000:2] == [0] * 1000  # nobody listens to that channel
        assert isinstance(replies[2000], hiredis.ReplyError)  # a value, not a raised error
        assert replies[2001] == b"last"
        assert reads > 1  # the replies did not all arrive in one chunk: they were put together
    finally:
        await conn.close()
        await pool.disconnect()


async def test_a_closed_connection_refuses_writes_and_reads(redis_server: RedisServer) -> None:
    pool = aioredis.ConnectionPool.from_url(redis_server.url)
    conn = await RespConnection.open(pool)
    conn.write(command("CLIENT", "ID"))
    (own_id,) = await conn.read()
    conn.write(command("CLIENT", "KILL", "ID", str(own_id), "SKIPME", "no"))  # closes it
    with pytest.raises(ConnectionError):
        for _ in range(3):
            await conn.read()
    await conn.close()
    with pytest.raises(ConnectionError):
        conn.write(command("PING"))
    await pool.disconnect()
