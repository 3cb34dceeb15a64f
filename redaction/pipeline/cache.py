"""Where the redactor keeps what it builds on first use.

`$REDACTION_CACHE_DIR`, else `$XDG_CACHE_HOME/chatserver-redaction`, else `~/.cache/…`.
"""

from __future__ import annotations

import os
from pathlib import Path

# Bump when anything written into the cache changes shape, so old caches are rebuilt.
CACHE_VERSION = "9"


def cache_dir() -> Path:
    """The writable cache folder (not created here)."""
    explicit = os.environ.get("REDACTION_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "chatserver-redaction"


def versioned(name: str) -> Path:
    """A path inside the cache for one artefact at the current cache version."""
    return cache_dir() / f"v{CACHE_VERSION}" / name
