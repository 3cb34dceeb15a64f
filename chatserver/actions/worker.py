"""The background state of one worker process: its tasks, grace timers, pairing wish, the
per-conversation turns and what it last told its own clients about the queue.

Hung on the Context as `ctx.worker`; the actions use it, lifecycle.py starts and stops it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.live import LiveUnavailable
from chatserver.locks import KeyedLock

log = logging.getLogger(__name__)


class Worker:
    def __init__(self) -> None:
        # Storing and delivering a message, `resume` switching the chatter's socket and `end`
        # take turns per conversation: a message is in the resume reply or reaches the new
        # socket, never neither and never both; and none is stored after the end.
        self.turns = KeyedLock()
        # What this worker last told its own clients: queue positions, the queue's size.
        self.positions: dict[str, int] = {}
        self.waiting = -1
        self.queue_lock = asyncio.Lock()
        self.queue_dirty = False
        # Display names of volunteers, as chatters see them.
        self.names: dict[str, str] = {}
        # The redactor works one message at a time anyway; letting only a few flags at once
        # near the database keeps a burst of flags from queueing ahead of chat messages.
        self.flag_slots = asyncio.Semaphore(2)
        self.pair_wanted = asyncio.Event()
        self.loops: list[asyncio.Task[None]] = []
        self.grace: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    # -- pairing -------------------------------------------------------------------------------

    def request_pairing(self) -> None:
        """Something changed that may allow a pairing: the pairing loop runs another round."""
        self.pair_wanted.set()

    # -- tasks ---------------------------------------------------------------------------------

    def run_loop(self, coro: Awaitable[None], name: str) -> None:
        """A loop that runs until `close`."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.loops.append(task)

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        """Work after an acknowledgement; a failure is logged (by type only)."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed: %s", task.get_name(),
                      type(task.exception()).__name__)

    # -- grace periods -------------------------------------------------------------------------

    def start_grace(
        self, key: str, seconds: float, then: Callable[[str], Awaitable[None]], arg: str
    ) -> None:
        """After `seconds`, `then(arg)` unless `cancel_grace(key)` comes first."""
        self.cancel_grace(key)

        async def run() -> None:
            await asyncio.sleep(seconds)
            self.grace.pop(key, None)  # `then` may cancel this key's timer: not itself
            while True:
                try:
                    await then(arg)
                    break
                except LiveUnavailable:
                    await asyncio.sleep(1)  # decide once Redis is back
                except Exception:  # logged here: nobody awaits a grace timer
                    log.exception("grace timer %s failed", key[:2])
                    break

        self.grace[key] = asyncio.create_task(run(), name=f"grace-{key[:2]}")

    def cancel_grace(self, key: str) -> None:
        task = self.grace.pop(key, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = [*self.grace.values(), *self.tasks, *self.loops]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.grace.clear()
        self.tasks.clear()
        self.loops.clear()
