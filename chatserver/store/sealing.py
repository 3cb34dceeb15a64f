"""Authenticated encryption of free text at rest (AES-256-GCM with key ids).

A copy of the database alone reveals no conversation; keys rotate by id.

Two kinds of sealed value. `g1:<kid>:...` is sealed under a master key (`CHATSERVER_DATA_KEY`):
TOTP secrets, topics, the conversation keys themselves, and messages written before migration
0006. `c1:<version>:...` is a message sealed under its conversation's own data key (keys.py):
destroying that key (redaction, erasure, retention) makes every copy of the text unreadable,
in backups, WAL and dead row versions alike (crypto-shredding)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "g1"
# A message sealed under its conversation key of this version (see keys.ConversationKeys).
CONVERSATION_PREFIX = "c1"


class SealError(Exception):
    """A sealed value could not be opened (wrong key, tampering, unknown key id)."""


class Sealer:
    """Seals text under the current key; opens text sealed under any known key."""

    def __init__(self, keys: tuple[tuple[str, bytes], ...]) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self.current_kid = keys[0][0]
        self._aead = {kid: AESGCM(key) for kid, key in keys}

    def seal(self, text: str, context: str) -> str:
        """`context` (e.g. the row id) is bound as associated data: a sealed value moved to
        another row does not open."""
        nonce = os.urandom(12)
        ct = self._aead[self.current_kid].encrypt(nonce, text.encode(), context.encode())
        return f"{PREFIX}:{self.current_kid}:{base64.b64encode(nonce + ct).decode()}"

    def open(self, sealed: str, context: str) -> str:
        try:
            prefix, kid, b64 = sealed.split(":", 2)
        except ValueError as exc:
            raise SealError("not a sealed value") from exc
        aead = self._aead.get(kid)
        if prefix != PREFIX or aead is None:
            raise SealError(f"unknown key id {kid!r}")
        raw = base64.b64decode(b64)
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise SealError("sealed value does not authenticate") from exc

    def key_id(self, sealed: str) -> str:
        return sealed.split(":", 2)[1]


def seal_under(aead: AESGCM, version: str, text: str, context: str) -> str:
    """`text` sealed under a conversation key of `version` (the version is not secret)."""
    nonce = os.urandom(12)
    ct = aead.encrypt(nonce, text.encode(), context.encode())
    return f"{CONVERSATION_PREFIX}:{version}:{base64.b64encode(nonce + ct).decode()}"


def open_under(aead: AESGCM, sealed: str, context: str) -> str:
    raw = base64.b64decode(sealed.split(":", 2)[2])
    try:
        return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise SealError("sealed value does not authenticate") from exc


def conversation_version(sealed: str) -> str | None:
    """The conversation key version a message is sealed under; None when it is sealed under a
    master key (written before conversation keys existed)."""
    prefix, _, rest = sealed.partition(":")
    return rest.partition(":")[0] if prefix == CONVERSATION_PREFIX else None
