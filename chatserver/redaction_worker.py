"""The redaction library, loaded once in a worker process in the background, off the event loop.

A separate process (not a thread) so that the pipeline's CPU time never holds the server's GIL:
messages keep flowing while flags run. A flag that arrives while it is loading waits for it."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from chatserver.errors import ChatError
from chatserver.lifeline import die_with_parent

log = logging.getLogger(__name__)

Entity = dict[str, Any]

# Hints are a convenience: beyond this many waiting for the worker, or while a flag waits, a
# message simply gets none, so that flags never queue behind a backlog of hints.
MAX_HINTS_IN_FLIGHT = 4

# -- in the worker process ---------------------------------------------------------------------


def _start_worker(parent: int, log_level: int) -> None:
    """First thing in the worker: it dies with the server, leaves Ctrl-C (SIGINT to the whole
    process group) to the server, which ends it, and logs through the privacy filter."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from chatserver import logs

    logs.configure(log_level)


_redactor: Any = None
_research: Any = None  # the strict profile, built on the first research copy (retention only)


def _load() -> bool:
    global _redactor
    if _redactor is None:
        from redaction import Redactor

        _redactor = Redactor()
        _adopt_library_handlers()
    return True


def _redact_research(text: str) -> str:
    global _research
    if _research is None:
        from redaction import Redactor

        _research = Redactor(profile="research")
        _adopt_library_handlers()
    result: str = _research.redact(text)
    return result


def _adopt_library_handlers() -> None:
    """spaCy and Presidio attach handlers of their own when imported: route them too."""
    from chatserver import logs

    logs.adopt_library_handlers()


def _redact(text: str) -> tuple[str, list[Entity]]:
    redacted, entities = _redactor.redact_with_entities(text)
    return redacted, [{"type": e["type"], "start": e["start"], "end": e["end"]} for e in entities]


def _analyze(text: str) -> list[Entity]:
    results = sorted(_redactor.analyze(text), key=lambda r: (r.start, r.end))
    return [{"type": r.entity_type, "start": r.start, "end": r.end} for r in results]


def _redact_span(text: str, start: int, end: int, entity_type: str) -> str:
    from redaction import redact_span

    result: str = redact_span(text, start, end, entity_type)
    return result


# -- in the server -----------------------------------------------------------------------------


class RedactionWorker:
    """Owns one worker process with one `redaction.Redactor`."""

    def __init__(self, *, enabled: bool = True, load_timeout: float = 180.0) -> None:
        self.enabled = enabled
        self.load_timeout = load_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._loading: asyncio.Task[None] | None = None
        self._ready = False
        self.error: str | None = None
        self._hints_in_flight = 0
        self._flags_waiting = 0

    @property
    def status(self) -> str:
        if not self.enabled:
            return "disabled"
        if self._ready:
            return "ready"
        if self.error is not None:
            return "failed"
        return "warming"

    def start(self) -> None:
        if self.enabled and self._loading is None:
            self._loading = asyncio.create_task(self._load(), name="redactor-load")

    async def _load(self) -> None:
        self._ready = False
        self.error = None
        # The worker is spawned by the first submit, from the event loop's thread, which lives
        # as long as the server: the kernel ties PR_SET_PDEATHSIG to the spawning thread. (No
        # max_tasks_per_child: the pool's manager thread would spawn the replacements.)
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), logging.getLogger().getEffectiveLevel()),
        )
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, _load)
            self._ready = True
            log.info("redactor ready")
        except Exception as exc:  # noqa: BLE001 - reported through /healthz and flag errors
            self.error = type(exc).__name__
            log.error("redactor failed to load: %s: %s", type(exc).__name__, exc)

    async def _wait(self) -> ProcessPoolExecutor:
        if not self.enabled:
            raise ChatError("redactor_unavailable")
        self.start()
        assert self._loading is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._loading), self.load_timeout)
        except TimeoutError as exc:
            raise ChatError("redactor_unavailable") from exc
        if not self._ready or self._pool is None:
            raise ChatError("redactor_unavailable")
        return self._pool

    async def _run(self, fn: Any, *args: Any) -> Any:
        self._flags_waiting += 1
        try:
            pool = await self._wait()
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool as exc:
            # The worker died (e.g. out of memory): start a new one for the next call.
            log.error("redactor process died; restarting it")
            self._loading = None
            self.start()
            raise ChatError("redactor_unavailable") from exc
        finally:
            self._flags_waiting -= 1

    async def redact(self, text: str) -> tuple[str, list[Entity]]:
        """The redacted text and the entities found (offsets into the original text)."""
        result: tuple[str, list[Entity]] = await self._run(_redact, text)
        return result

    async def redact_research(self, text: str) -> str:
        """The text as the research store may keep it: the strict profile of the redactor."""
        result: str = await self._run(_redact_research, text)
        return result

    async def redact_span(self, text: str, start: int, end: int, entity_type: str) -> str:
        result: str = await self._run(_redact_span, text, start, end, entity_type)
        return result

    async def hints(self, text: str) -> list[Entity] | None:
        """Spans the pipeline suspects, or None while it is not ready or busy (hints never wait)."""
        if (not self._ready or self._pool is None or self._flags_waiting
                or self._hints_in_flight >= MAX_HINTS_IN_FLIGHT):
            return None
        self._hints_in_flight += 1
        try:
            result: list[Entity] = await asyncio.get_running_loop().run_in_executor(
                self._pool, _analyze, text
            )
        finally:
            self._hints_in_flight -= 1
        return result

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        if self._pool is not None:
            # shutdown() lets a worker finish what it is doing (loading the pipeline takes
            # seconds), and the interpreter's exit waits for it: the server would linger.
            # Python 3.14 has `kill_workers()` for this.
            workers = list((self._pool._processes or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.kill()
