"""`create_app(settings)`: the ASGI app; its lifespan starts and stops everything it owns.

Socket.IO (python-socketio, asgi mode) in front, Starlette for HTTP behind it."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import socketio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from chatserver.actions import lifecycle, relay
from chatserver.actions.worker import Worker
from chatserver.auth import Sessions
from chatserver.clock import Clock, OffsetClock
from chatserver.config import Settings
from chatserver.connections import Connections
from chatserver.context import Context
from chatserver.live import LiveState, MemoryLiveState
from chatserver.metrics import Meter, MeteredOutbox, MeteredRedactionWorker
from chatserver.privacy.retention import RetentionLoop
from chatserver.realtime.chat import ChatNamespace
from chatserver.realtime.server import ChatServer
from chatserver.realtime.staff import StaffNamespace
from chatserver.realtime.transport import ChatPacket, DirectManager
from chatserver.redaction_worker import RedactionWorker
from chatserver.store import Store
from chatserver.store.sealing import Sealer
from chatserver.web import api as api_module
from chatserver.web import erase, pages
from chatserver.web import metrics as metrics_web
from chatserver.web.headers import BodyLimit, SecurityHeaders
from chatserver.web.moderation import routes as moderation_routes
from chatserver.web.privacy import routes as privacy_routes

log = logging.getLogger(__name__)


@dataclass
class Components:
    """What tests and the lifespan reach: the context and what is built on it."""

    ctx: Context
    sio: socketio.AsyncServer
    sessions: Sessions

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def live(self) -> LiveState:
        return self.ctx.live

    @property
    def redactor(self) -> RedactionWorker:
        return self.ctx.redactor

    @property
    def connections(self) -> Connections:
        return self.ctx.connections

    @property
    def worker(self) -> Worker:
        return self.ctx.worker


def build_sio(settings: Settings) -> socketio.AsyncServer:
    manager: socketio.AsyncManager
    if settings.redis_url:
        # Events reach only the workers holding a socket of their room (issue #17).
        from chatserver.live.delivery import TargetedManager

        manager = TargetedManager(settings.redis_url)
    else:
        manager = DirectManager()
    sio = ChatServer(
        async_mode="asgi",
        client_manager=manager,
        serializer=ChatPacket,
        # None: same origin only (Host must match Origin); browsers elsewhere are refused.
        cors_allowed_origins=list(settings.allowed_origins) or None,
        max_http_buffer_size=settings.max_http_buffer_size,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        # Logger objects, not False: with False each library attaches a handler of its own
        # that bypasses the privacy filter (chatserver/logs.py).
        logger=logging.getLogger("socketio.server"),
        engineio_logger=logging.getLogger("engineio.server"),
        http_compression=False,
    )
    # Engine.IO hands each packet to Socket.IO inline; Socket.IO still runs every event handler
    # in a task of its own. With both spawning, each inbound packet (every delivery
    # acknowledgement too) cost two tasks.
    sio.eio.async_handlers = False
    return sio


def build_live(settings: Settings, sealer: Sealer | None = None) -> LiveState:
    """Redis when several workers share the work, this process's memory otherwise.

    On Redis the chatter's topic and address hash are sealed under the data keys, which
    every worker shares."""
    if settings.redis_url:
        from chatserver.live.redis import RedisLiveState

        return RedisLiveState(settings.redis_url,
                              heartbeat_ttl=3 * settings.worker_heartbeat_seconds,
                              sealer=sealer or Sealer(settings.data_keys))
    return MemoryLiveState()


def create_app(settings: Settings, clock: Clock | None = None,
               live: LiveState | None = None) -> Any:
    if clock is None:
        clock = OffsetClock(settings.test_clock_file) if settings.test_clock_file else Clock()
    store = Store.from_settings(settings)
    live = live or build_live(settings, store.sealer)
    sio = build_sio(settings)
    meter = Meter()
    redactor = MeteredRedactionWorker(meter, enabled=settings.redactor_enabled)
    sessions = Sessions(store, timedelta(minutes=settings.session_idle_minutes),
                        timedelta(hours=settings.session_max_hours),
                        require_totp_for=settings.require_totp_for)
    ctx = Context(settings, clock, store, live, redactor, MeteredOutbox(sio, meter, clock),
                  Connections(settings, clock), Worker(), sessions)
    ctx.outbox.on_ack(relay.DELIVERED, relay.delivered(ctx))
    sio.register_namespace(ChatNamespace(ctx))
    sio.register_namespace(StaffNamespace(ctx))
    api = api_module.Api(ctx)
    components = Components(ctx, sio, sessions)
    retention = RetentionLoop(settings, store, clock, redactor)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        start_delivery = getattr(sio.manager, "start", None)
        if start_delivery is not None:
            start_delivery()  # listening before the first socket, not at it
        await lifecycle.start(ctx)
        redactor.start()
        retention.start()
        # Long-lived objects out of the collector's way: gen-2 pauses wreck latency (FACTS).
        gc.collect()
        gc.freeze()
        log.info("chat server ready")
        try:
            yield
        finally:
            await retention.close()
            await lifecycle.stop(ctx)
            await redactor.close()
            await live.close()
            close_delivery = getattr(sio.manager, "close", None)
            if close_delivery is not None:
                await close_delivery()
            await store.close()
            log.info("chat server stopped")

    http = Starlette(
        routes=[*api.routes(), *moderation_routes(api), *privacy_routes(api), *erase.routes(ctx),
                *metrics_web.routes(ctx, meter), *pages.routes()],
        lifespan=lifespan,
        exception_handlers={
            404: api_module.not_found,
            405: api_module.method_not_allowed,
            HTTPException: api_module.not_found,
            Exception: api_module.internal,
        },
    )
    http.state.components = components
    guarded = SecurityHeaders(http, settings.embed_origins, settings.trusted_proxies)
    sio_app = socketio.ASGIApp(sio, other_asgi_app=guarded, socketio_path="socket.io")
    app = BodyLimit(sio_app, max_body=settings.max_http_buffer_size)
    app.components = components  # type: ignore[attr-defined]
    return app
