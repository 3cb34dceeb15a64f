"""Each conversation gets its own data key (crypto-shredding, issue 15).

Messages are sealed under their conversation's key, which is itself sealed under the master key.
Redaction replaces the key and erasure and retention delete it, so copies of the old text left in
backups, the WAL or dead row versions can no longer be opened.

Messages written before this migration stay sealed under the master key and keep opening. A
redaction re-seals the whole conversation under a new conversation key, and
`chatserver keys rotate` moves the rest.

Downgrading drops the keys: every message sealed under one no longer opens (shredded).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 03:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
# The coordinator re-chains this after 0005 (written in parallel).
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_keys",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversation_keys") as batch:
        batch.create_index(batch.f("ix_conversation_keys_conversation_id"), ["conversation_id"],
                           unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_keys") as batch:
        batch.drop_index(batch.f("ix_conversation_keys_conversation_id"))
    op.drop_table("conversation_keys")
