"""Personal reference codes, resume tokens and aliases for anonymous chatters.

A reference is derived from the conversation id with the server's secret key, so it can be
shown again without being stored; the database keeps only a hash to look it up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TRANSLATE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)

_ADJECTIVES = (
    "Blauwe", "Rode", "Groene", "Gele", "Paarse", "Oranje", "Zilveren", "Gouden", "Stille",
    "Snelle", "Dappere", "Vrolijke", "Rustige", "Slimme", "Zachte", "Warme", "Lichte", "Sterke",
    "Kleine", "Grote", "Wilde", "Vriendelijke", "Nieuwsgierige", "Zonnige",
)
_ANIMALS = (
    "Vos", "Uil", "Otter", "Das", "Egel", "Merel", "Reiger", "Zeehond", "Eekhoorn", "Haas",
    "Lynx", "Panda", "Dolfijn", "Valk", "Koala", "Pinguïn", "Wolf", "Beer", "Hert", "Kikker",
    "Zwaan", "Libel", "Vlinder", "Schildpad",
)


def reference_for(secret: bytes, conversation_id: str) -> str:
    """Ten Crockford base32 characters in three groups, e.g. `K7M2-9QXD-4R`."""
    digest = hmac.new(secret, b"reference:" + conversation_id.encode(), hashlib.sha256).digest()
    code = base64.b32encode(digest[:10]).decode().translate(_TRANSLATE)[:10]
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise_reference(reference: str) -> str:
    raw = "".join(ch for ch in reference.upper() if ch.isalnum())
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def reference_hash(secret: bytes, reference: str) -> str:
    return hmac.new(
        secret, b"reference-hash:" + normalise_reference(reference).encode(), hashlib.sha256
    ).hexdigest()


def new_resume_token() -> str:
    return secrets.token_urlsafe(24)


def resume_hash(secret: bytes, token: str) -> str:
    return hmac.new(secret, b"resume:" + token.encode(), hashlib.sha256).hexdigest()


def new_alias() -> str:
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_ANIMALS)}"
