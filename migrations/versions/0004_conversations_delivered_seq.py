"""Conversations remember how far the chatter acknowledged their messages.

Delivery progress lived only in memory (or Redis): after an end, a restart or a move to
another worker, `resume` without `after` sent the chatter messages they already had.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("delivered_seq", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("delivered_seq")
