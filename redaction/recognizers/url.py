"""Links: with a scheme, starting with www., or a bare domain, above all profile links.

Public help sites (113.nl, kindertelefoon.nl) and bare platform domains are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import PLATFORMS
from redaction.recognizers.base import DutchRecognizer, Found
from redaction.recognizers.public_help import is_public_domain

_TLDS = (r"(?:com|nl|be|net|org|tv|ee|me|io|gg|app|co|de|eu|info|link|ly|to|page|site|xyz"
         r"|social|fm|uk|fr|es|it|us|biz|online|store|shop|live|art|bio|lol|dev|cc|ws)")
_SCHEME = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")
_BARE = re.compile(
    rf"(?i)(?<![@\w.:/-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+{_TLDS}(?![\w@-])(?:/[^\s<>\"']*)?"
)
_TRAILING = ".,;:!?)]}'\""


def _host(url: str) -> str:
    rest = re.sub(r"(?i)^https?://", "", url)
    return rest.split("/", 1)[0].split("?", 1)[0].lower()


class UrlRecognizer(DutchRecognizer):
    ENTITIES = ("URL",)
    CONTEXT = ("link", "profiel", "site", "website", "linktree", "kijk")

    def find(self, text: str) -> Iterator[Found]:
        taken: list[tuple[int, int]] = []
        for pattern, needs_path in ((_SCHEME, False), (_BARE, True)):
            for m in pattern.finditer(text):
                start, end = m.start(), m.end()
                while end > start and text[end - 1] in _TRAILING:
                    end -= 1
                if any(s <= start < e for s, e in taken):
                    continue
                url = text[start:end]
                host = _host(url)
                if is_public_domain(host):
                    continue
                has_path = "/" in url.split("//", 1)[-1].rstrip("/")
                if needs_path and not has_path:
                    site = host.removeprefix("www.").split(".")[-2] if "." in host else host
                    if site in PLATFORMS or host.split(".")[-1] in ("be", "co"):
                        continue
                    if re.fullmatch(r"[a-z]+\.[a-z]+", host) and len(host.split(".")[0]) <= 2:
                        continue  # "o.a.", "d.w.z."-like abbreviations
                taken.append((start, end))
                yield Found("URL", start, end, 0.85)
