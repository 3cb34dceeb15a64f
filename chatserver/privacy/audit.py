"""The audit log read back: entries as JSON, and the breach report of a staff account or window.

Writing is `Store.audit` (ids and codes, no free text; append-only: the database's triggers
refuse UPDATE and any DELETE but retention's recorded purge)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any

from chatserver.clock import iso
from chatserver.store import AuditEntry, Store, utc

# The actions the server records, for the filter on the coordinator page.
ACTIONS = (
    "transcript_read", "monitor", "whisper", "flag", "redact_span", "timeout", "block",
    "block_lifted", "timeout_lifted", "account_created", "account_disabled", "research_export",
    "audit_read", "audit_report", "request_created", "request_extended", "request_access",
    "request_erased", "request_closed", "retention_run",
    # Reads and acts that show or change more than one's own (issue #16 point 5).
    "conversations_listed", "conversation_ended", "sanctions_read", "repeat_timeouts_read",
    "requests_read", "request_read", "keys_rotated",
)

ACTION_SHAPE = re.compile(r"^[a-z_]{1,48}$")


def entry(row: AuditEntry) -> dict[str, Any]:
    detail: Any = None
    if row.detail:
        try:
            detail = json.loads(row.detail)
        except ValueError:
            detail = row.detail
    at = utc(row.at)
    return {
        "id": row.id,
        "at": iso(at) if at else None,
        "actor": row.actor,
        "action": row.action,
        "conversation_id": row.conversation_id,
        "detail": detail,
    }


async def breach_report(store: Store, since: datetime, until: datetime | None,
                        actor: str | None) -> dict[str, Any]:
    """Everything a staff account (or everyone) did in a window: the conversations touched,
    the actions by kind, the sessions that were open — the facts for a notification to the
    Autoriteit Persoonsgegevens within 72 hours."""
    rows = await store.audit.window(since, until, actor)
    entries = [entry(r) for r in rows]
    conversations: dict[str, dict[str, Any]] = {}
    for e in entries:
        cid = e["conversation_id"]
        if not cid:
            continue
        c = conversations.setdefault(cid, {"conversation_id": cid, "first": e["at"],
                                           "last": e["at"], "actions": Counter()})
        c["last"] = e["at"]
        c["actions"][e["action"]] += 1
    sessions = await store.staff.sessions_in_window(since, until, actor)
    return {
        "since": iso(since),
        "until": iso(until) if until else None,
        "actor": actor,
        "entries": entries,
        "actions": dict(Counter(e["action"] for e in entries)),
        "actors": sorted({e["actor"] for e in entries if e["actor"]}),
        "conversations": [{**c, "actions": dict(c["actions"])} for c in conversations.values()],
        "sessions": [
            {"username": s.username, "created_at": _iso(s.created_at),
             "last_seen_at": _iso(s.last_seen_at), "revoked_at": _iso(s.revoked_at),
             "expires_at": _iso(s.expires_at)}
            for s in sessions
        ],
    }


def _iso(dt: datetime | None) -> str | None:
    value = utc(dt)
    return iso(value) if value else None


def format_report(report: dict[str, Any]) -> str:
    who = report["actor"] or "all staff"
    lines = [
        f"Audit report for {who}, {report['since']} to {report['until'] or 'now'}",
        (f"{len(report['entries'])} audit entries; "
        f"{len(report['conversations'])} conversations touched"),
        "",
        "Actions:",
        *(f"  {action:<20} {count}" for action, count in sorted(report["actions"].items())),
        "",
        "Conversations touched:",
        *(
            f"  {c['conversation_id']}  {c['first']} .. {c['last']}  "
            + ", ".join(f"{a}×{n}" for a, n in sorted(c["actions"].items()))
            for c in report["conversations"]
        ),
        "",
        "Sessions open in the window:",
        *(
            f"  {s['username']:<20} from {s['created_at']} last seen {s['last_seen_at']}"
            + (f" revoked {s['revoked_at']}" if s["revoked_at"] else "")
            for s in report["sessions"]
        ),
        "",
        "Entries:",
        *(
            f"  {e['at']}  {e['actor'] or '-':<16} {e['action']:<18} "
            f"{e['conversation_id'] or '-'}"
            + (f"  {json.dumps(e['detail'], ensure_ascii=False)}" if e["detail"] else "")
            for e in report["entries"]
        ),
    ]
    return "\n".join(lines)
