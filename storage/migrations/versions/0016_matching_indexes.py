"""Indexes for matching (3-6.1.2): GIN on the volunteers' fields and service areas (PostgreSQL's JSONB
? and ?| find those with one in common), and the identities that no longer take messages.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On SQLite these two are plain indexes nothing uses: kept so both schemas match storage/tables.py.
    op.create_index(op.f("ix_volunteers_skills"), "volunteers", ["skills"], postgresql_using="gin")
    op.create_index(
        op.f("ix_volunteers_service_areas"), "volunteers", ["service_areas"], postgresql_using="gin"
    )
    op.create_index(
        op.f("ix_channel_identities_unreachable_at"), "channel_identities", ["unreachable_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_identities_unreachable_at"), table_name="channel_identities")
    op.drop_index(op.f("ix_volunteers_service_areas"), table_name="volunteers")
    op.drop_index(op.f("ix_volunteers_skills"), table_name="volunteers")
