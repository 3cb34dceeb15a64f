"""Authenticated encryption of free text at rest (AES-256-GCM with key ids).

A copy of the database alone reveals no conversation; keys rotate by id."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "g1"


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
