"""Attendance, service records, make-up requests and certificates (2-6.3, 2-7.5.2, 4-5.4, 4-5.5); an
activity's hours coefficient and check-in code.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status != 'voided'")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "activities", sa.Column("hours_coefficient", sa.Integer(), server_default="100", nullable=False)
    )
    op.add_column(
        "activities",
        sa.Column("checkin_code_required", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "activities", sa.Column("checkin_secret", sa.String(length=64), server_default="", nullable=False)
    )
    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_method", sa.String(length=32), nullable=False),
        sa.Column("checkin_distance_m", sa.Integer(), nullable=True),
        sa.Column("checkin_latitude", sa.Float(), nullable=True),
        sa.Column("checkin_longitude", sa.Float(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkout_method", sa.String(length=32), nullable=True),
        sa.Column("checkout_distance_m", sa.Integer(), nullable=True),
        sa.Column("checkout_latitude", sa.Float(), nullable=True),
        sa.Column("checkout_longitude", sa.Float(), nullable=True),
        sa.Column("coordinates_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_attendances_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_attendances_recorded_by_users")),
        sa.ForeignKeyConstraint(["signup_id"], ["signups.id"], name=op.f("fk_attendances_signup_id_signups")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_attendances_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("signup_id", name=op.f("uq_attendances_signup_id")),
    )
    op.create_index(op.f("ix_attendances_activity_id"), "attendances", ["activity_id"], unique=False)
    op.create_index(op.f("ix_attendances_volunteer_id"), "attendances", ["volunteer_id"], unique=False)
    op.create_index(
        op.f("ix_attendances_coordinates_until"), "attendances", ["coordinates_until"], unique=False
    )
    op.create_table(
        "makeup_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("approved_hours", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_makeup_requests_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_makeup_requests_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_makeup_requests_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_makeup_requests_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_makeup_requests")),
    )
    op.create_index(
        op.f("ix_makeup_requests_volunteer_id"), "makeup_requests", ["volunteer_id"], unique=False
    )
    op.create_index(
        op.f("ix_makeup_requests_org_id_status"), "makeup_requests", ["org_id", "status"], unique=False
    )
    op.create_table(
        "service_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onsite_hours", sa.Integer(), nullable=False),
        sa.Column("coefficient", sa.Integer(), nullable=False),
        sa.Column("credited_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("below_minimum", sa.Boolean(), nullable=False),
        sa.Column("attendance_id", sa.Integer(), nullable=True),
        sa.Column("makeup_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_service_records_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["attendance_id"], ["attendances.id"], name=op.f("fk_service_records_attendance_id_attendances")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_service_records_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["makeup_id"], ["makeup_requests.id"], name=op.f("fk_service_records_makeup_id_makeup_requests")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_service_records_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_service_records_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_records")),
    )
    op.create_index(op.f("ix_service_records_activity_id"), "service_records", ["activity_id"], unique=False)
    op.create_index(
        op.f("ix_service_records_volunteer_id_status"),
        "service_records",
        ["volunteer_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_service_records_org_id_status"), "service_records", ["org_id", "status"], unique=False
    )
    op.create_index(
        "uq_service_records_live",
        "service_records",
        ["volunteer_id", "activity_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_certificates_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
    )
    op.create_index(op.f("ix_certificates_volunteer_id"), "certificates", ["volunteer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_certificates_volunteer_id"), table_name="certificates")
    op.drop_table("certificates")
    op.drop_index("uq_service_records_live", table_name="service_records")
    op.drop_index(op.f("ix_service_records_org_id_status"), table_name="service_records")
    op.drop_index(op.f("ix_service_records_volunteer_id_status"), table_name="service_records")
    op.drop_index(op.f("ix_service_records_activity_id"), table_name="service_records")
    op.drop_table("service_records")
    op.drop_index(op.f("ix_makeup_requests_org_id_status"), table_name="makeup_requests")
    op.drop_index(op.f("ix_makeup_requests_volunteer_id"), table_name="makeup_requests")
    op.drop_table("makeup_requests")
    op.drop_index(op.f("ix_attendances_coordinates_until"), table_name="attendances")
    op.drop_index(op.f("ix_attendances_volunteer_id"), table_name="attendances")
    op.drop_index(op.f("ix_attendances_activity_id"), table_name="attendances")
    op.drop_table("attendances")
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("checkin_secret")
        batch.drop_column("checkin_code_required")
        batch.drop_column("hours_coefficient")
