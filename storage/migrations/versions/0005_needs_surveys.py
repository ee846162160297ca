"""needs, survey_responses and survey_respondents: requesters' needs (3-6.1.1) and satisfaction
surveys (3-8.1.2) in chat (issue 3).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service_content", sa.String(length=32), nullable=False),
        sa.Column("volunteers_needed", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("preferred_time", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_objects", _json(), nullable=False),
        sa.Column("expertise", _json(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_by_org", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_needs_org_id_organizations")),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"], name=op.f("fk_needs_reviewed_by_users")),
        sa.ForeignKeyConstraint(
            ["taken_by_org"], ["organizations.id"], name=op.f("fk_needs_taken_by_org_organizations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_needs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
    )
    op.create_index(op.f("ix_needs_org_id"), "needs", ["org_id"], unique=False)
    op.create_index(op.f("ix_needs_status"), "needs", ["status"], unique=False)
    op.create_index(op.f("ix_needs_user_id"), "needs", ["user_id"], unique=False)
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("answers", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_survey_responses_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_survey_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    op.create_index(
        op.f("ix_survey_responses_activity_id_kind"),
        "survey_responses",
        ["activity_id", "kind"],
        unique=False,
    )
    op.create_table(
        "survey_respondents",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_survey_respondents_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_survey_respondents_user_id_users")),
        sa.PrimaryKeyConstraint("activity_id", "kind", "user_id", name=op.f("pk_survey_respondents")),
    )


def downgrade() -> None:
    op.drop_table("survey_respondents")
    op.drop_index(op.f("ix_survey_responses_activity_id_kind"), table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index(op.f("ix_needs_user_id"), table_name="needs")
    op.drop_index(op.f("ix_needs_status"), table_name="needs")
    op.drop_index(op.f("ix_needs_org_id"), table_name="needs")
    op.drop_table("needs")
