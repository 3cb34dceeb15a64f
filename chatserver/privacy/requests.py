"""Requests of data subjects (access, erasure, objection), found by the person's reference code.

Deadlines are pure functions (one month, extendable once or twice up to two months more, and
only while the first month runs); `SubjectRequests` keeps the register and does the work."""

from __future__ import annotations

import calendar
import json
import re
from datetime import datetime
from typing import Any

from chatserver.auth import StaffMember
from chatserver.clock import Clock, iso
from chatserver.errors import ChatError
from chatserver.privacy.references import normalise_reference, reference_hash
from chatserver.privacy.terms import BACKUP_DAYS, BACKUP_KEY_DAYS, DEFAULT_TERMS, Terms
from chatserver.store import Store, SubjectRequestRecord, utc

KINDS = ("access", "erasure", "objection")
OUTCOMES = ("done", "refused")
MAX_EXTENSION_MONTHS = 2
_REFERENCE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")

# What erasure cannot erase, said to the person in the answer (Dutch, as the answer is). Each
# sentence must stay true: the terms come from the settings, and retention enforces them.
def not_erased(terms: Terms, sanctions_kept: int = 0) -> list[str]:
    """What stays after an erasure, and until when."""
    years = terms.research // 365
    answer = [
        ("Gesprekken ouder dan de bewaartermijn zijn al geanonimiseerd voor onderzoek: zonder "
         "code, adres, medewerker of tijdstip (alleen de dag), en de tekst zonder namen en "
         "andere herkenbare gegevens. Die gegevens zijn niet meer aan jou te koppelen en kunnen "
         "daarom niet worden teruggevonden of verwijderd; ze worden na "
         + (f"{years} jaar" if terms.research % 365 == 0 else f"{terms.research} dagen")
         + " gewist."),
        ("Het auditlog houdt bij welke medewerker wanneer wat met dit gesprek deed: alleen het "
         "soort handeling en nummers, geen berichten en geen toelichting. Dat blijft "
         f"{terms.audit_log} dagen bewaard om misbruik van gegevens te kunnen onderzoeken, en "
         "wordt dan gewist."),
        ("Dit verzoek zelf blijft in het register staan (met alleen een afgeleide van je code), "
         "zodat we kunnen laten zien dat we het hebben afgehandeld; "
         f"{terms.request_register} dagen na de afhandeling wordt het gewist."),
        ("Back-ups worden niet apart aangepast: ze worden na uiterlijk "
         f"{BACKUP_DAYS} dagen vernietigd, en uiterlijk {BACKUP_KEY_DAYS} dagen na het wissen "
         "is ook de sleutel vernietigd waarmee je berichten daarin te openen waren."),
    ]
    if sanctions_kept:
        answer.insert(0, (
            "Een blokkade of time-out die nog loopt, blijft bestaan tot hij afloopt of wordt "
            "opgeheven (ter bescherming van de vrijwilligers), met een versleutelde afgeleide van "
            "je IP-adres en de reden die de medewerker erbij schreef. Daarna wordt hij bij de "
            "eerstvolgende opruimronde helemaal verwijderd."))
    return answer


# -- pure decisions -----------------------------------------------------------------------------


def add_months(dt: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day (31 januari + 1 = 28/29 februari)."""
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def due_date(received_at: datetime) -> datetime:
    return add_months(received_at, 1)


def deadline(row: SubjectRequestRecord) -> datetime:
    due = utc(row.extended_due_at) or utc(row.due_at)
    assert due is not None
    return due


def is_overdue(row: SubjectRequestRecord, now: datetime) -> bool:
    return row.closed_at is None and now > deadline(row)


def check_reference(raw: Any) -> str:
    """The normalised reference code, or ChatError `invalid_reference`."""
    if not isinstance(raw, str) or not 8 <= len(raw) <= 32:
        raise ChatError("invalid_reference", "Vul de code in zoals de jongere die kreeg "
                                             "(bijvoorbeeld K7M2-9QXD-4R).")
    code = normalise_reference(raw)
    if not _REFERENCE.match(code):
        raise ChatError("invalid_reference", "Deze code heeft niet de juiste vorm "
                                             "(tien tekens, bijvoorbeeld K7M2-9QXD-4R).")
    return code


def extended_due(due_at: datetime, months: int, now: datetime) -> datetime:
    """The new deadline of an extension by `months` (counted from the one-month deadline).

    The law allows two months more at most, and the person must be told within the first
    month: an extension after the first deadline has passed is refused."""
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise ChatError("invalid_months", "Verlengen kan met 1 of 2 maanden.")
    if now > due_at:
        raise ChatError("too_late", "De eerste maand is voorbij: verlengen kan alleen binnen "
                                    "een maand na ontvangst.")
    return add_months(due_at, months)


# -- the register -------------------------------------------------------------------------------


def _iso(dt: datetime | None) -> str | None:
    value = utc(dt)
    return iso(value) if value else None


class SubjectRequests:
    """The register of requests and the actions on it; every action is in the audit log."""

    def __init__(self, store: Store, clock: Clock, secret_key: bytes,
                 terms: Terms | None = None) -> None:
        self.store = store
        self.clock = clock
        self.secret_key = secret_key
        self.terms = terms or DEFAULT_TERMS

    def view(self, row: SubjectRequestRecord) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "conversation_found": row.conversation_id is not None,
            "received_at": _iso(row.received_at),
            "due_at": _iso(row.due_at),
            "extended_due_at": _iso(row.extended_due_at),
            "deadline": iso(deadline(row)),
            "extension_reason": row.extension_reason,
            "person_told_at": _iso(row.person_told_at),
            "overdue": is_overdue(row, now),
            "days_left": (deadline(row) - now).days if row.closed_at is None else None,
            "outcome": json.loads(row.outcome) if row.outcome else None,
            "note": row.note,
            "created_by": row.created_by,
            "handled_by": row.handled_by,
            "closed_at": _iso(row.closed_at),
        }

    async def _audit(self, member: StaffMember, action: str, row: SubjectRequestRecord,
                     detail: dict[str, Any] | None = None) -> None:
        await self.store.audit.record(self.clock.now(), action, actor_id=member.id,
                                      actor=member.username, conversation_id=row.conversation_id,
                                      detail={"request_id": row.id, "kind": row.kind, **(detail or {})})

    async def _get(self, request_id: str) -> SubjectRequestRecord:
        row = await self.store.subject_requests.get(request_id) if len(request_id) <= 64 else None
        if row is None:
            raise ChatError("not_found", "Dit verzoek bestaat niet.")
        return row

    async def _open(self, request_id: str) -> Any:
        row = await self._get(request_id)
        if row.closed_at is not None:
            raise ChatError("already_closed", "Dit verzoek is al afgehandeld.")
        return row

    async def create(self, member: StaffMember, kind: Any, reference: Any,
                     received_at: datetime | None = None, note: str | None = None
                     ) -> dict[str, Any]:
        if kind not in KINDS:
            raise ChatError("invalid_kind", "Kies inzage (access), verwijdering (erasure) of "
                                            "bezwaar (objection).")
        code = check_reference(reference)
        now = self.clock.now()
        received = received_at or now
        if received > now:
            raise ChatError("invalid_date", "De ontvangstdatum ligt in de toekomst.")
        rhash = reference_hash(self.secret_key, code)
        conv = await self.store.conversations.find_by(reference_hash=rhash)
        rid = await self.store.subject_requests.add({
            "kind": kind, "reference_hash": rhash,
            "conversation_id": conv.id if conv is not None else None,
            "received_at": received, "due_at": due_date(received), "status": "open",
            "note": note, "created_by": member.username,
        })
        row = await self._get(rid)
        await self._audit(member, "request_created", row)
        return self.view(row)

    async def list(self, status: str | None = None) -> list[dict[str, Any]]:
        if status not in (None, "", "open", "closed", "all"):
            raise ChatError("invalid_status", "Kies open, closed of all.")
        rows = await self.store.subject_requests.find(None if status == "all" else status or None)
        views = [self.view(r) for r in rows]
        # Overdue first, then the nearest deadline.
        return sorted(views, key=lambda v: (not v["overdue"], v["closed_at"] is not None,
                                            v["deadline"]))

    async def get(self, request_id: str) -> dict[str, Any]:
        return self.view(await self._get(request_id))

    async def extend(self, member: StaffMember, request_id: str, months: Any, reason: Any,
                     person_told: Any) -> dict[str, Any]:
        row = await self._open(request_id)
        if row.extended_due_at is not None:
            raise ChatError("already_extended", "Dit verzoek is al verlengd (één keer, tot "
                                                "twee maanden).")
        if not isinstance(months, int) or isinstance(months, bool):
            raise ChatError("invalid_months", "Verlengen kan met 1 of 2 maanden.")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
            raise ChatError("reason_required", "Geef de reden van de verlenging (complex "
                                               "verzoek of veel verzoeken).")
        if person_told is not True:
            raise ChatError("person_not_told", "Verlengen mag alleen als de persoon binnen de "
                                               "eerste maand is verteld dat het langer duurt.")
        now = self.clock.now()
        due = utc(row.due_at)
        assert due is not None
        new_due = extended_due(due, months, now)
        await self.store.subject_requests.update(
            row.id, extended_due_at=new_due, extension_reason=reason.strip(),
            person_told_at=now, status="extended", handled_by=member.username)
        await self._audit(member, "request_extended", row,
                          {"months": months, "until": iso(new_due)})
        return self.view(await self._get(row.id))

    async def access(self, member: StaffMember, request_id: str) -> dict[str, Any]:
        """Everything held on the request's conversation, as one JSON document."""
        row = await self._get(request_id)
        if row.kind != "access":
            raise ChatError("wrong_kind", "Inzage hoort bij een verzoek om inzage.")
        export = await self.conversation_export(row.conversation_id)
        now = self.clock.now()
        export["request"] = {"id": row.id, "received_at": _iso(row.received_at),
                             "generated_at": iso(now)}
        await self.store.subject_requests.update(
            row.id, handled_by=member.username,
            outcome=json.dumps({"exported_at": iso(now)}))
        await self._audit(member, "request_access", row)
        return export

    async def conversation_export(self, conversation_id: str | None) -> dict[str, Any]:
        conv = await self.store.conversations.get(conversation_id) if conversation_id else None
        if conv is None:
            return {
                "conversation": None,
                "note": "Bij deze code hebben we geen gesprek (meer). Gesprekken ouder dan de "
                        "bewaartermijn zijn geanonimiseerd en niet meer aan de code te koppelen.",
            }
        messages = await self.store.messages.of_conversation(conv.id)
        sanctions = await self.store.sanctions.of_conversation(conv.id)
        audit = await self.store.audit.entries(conversation_id=conv.id, limit=10_000)
        return {
            "conversation": {
                "id": conv.id,
                "alias": conv.alias,
                "status": conv.status,
                "started_at": _iso(conv.created_at),
                "paired_at": _iso(conv.paired_at),
                "ended_at": _iso(conv.ended_at),
                "end_reason": conv.end_reason,
                "your_age": conv.chatter_age,
                "your_topic": (self.store.sealer.open(conv.chatter_topic, conv.id)
                               if conv.chatter_topic else None),
                "registered_age": conv.age,
                "registered_topic": conv.topic,
                "earlier_contacts": conv.contact_count,
                "address": (
                    "Je IP-adres is niet opgeslagen, alleen een versleutelde afgeleide "
                    "(HMAC-hash) om misbruik te kunnen tegengaan." if conv.address_hash else None
                ),
            },
            "messages": [
                {"from": m.sender, "text": m.text, "ts": iso(m.ts), "redacted": m.redacted}
                for m in messages
            ],
            "sanctions": [
                {"kind": s.kind, "created_at": _iso(s.created_at), "until": _iso(s.until),
                 "reason": s.reason, "override_reason": s.override_reason,
                 "lifted_at": _iso(s.lifted_at), "lift_reason": s.lift_reason}
                for s in sanctions
            ],
            # What staff did with the conversation and when; staff names are their own data.
            "handling": [{"at": _iso(a.at), "action": a.action}
                         for a in sorted(audit, key=lambda a: a.id)],
        }

    async def erase(self, member: StaffMember, request_id: str, confirm: Any) -> dict[str, Any]:
        row = await self._open(request_id)
        if row.kind not in ("erasure", "objection"):
            raise ChatError("wrong_kind", "Verwijderen hoort bij een verzoek om verwijdering "
                                          "of een gegrond bezwaar.")
        if confirm is not True:
            raise ChatError("confirm_required", "Bevestig het verwijderen met confirm: true.")
        # The reference is known from the start of a chat: a running one is erased after its end.
        conv = await self.store.conversations.get(row.conversation_id or "")
        if conv is not None and conv.status != "ended":
            raise ChatError("conversation_active", "Dit gesprek loopt nog. Verwijder het als het "
                                                   "is afgelopen.")
        now = self.clock.now()
        erased = {"conversation": 0, "messages": 0, "contacts": 0, "sanctions": 0,
                  "sanctions_kept": 0}
        if row.conversation_id:
            erased = await self.store.conversations.erase(row.conversation_id, now)
        outcome = {"erased": erased,
                   "not_erased": not_erased(self.terms, erased["sanctions_kept"]),
                   "erased_at": iso(now)}
        await self.store.subject_requests.update(
            row.id, status="done", outcome=json.dumps(outcome, ensure_ascii=False),
            handled_by=member.username, closed_at=now)
        await self._audit(member, "request_erased", row, {"erased": erased})
        return {"ok": True, "request": self.view(await self._get(row.id)), **outcome}

    async def close(self, member: StaffMember, request_id: str, outcome: Any, note: Any
                    ) -> dict[str, Any]:
        row = await self._open(request_id)
        if outcome not in OUTCOMES:
            raise ChatError("invalid_outcome", "Kies done (afgehandeld) of refused (afgewezen).")
        if note is not None and (not isinstance(note, str) or len(note) > 2000):
            raise ChatError("invalid", "Een notitie is tekst van hoogstens 2000 tekens.")
        if outcome == "refused" and not (note or "").strip():
            raise ChatError("reason_required", "Geef de reden van de afwijzing; de persoon "
                                               "moet die te horen krijgen.")
        now = self.clock.now()
        await self.store.subject_requests.update(
            row.id, status=outcome, note=(note or row.note), handled_by=member.username,
            closed_at=now)
        await self._audit(member, "request_closed", row, {"outcome": outcome})
        return self.view(await self._get(row.id))
