"""Durable records in SQL: conversations, messages, staff, sanctions, audit log, privacy.

`Store.from_settings` builds the one way in: a database and its repositories."""

from chatserver.store.audit import AuditEntry
from chatserver.store.conversations import ConversationRecord, ConversationSummary
from chatserver.store.messages import MessageRow
from chatserver.store.records import new_id, utc
from chatserver.store.requests import SubjectRequestRecord
from chatserver.store.research import ContactHour, ResearchConversation, ResearchMessage
from chatserver.store.sanctions import SanctionRecord
from chatserver.store.staff import SessionRecord, SessionSpan, UserRecord
from chatserver.store.store import Store

__all__ = [
    "AuditEntry",
    "ContactHour",
    "ConversationRecord",
    "ConversationSummary",
    "MessageRow",
    "ResearchConversation",
    "ResearchMessage",
    "SanctionRecord",
    "SessionRecord",
    "SessionSpan",
    "Store",
    "SubjectRequestRecord",
    "UserRecord",
    "new_id",
    "utc",
]
