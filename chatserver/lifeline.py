"""Child processes die with the server, however it ends (SIGTERM, SIGKILL, a crash).

A `multiprocessing` "spawn" child keeps running with parent pid 1 after its parent is killed
(FACTS): on Linux the kernel sends it SIGKILL instead when the parent goes
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a thread in the child watches for the new parent.

Every child the server starts calls one of these first: the redaction worker
(`redaction_worker.py`, as its pool's initializer) and each of uvicorn's worker processes of
`chatserver serve --workers N` (`asgi.py`, which they import). The kernel ties the signal to the
*thread* that started the child, so children are started from a thread that lives as long as
the process: the event loop's (the redaction worker) or the main one (uvicorn's workers)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Run first thing in a child process whose parent is `parent`."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def die_with_multiprocessing_parent() -> None:
    """In a process that `multiprocessing` started (uvicorn's workers): die with the process
    that started it. Nothing to do in a process started otherwise."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)
