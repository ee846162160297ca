"""An index on the activities' position: "near me" asks the database for a bounding box first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_activities_latitude_longitude"), "activities", ["latitude", "longitude"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_activities_latitude_longitude"), table_name="activities")
