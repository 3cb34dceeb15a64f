"""Privacy promises over time (issue 15): sanction reasons, audit purges, unlinkable research.

- `sanctions`: `override_reason` (a block without an earlier time-out), `lift_reason` (moved out
  of the audit log, which keeps ids and codes only), `erased` (the conversation was erased on
  request: the sanction goes as soon as it is over).
- `audit_log_purges`: retention's record of each purge of audit entries past their term. The
  audit log's triggers refuse every UPDATE, and every DELETE but of entries older than a recorded
  purge; on PostgreSQL too (there were none there before), and TRUNCATE is refused as well.
- Free-text reasons already in the audit log (blocks, lifts) are taken out of it: a lift reason
  moves to its sanction.
- The research tables are rebuilt without a row number that follows the order rows were written
  (SQLite: WITHOUT ROWID; `research_messages`' autoincrement id becomes a random one), their
  rows copied in random order; durations are rounded to whole minutes; an end reason of a time-out or block
  becomes `volunteer` (with the day, it matched a sanction). Research text is sealed by the
  server itself on its first retention run (the keys are not known here).

Downgrading keeps the data but gives back the old shapes (and the old, stricter triggers).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:45:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
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
POSTGRESQL_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log' AND EXISTS (
                SELECT 1 FROM audit_log_purges p WHERE OLD.at < p.before) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END $$""",
    ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
    ("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"),
    ("CREATE TRIGGER audit_log_purges_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON audit_log_purges FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"),
)
FREE_TEXT_ACTIONS = ("block", "block_lifted", "timeout_lifted")


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    with op.batch_alter_table("sanctions") as batch:
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lift_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("erased", sa.Boolean(), nullable=False, server_default="0"))
    op.create_table(
        "audit_log_purges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _take_free_text_out_of_the_audit_log()
    _rebuild_research(upgrade=True)
    if _dialect() == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)
    elif _dialect() == "postgresql":
        for ddl in POSTGRESQL_TRIGGERS:
            op.execute(ddl)


def _take_free_text_out_of_the_audit_log() -> None:
    bind = op.get_bind()
    if _dialect() == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    audit = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("action", sa.String),
                     sa.column("detail", sa.Text))
    sanctions = sa.table("sanctions", sa.column("id", sa.String),
                         sa.column("lift_reason", sa.Text))
    rows = bind.execute(sa.select(audit.c.id, audit.c.action, audit.c.detail).where(
        audit.c.action.in_(FREE_TEXT_ACTIONS), audit.c.detail.is_not(None))).all()
    for row in rows:
        try:
            detail = json.loads(row.detail)
        except ValueError:
            continue
        if not isinstance(detail, dict) or "reason" not in detail:
            continue
        reason = detail.pop("reason")
        if row.action != "block" and reason and detail.get("sanction_id"):
            bind.execute(sa.update(sanctions).where(sanctions.c.id == detail["sanction_id"])
                         .values(lift_reason=reason))
        bind.execute(sa.update(audit).where(audit.c.id == row.id).values(
            detail=json.dumps(detail, ensure_ascii=False)))
    if _dialect() == "sqlite":
        op.execute(SQLITE_TRIGGERS[0])


def _rebuild_research(*, upgrade: bool) -> None:
    """New research tables, filled from the old ones in random order, then renamed."""
    op.create_table(
        "research_conversations_new",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("waiting_seconds", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("left_queue", sa.Boolean(), nullable=False),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        **({"sqlite_with_rowid": False} if upgrade else {}),
    )
    if upgrade:
        op.create_table(
            "research_messages_new",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("conversation_id", sa.String(length=32), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("sender", sa.String(length=16), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("conversation_id", "position",
                                name="uq_research_messages_position"),
            sqlite_with_rowid=False,
        )
    else:
        op.create_table(
            "research_messages_new",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("conversation_id", sa.String(length=32), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("sender", sa.String(length=16), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    shuffle = "random()"
    if upgrade:
        minutes = "CAST(ROUND({0} / 60.0) * 60 AS INTEGER)"
        end_reason = ("CASE WHEN end_reason IN ('timeout', 'blocked') THEN 'volunteer' "
                      "ELSE end_reason END")
    else:
        minutes, end_reason = "{0}", "end_reason"
    op.execute(
        "INSERT INTO research_conversations_new (id, day, age, topic, waiting_seconds, "
        "duration_seconds, message_count, left_queue, end_reason) "
        f"SELECT id, day, age, topic, {minutes.format('waiting_seconds')}, "
        f"{minutes.format('duration_seconds')}, message_count, left_queue, {end_reason} "
        f"FROM research_conversations ORDER BY {shuffle}")
    if upgrade:
        # A random id of 24 hex digits for each message, as `new_id()` makes them.
        new_id = ("lower(hex(randomblob(12)))" if _dialect() == "sqlite"
                  else "substr(md5(random()::text || clock_timestamp()::text), 1, 24)")
        op.execute(
            "INSERT INTO research_messages_new (id, conversation_id, position, sender, text) "
            f"SELECT {new_id}, conversation_id, position, sender, text FROM research_messages "
            f"ORDER BY {shuffle}")
    else:
        op.execute(
            "INSERT INTO research_messages_new (conversation_id, position, sender, text) "
            "SELECT conversation_id, position, sender, text FROM research_messages "
            "ORDER BY conversation_id, position")
    op.drop_table("research_messages")
    with op.batch_alter_table("research_conversations") as batch:
        batch.drop_index(batch.f("ix_research_conversations_day"))
    op.drop_table("research_conversations")
    op.rename_table("research_conversations_new", "research_conversations")
    op.rename_table("research_messages_new", "research_messages")
    with op.batch_alter_table("research_conversations") as batch:
        batch.create_index(batch.f("ix_research_conversations_day"), ["day"], unique=False)
    if not upgrade:
        with op.batch_alter_table("research_messages") as batch:
            batch.create_index("ix_research_messages_conversation",
                               ["conversation_id", "position"], unique=False)


def downgrade() -> None:
    if _dialect() == "sqlite":
        for name in ("audit_log_no_delete", "audit_log_purges_no_update",
                     "audit_log_purges_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    elif _dialect() == "postgresql":
        for name, table in (("audit_log_append_only", "audit_log"),
                            ("audit_log_no_truncate", "audit_log"),
                            ("audit_log_purges_append_only", "audit_log_purges")):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    _rebuild_research(upgrade=False)
    op.drop_table("audit_log_purges")
    with op.batch_alter_table("sanctions") as batch:
        batch.drop_column("erased")
        batch.drop_column("lift_reason")
        batch.drop_column("override_reason")
