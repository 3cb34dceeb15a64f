"""Keeps the libraries under the redactor off the network.

tldextract (used by Presidio's e-mail and URL recognizers) would fetch the public suffix list.
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare(cache_dir: Path) -> None:
    """Point tldextract at its bundled snapshot; must run before Presidio is imported."""
    os.environ.setdefault("TLDEXTRACT_CACHE", str(cache_dir / "tldextract"))
    import tldextract
    import tldextract.tldextract as tld_module

    offline = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )
    tld_module.TLD_EXTRACTOR = offline
