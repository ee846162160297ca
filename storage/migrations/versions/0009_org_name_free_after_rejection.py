"""organizations: a rejected application leaves its name free (1-5.2, 1-5.4): the name is unique among
organizations that are not rejected, by a partial unique index instead of a unique constraint.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status != 'rejected'")


def _organizations(*, unique_name: bool) -> sa.Table:
    """The table as this revision finds it (SQLite copies the table to change a constraint; given
    the table, batch mode needs no live database to read it from, so --sql works too)."""
    return sa.Table(
        "organizations",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("service_field", sa.String(length=200), nullable=False),
        sa.Column("service_items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("leader_name", sa.String(length=40), nullable=False),
        sa.Column("leader_contact", sa.String(length=100), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("unit_full_name", sa.Boolean(), nullable=False),
        sa.Column("join_requires_approval", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("applied_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["applied_by"], ["users.id"], name="fk_organizations_applied_by_users"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organizations.id"], name="fk_organizations_parent_id_organizations"
        ),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"], name="fk_organizations_reviewed_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        *([sa.UniqueConstraint("name", name="uq_organizations_name")] if unique_name else []),
        sa.Index("ix_organizations_parent_id", "parent_id"),
        sa.Index("ix_organizations_status", "status"),
    )


def upgrade() -> None:
    with op.batch_alter_table("organizations", copy_from=_organizations(unique_name=True)) as batch:
        batch.drop_constraint("uq_organizations_name", type_="unique")
    op.create_index(
        "uq_organizations_name_live",
        "organizations",
        ["name"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    # Fails if a rejected application and a later one share a name: rename one of them first.
    op.drop_index("uq_organizations_name_live", table_name="organizations")
    with op.batch_alter_table("organizations", copy_from=_organizations(unique_name=False)) as batch:
        batch.create_unique_constraint("uq_organizations_name", ["name"])
