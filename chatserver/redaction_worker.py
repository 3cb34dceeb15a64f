"""The redaction library, loaded once per process in the background and run off the event loop.

A flag that arrives while the redactor is still loading waits for it rather than failing."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chatserver.errors import ChatError

log = logging.getLogger(__name__)

Entity = dict[str, Any]


class RedactionWorker:
    """Owns one `redaction.Redactor` and a single worker thread that runs it."""

    def __init__(self, *, enabled: bool = True, load_timeout: float = 120.0) -> None:
        self.enabled = enabled
        self.load_timeout = load_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redactor")
        self._redactor: Any = None
        self._loading: asyncio.Task[None] | None = None
        self.error: str | None = None

    @property
    def status(self) -> str:
        if not self.enabled:
            return "disabled"
        if self._redactor is not None:
            return "ready"
        if self.error is not None:
            return "failed"
        return "warming"

    def start(self) -> None:
        if self.enabled and self._loading is None:
            self._loading = asyncio.create_task(self._load(), name="redactor-load")

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._redactor = await loop.run_in_executor(self._executor, _build)
            log.info("redactor ready")
        except Exception as exc:  # noqa: BLE001 - reported through /healthz and flag errors
            self.error = type(exc).__name__
            log.error("redactor failed to load: %s", type(exc).__name__)

    async def _ready(self) -> Any:
        if not self.enabled:
            raise ChatError("redactor_unavailable")
        self.start()
        assert self._loading is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._loading), self.load_timeout)
        except TimeoutError as exc:
            raise ChatError("redactor_unavailable") from exc
        if self._redactor is None:
            raise ChatError("redactor_unavailable")
        return self._redactor

    async def redact(self, text: str) -> tuple[str, list[Entity]]:
        """The redacted text and the entities found (offsets into the original text)."""
        redactor = await self._ready()
        loop = asyncio.get_running_loop()
        result: tuple[str, list[Entity]] = await loop.run_in_executor(
            self._executor, _redact, redactor, text
        )
        return result

    async def hints(self, text: str) -> list[Entity] | None:
        """Spans the pipeline suspects, or None while the redactor is not ready (no waiting)."""
        if self._redactor is None:
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _analyze, self._redactor, text)

    def redact_span(self, text: str, start: int, end: int, entity_type: str) -> str:
        from redaction import redact_span

        result: str = redact_span(text, start, end, entity_type)
        return result

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _build() -> Any:
    from redaction import Redactor

    return Redactor()


def _entities(results: Any) -> list[Entity]:
    return [
        {"type": r.entity_type, "start": r.start, "end": r.end}
        for r in sorted(results, key=lambda r: (r.start, r.end))
    ]


def _redact(redactor: Any, text: str) -> tuple[str, list[Entity]]:
    redacted, entities = redactor.redact_with_entities(text)
    return redacted, [{"type": e["type"], "start": e["start"], "end": e["end"]} for e in entities]


def _analyze(redactor: Any, text: str) -> list[Entity]:
    return _entities(redactor.analyze(text))
