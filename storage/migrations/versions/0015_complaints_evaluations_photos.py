"""Complaints that escalate, staff evaluations of attendees, and a photo on a make-up request.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy (offline --sql mode cannot reflect a table), and no foreign
    # keys on the new feedback ids: SQLite cannot add a constraint to an existing table.
    op.add_column("feedback", sa.Column("kind", sa.String(16), server_default="opinion", nullable=False))
    for name in ("activity_id", "volunteer_id", "escalated_org_id"):
        op.add_column("feedback", sa.Column(name, sa.Integer(), nullable=True))
    op.add_column("feedback", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "makeup_requests", sa.Column("has_photo", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "makeup_photos",
        sa.Column("makeup_id", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["makeup_id"], ["makeup_requests.id"], name="fk_makeup_photos_makeup_id_makeup_requests"
        ),
        sa.PrimaryKeyConstraint("makeup_id", name="pk_makeup_photos"),
    )
    op.create_table(
        "volunteer_evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("attitude", sa.Integer(), nullable=False),
        sa.Column("behaviour", sa.Integer(), nullable=False),
        sa.Column("effect", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("evaluated_by", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name="fk_volunteer_evaluations_activity_id_activities"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name="fk_volunteer_evaluations_volunteer_id_volunteers"
        ),
        sa.ForeignKeyConstraint(
            ["evaluated_by"], ["users.id"], name="fk_volunteer_evaluations_evaluated_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_volunteer_evaluations"),
        sa.UniqueConstraint(
            "activity_id", "volunteer_id", name="uq_volunteer_evaluations_activity_id_volunteer_id"
        ),
    )
    op.create_index("ix_volunteer_evaluations_volunteer_id", "volunteer_evaluations", ["volunteer_id"])


def downgrade() -> None:
    op.drop_index("ix_volunteer_evaluations_volunteer_id", table_name="volunteer_evaluations")
    op.drop_table("volunteer_evaluations")
    op.drop_table("makeup_photos")
    with op.batch_alter_table("makeup_requests") as batch:
        batch.drop_column("has_photo")
    with op.batch_alter_table("feedback") as batch:
        for name in ("escalated_at", "escalated_org_id", "volunteer_id", "activity_id", "kind"):
            batch.drop_column(name)
