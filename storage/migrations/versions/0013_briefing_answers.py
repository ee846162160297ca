"""The answer to the briefing (3-6.1.3.2: 确认参加), and the deadline a volunteer promoted from the waitlist
close to the start has to give it (3-6.1.3.3).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("signups", sa.Column("presence_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("signups", sa.Column("answer_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_signups_answer_due_at"), "signups", ["answer_due_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_signups_answer_due_at"), table_name="signups")
    op.drop_column("signups", "answer_due_at")
    op.drop_column("signups", "presence_confirmed_at")
