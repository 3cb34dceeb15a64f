"""A sealed TOTP secret is about 100 characters: widen staff_users.totp_secret to 255.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=64),
                              type_=sa.String(length=255), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=255),
                              type_=sa.String(length=64), existing_nullable=True)
