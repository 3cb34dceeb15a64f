"""The baseline: a bare python-socketio relay, served the way `chatserver serve` serves.

Each pair of sockets joins a room (`join` {"room"}); a `message` {"room", "text", ...} is
re-emitted to that room, skipping the sender, and acknowledged with {"ok": true}. Nothing is
stored, checked or encrypted: this is what the chat server's relay is measured against.

Same settings as the chat server: asgi mode under uvicorn with its defaults (uvloop and the
`websockets` sans-I/O protocol), no permessage-deflate, no HTTP compression, no logging, `gc.set_threshold(50000, 50,
100)` and `gc.freeze()` after start-up.

    python -m bench.bare_relay --port 8100
"""

from __future__ import annotations

import argparse
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def create_app() -> Any:
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=None,
        max_http_buffer_size=64 * 1024,
        ping_interval=15,
        ping_timeout=10,
        logger=False,
        engineio_logger=False,
        http_compression=False,
    )

    @sio.on("join")
    async def join(sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("room"), str):
            return {"ok": False, "error": {"code": "invalid"}}
        await sio.enter_room(sid, data["room"])
        return {"ok": True}

    @sio.on("message")
    async def message(sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("room"), str):
            return {"ok": False, "error": {"code": "invalid"}}
        await sio.emit("message", data, room=data["room"], skip_sid=sid)
        return {"ok": True}

    async def healthz(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gc.collect()
        gc.freeze()
        yield

    http = Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)
    return socketio.ASGIApp(sio, other_asgi_app=http, socketio_path="socket.io")


def main() -> None:
    p = argparse.ArgumentParser(description="bare python-socketio relay (benchmark baseline)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    args = p.parse_args()
    gc.set_threshold(50_000, 50, 100)
    uvicorn.run(
        create_app(), host=args.host, port=args.port, loop="auto", ws="auto",  # as chatserver: uvloop, websockets-sansio
        ws_per_message_deflate=False, ws_max_size=64 * 1024, access_log=False,
        log_level="warning", lifespan="on", timeout_graceful_shutdown=3,
        server_header=False, date_header=False,
    )


if __name__ == "__main__":
    main()
