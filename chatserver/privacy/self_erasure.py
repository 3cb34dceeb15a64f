""""Wis mijn gesprek": the young person erases their own conversation, at once.

Two ways in, one action: `erase` on /chat right after the end (the connection knows the
conversation), and `POST /api/erase` with the reference code later (the page /wissen). It is
an erasure on the person's own word: the same deletion as a coordinator's (messages, the
conversation with its reference and address hash, its contact row, its sanctions that are
over), recorded in the request register as a closed erasure request and in the audit log,
both without the code itself (a hash of it) and without content."""

from __future__ import annotations

import json
from typing import Any

from chatserver.clock import Clock, iso
from chatserver.errors import ChatError
from chatserver.privacy.references import reference_for, reference_hash
from chatserver.privacy.requests import check_reference, due_date, not_erased
from chatserver.privacy.terms import DEFAULT_TERMS, Terms
from chatserver.store import Store

# Who did it, in the register's `created_by`/`handled_by` (no staff member involved).
SELF = "jongere zelf"


async def erase_by_reference(store: Store, clock: Clock, secret_key: bytes, raw: Any,
                             terms: Terms = DEFAULT_TERMS) -> dict[str, Any]:
    """The erasure page's action: ChatError `invalid_reference` for a malformed code,
    `not_found` for an unknown or already erased one, `conversation_active` while it runs."""
    code = check_reference(raw)
    rhash = reference_hash(secret_key, code)
    conv = await store.conversations.find_by(reference_hash=rhash)
    if conv is None:
        raise ChatError("not_found", "Deze code hoort niet (meer) bij een gesprek. Misschien is "
                                     "het al gewist of is de bewaartermijn voorbij.")
    return await erase_own(store, clock, secret_key, conv.id, terms)


async def erase_own(store: Store, clock: Clock, secret_key: bytes, conversation_id: str,
                    terms: Terms = DEFAULT_TERMS) -> dict[str, Any]:
    """Erase an ended conversation on the chatter's word and record that it was done."""
    conv = await store.conversations.get(conversation_id)
    if conv is None:
        raise ChatError("not_found", "Dit gesprek is al gewist.")
    if conv.status != "ended":
        raise ChatError("conversation_active", "Je gesprek loopt nog. Stop eerst het gesprek, "
                                               "dan kun je het wissen.")
    now = clock.now()
    erased = await store.conversations.erase(conversation_id, now)
    stays = not_erased(terms, erased["sanctions_kept"])
    outcome = {"erased": erased, "not_erased": stays, "erased_at": iso(now),
               "on_own_word": True}
    request_id = await store.subject_requests.add({
        "kind": "erasure",
        "reference_hash": reference_hash(secret_key, reference_for(secret_key, conversation_id)),
        "conversation_id": conversation_id, "received_at": now, "due_at": due_date(now),
        "status": "done", "outcome": json.dumps(outcome, ensure_ascii=False),
        "created_by": SELF, "handled_by": SELF, "closed_at": now,
    })
    await store.audit.record(now, "self_erasure", actor_id=None, actor=SELF,
                             conversation_id=conversation_id,
                             detail={"request_id": request_id, "erased": erased})
    return {"ok": True, "not_erased": stays}
