"""What every part of the server works with, built once in `create_app` and passed along:
settings, clock, store, live state, redactor, outbox, this worker's connections, its
background state (tasks, timers, the per-conversation turns) and the staff sessions.

A layer takes the parts it needs from here, never through another layer's attributes."""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.actions.worker import Worker
from chatserver.auth import Sessions
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.connections import Connections
from chatserver.live import LiveState
from chatserver.outbox import Outbox
from chatserver.redaction_worker import RedactionWorker
from chatserver.store import Store


@dataclass(frozen=True)
class Context:
    settings: Settings
    clock: Clock
    store: Store
    live: LiveState
    redactor: RedactionWorker
    outbox: Outbox
    connections: Connections
    worker: Worker
    sessions: Sessions
