"""The 7-day activity record (3-6.3); trainings as activities of a kind (2-7.4, 3-6.2.1) and the kind
of a certificate (service or training).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("training_kind", sa.String(length=32), nullable=True))
    op.add_column(
        "certificates", sa.Column("kind", sa.String(length=32), server_default="service", nullable=False)
    )
    op.create_table(
        "activity_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("beneficiaries", sa.Text(), nullable=False),
        sa.Column("beneficiary_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("served_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("served_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=100), nullable=False),
        sa.Column("recorder", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_activity_reports_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"], name=op.f("fk_activity_reports_filed_by_users")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_activity_reports_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_reports")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_activity_reports_activity_id")),
    )
    op.create_index(op.f("ix_activity_reports_org_id"), "activity_reports", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_activity_reports_org_id"), table_name="activity_reports")
    op.drop_table("activity_reports")
    op.drop_column("certificates", "kind")
    op.drop_column("activities", "training_kind")
