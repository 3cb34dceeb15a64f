"""Usernames: @handles, Discord tags (name#1234), and names given after a platform word.

"mijn snap is x", "insta: x", "mn fortnite naam is x", "het account x"; plus handle-shaped words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.lexicon import PLATFORMS, Lexicon
from redaction.recognizers.base import DutchRecognizer, Found

_AT = re.compile(r"(?<![\w@.])@(?=[\w.]*[A-Za-z])[\w](?:[\w.]*\w)?")
_DISCORD = re.compile(r"(?<![\w#@])[\w.]{2,32}#\d{4}(?![\w])")
_PLATFORM_WORDS = (r"snap|snapchat|sc|insta|instagram|ig|tiktok|tt|discord|dc|roblox|fortnite"
                   r"|psn|playstation|xbox|gamertag|steam|twitter|twitch|youtube|yt|telegram|kik"
                   r"|threads|bereal|pinterest|minecraft|epic|valorant|account|accountnaam"
                   r"|gebruikersnaam|username|user|gamernaam|ingame naam|online naam")
_AFTER_PLATFORM = re.compile(
    rf"(?i)\b(?:{_PLATFORM_WORDS})(?:\s+(?:naam|name|account|username|id|tag))?"
    r"(?P<link>\s*(?:is|=|:|heet(?:\s+nu)?|-)\s*:?\s*|\s*,\s*|\s+)"
    r"(?P<handle>@?\w[\w.]*\w)"
)
# "ik heb 2 tiktoks, eentje is x", "mijn insta's zijn x en y": a name given further on.
_PLATFORM_LATER = re.compile(
    rf"(?i)\b(?:{_PLATFORM_WORDS})(?:s|'s|jes)?\b[^.!?\n]{{0,25}}?\b(?:is|heet|zijn|=|:)\s+"
    r"(?P<handle>@?\w[\w.]*\w)"
)
_LISTED_AFTER = re.compile(r"\s*(?:,|en|&|of|and|or)\s*(?P<handle>@?\w[\w.]*\w)")
_SHAPED = re.compile(r"(?<![\w@.#/])(?=\w*[A-Za-z])(?:\w+_\w*|_\w+|[A-Za-z]{3,}\d{2,}\w*)(?![\w@])")


def handle_shaped(word: str) -> bool:
    """Underscores, inner dots, letters mixed with digits, or odd inner capitals: not prose."""
    core = word.lstrip("@")
    return ("_" in core or "." in core.strip(".")
            or (any(c.isdigit() for c in core) and any(c.isalpha() for c in core))
            or any(c.isupper() for c in core[1:]) and any(c.islower() for c in core))


class SocialHandleRecognizer(DutchRecognizer):
    ENTITIES = ("SOCIAL_HANDLE",)
    CONTEXT = ("snap", "snapchat", "insta", "instagram", "tiktok", "discord", "account", "roblox",
               "fortnite", "gamertag", "username", "gebruikersnaam", "toevoegen", "add")

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self._lexicon = lexicon

    def find(self, text: str) -> Iterator[Found]:
        found = list(self._find(text))
        yield from found
        for f in found:  # "noortje.x en noortjeprive": a second name listed after the first
            m = _LISTED_AFTER.match(text, f.end)
            if f.score < 0.55 or not m:
                continue
            lower = m.group("handle").lower().lstrip("@")
            if (len(lower) >= 3 and lower not in PLATFORMS and not lower.isdigit()
                    and lower not in self._lexicon.stop_words
                    and self._lexicon.ordinariness(lower) < 0.2):
                yield Found("SOCIAL_HANDLE", m.start("handle"), m.end("handle"), f.score)

    def _find(self, text: str) -> Iterator[Found]:
        for m in _AT.finditer(text):
            yield Found("SOCIAL_HANDLE", m.start(), m.end(), 0.85)
        for m in _DISCORD.finditer(text):
            yield Found("SOCIAL_HANDLE", m.start(), m.end(), 0.9)
        for m in _AFTER_PLATFORM.finditer(text):
            handle = m.group("handle")
            lower = handle.lower().lstrip("@")
            if lower in PLATFORMS or lower.isdigit():
                continue
            shaped = handle_shaped(handle)
            strong_link = bool(m.group("link").strip(" ,"))
            if shaped or (strong_link and not self._lexicon.is_word(lower)
                          and lower not in self._lexicon.first_names):
                yield Found("SOCIAL_HANDLE", m.start("handle"), m.end("handle"), 0.8)
            elif strong_link and not self._lexicon.is_common(lower) and len(lower) > 2:
                yield Found("SOCIAL_HANDLE", m.start("handle"), m.end("handle"), 0.55)
            elif (len(lower) >= 5 and self._lexicon.zipf(lower) == 0
                  and self._lexicon.ordinariness(lower) == 0 and lower not in self._lexicon.places
                  and lower not in self._lexicon.first_names):
                # "add me op snap x": no word at all in either language
                yield Found("SOCIAL_HANDLE", m.start("handle"), m.end("handle"), 0.6)
        for m in _PLATFORM_LATER.finditer(text):
            lower = m.group("handle").lower().lstrip("@")
            if (lower in PLATFORMS or lower.isdigit() or len(lower) < 4
                    or self._lexicon.ordinariness(lower) > 0.2 or lower in self._lexicon.stop_words):
                continue
            yield Found("SOCIAL_HANDLE", m.start("handle"), m.end("handle"), 0.6)
        for m in _SHAPED.finditer(text):
            word = m.group()
            letters = re.sub(r"[\d_]", "", word).lower()
            if "_" in word and len(letters) >= 2:
                yield Found("SOCIAL_HANDLE", m.start(), m.end(), 0.6)
            elif letters and not self._lexicon.is_common(letters) and letters not in PLATFORMS:
                yield Found("SOCIAL_HANDLE", m.start(), m.end(), 0.4)
