"""The names tests have always imported from here; they live in tests/harness/ now."""

from __future__ import annotations

import sys

from tests.harness.peers import TIMEOUT, Peer
from tests.harness.processes import BIN, ROOT, free_port
from tests.harness.servers import PASSWORD, Server, Subprocess, running, server_env

VENV_BIN = BIN

__all__ = ["PASSWORD", "ROOT", "TIMEOUT", "VENV_BIN", "Peer", "Server", "Subprocess", "free_port",
           "python", "running", "server_env"]


def python() -> str:
    return sys.executable
