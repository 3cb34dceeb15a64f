"""Waiting, bounded, for state that announces nothing: a child process starting up, a
server-side table a background loop fills. Where an event announces it, await the event."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(ready: Callable[[], T | None], within: float, what: str,
               proc: subprocess.Popen[Any] | None = None, every: float = 0.05) -> T:
    """Poll `ready()` until it returns something truthy; fail if `proc` exits first."""
    deadline = time.monotonic() + within
    while True:
        value = ready()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:g} s")
        time.sleep(every)


async def eventually(check: Callable[[], Any], within: float = 10.0, every: float = 0.01,
                     what: str = "condition") -> Any:
    """Poll `check()` (plain or async) until it returns something truthy; returns that."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within:g} s")
        await asyncio.sleep(every)
