"""The SQL schema, as SQLAlchemy Core tables.

Message text is sealed (see sealing.py); addresses appear only as keyed hashes."""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

metadata = MetaData()

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret", String(255)),  # sealed: about 100 characters
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("alias", String(64), nullable=False),
    Column("address_hash", String(64), index=True),
    Column("resume_hash", String(64), unique=True),
    Column("reference_hash", String(64), unique=True),
    Column("status", String(16), nullable=False),
    Column("contact_count", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("paired_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(16)),
    Column("volunteer_id", String(32), ForeignKey("staff_users.id")),
    Column("chatter_age", Integer),
    Column("chatter_topic", String(100)),
    Column("age", Integer),
    Column("topic", String(100)),
    Column("registered_at", DateTime(timezone=True)),
    Column("registered_by", String(32)),
    # The highest message seq the chatter acknowledged: `resume` sends only what comes after.
    Column("delivered_seq", Integer, nullable=False, default=0, server_default="0"),
)

messages = Table(
    "messages",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("conversation_id", String(32), nullable=False),
    Column("sender", String(16), nullable=False),
    Column("staff_id", String(32)),
    Column("text", Text, nullable=False),
    Column("client_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("redacted", Boolean, nullable=False, default=False),
    Column("checked", Boolean, nullable=False, default=False),
    # Also the index for every read by conversation (transcript, resume, retention): a second
    # index keyed by conversation would cost each commit a page per message (migration 0003).
    UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),
)

# Each conversation's own data key, wrapped (sealed) under the current master key: messages are
# sealed under it (`c1:<version>:...`). Deleting the row is crypto-shredding: every copy of the
# text sealed under it, in a backup, the WAL or a dead row version, can no longer be opened.
# Redaction adds a fresh version, re-seals the conversation and deletes the old one; erasure and
# retention delete the conversation, and its keys with it (ON DELETE CASCADE). `retired_at`:
# superseded, kept only while another worker may still seal under it (keys.py).
conversation_keys = Table(
    "conversation_keys",
    metadata,
    Column("id", String(48), primary_key=True),  # "<conversation id>.<version>"
    Column("conversation_id", String(32),
           ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("version", String(16), nullable=False),
    Column("key", String(255), nullable=False),  # sealed under a master key: about 100 chars
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),
)

# One row per conversation start, kept (by hash only) longer than the conversation itself so
# that `contact_count` survives retention; dropped after the address retention period.
contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address_hash", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

sanctions = Table(
    "sanctions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("address_hash", String(64), nullable=False, index=True),
    Column("conversation_id", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("staff_id", String(32)),
    Column("reason", Text),
    Column("lifted_at", DateTime(timezone=True)),
    Column("lifted_by", String(32)),
    # Free text like `reason` (never in the audit log): why a block came without an earlier
    # time-out, and why it was lifted. All of it goes with the sanction (retention).
    Column("override_reason", Text),
    Column("lift_reason", Text),
    # The conversation was erased on request: deleted as soon as the sanction is over.
    Column("erased", Boolean, nullable=False, default=False, server_default="0"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_id", String(32), index=True),
    Column("actor", String(64)),
    Column("action", String(48), nullable=False, index=True),
    Column("conversation_id", String(32), index=True),
    Column("detail", Text),
)

# -- research store: anonymised conversations, moved here by retention ---------------------
# No address hash, no reference, no staff identity, no timestamps finer than the day, durations in
# whole minutes. The id is new and random (not the conversation's), so nothing here links back to
# the audit log or a request; a day's conversations are written together in random order, and on
# SQLite the tables have no rowid (that would number them in the order they were written).
research_conversations = Table(
    "research_conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("day", Date, nullable=False, index=True),
    Column("age", Integer),
    Column("topic", String(100)),
    Column("waiting_seconds", Integer),  # rounded to whole minutes
    Column("duration_seconds", Integer),  # rounded to whole minutes
    Column("message_count", Integer, nullable=False, default=0),
    Column("left_queue", Boolean, nullable=False, default=False),
    Column("end_reason", String(16)),
    sqlite_with_rowid=False,
)

# The redacted text, sealed under the master key (bound to the row's random id).
research_messages = Table(
    "research_messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sender", String(16), nullable=False),
    Column("text", Text, nullable=False),
    UniqueConstraint("conversation_id", "position", name="uq_research_messages_position"),
    sqlite_with_rowid=False,
)

# Contacts per local day and hour of the day, counted when a conversation moves to the research
# store: the hour is kept only as a count, never on a research conversation.
research_contact_hours = Table(
    "research_contact_hours",
    metadata,
    Column("day", Date, nullable=False),
    Column("hour", Integer, nullable=False),
    Column("contacts", Integer, nullable=False),
    UniqueConstraint("day", "hour", name="uq_research_contact_hours"),
)

# -- requests of data subjects (access, erasure, objection) -------------------------------
subject_requests = Table(
    "subject_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("reference_hash", String(64), nullable=False, index=True),
    Column("conversation_id", String(32)),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("extended_due_at", DateTime(timezone=True)),
    Column("extension_reason", Text),
    Column("person_told_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("outcome", Text),
    Column("note", Text),
    Column("created_by", String(64)),
    Column("handled_by", String(64)),
    Column("closed_at", DateTime(timezone=True)),
)

# Each purge of audit entries past their term (retention only): the entries written before
# `before` may be deleted, and the purge itself stays on record (append-only too).
audit_log_purges = Table(
    "audit_log_purges",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("before", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
)

# The audit log is append-only for the application: the database refuses any UPDATE of it, and
# any DELETE but of entries older than a recorded purge (migration 0007; PostgreSQL's triggers are
# made there only). `IF NOT EXISTS` on every create_all, so databases made before the triggers
# get them too.
AUDIT_TRIGGERS_SQLITE = (
    ("CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
    ("CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_log_purges p WHERE OLD.at < p.before) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
    ("CREATE TRIGGER IF NOT EXISTS audit_log_purges_no_update BEFORE UPDATE ON audit_log_purges "
    "BEGIN SELECT RAISE(ABORT, 'audit_log_purges is append-only'); END"),
    ("CREATE TRIGGER IF NOT EXISTS audit_log_purges_no_delete BEFORE DELETE ON audit_log_purges "
    "BEGIN SELECT RAISE(ABORT, 'audit_log_purges is append-only'); END"),
)
for _ddl in AUDIT_TRIGGERS_SQLITE:
    event.listen(metadata, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))
