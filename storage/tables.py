"""Tables, and the classical mapping of core's dataclasses onto them (the domain imports no ORM)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import registry

from core.domain.activity import Activity, ActivityStatus, Base, Project
from core.domain.attendance import (
    Attendance,
    CheckMethod,
    MakeupRequest,
    MakeupStatus,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from core.domain.audit import AuditEntry
from core.domain.certificate import Certificate, CertificateKind, CertificateStatus
from core.domain.codes import (
    ActivityMode,
    BaseKind,
    Channel,
    IdType,
    OrgKind,
    RiskLevel,
    ServiceContent,
    TrainingKind,
)
from core.domain.dialog import Feedback, Notice
from core.domain.evaluation import Evaluation
from core.domain.linking import LinkCode
from core.domain.need import Need, NeedStatus
from core.domain.organization import Organization, OrgStatus
from core.domain.people import ChannelIdentity, Consent, ConsentKind, Role, RoleGrant, User
from core.domain.report import ActivityReport
from core.domain.signup import Signup, SignupStatus
from core.domain.survey import SurveyKind, SurveyResponse
from core.domain.volunteer import Membership, MembershipStatus, Volunteer, VolunteerStatus
from storage.types import Encrypted, EnumStr, Fixed, JsonDict, JsonList, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


users = Table(
    "users",
    metadata,
    _id(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("language", String(8), nullable=False),
    Column("display_name", String(100), nullable=False, default=""),
    Column("recruitment_off", Boolean, nullable=False, server_default=false()),
)

channel_identities = Table(
    "channel_identities",
    metadata,
    _id(),
    Column("channel", EnumStr(Channel), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("unreachable_at", UTCDateTime, index=True),  # matching: the few who take no messages
    UniqueConstraint("channel", "external_id"),
)

organizations = Table(
    "organizations",
    metadata,
    _id(),
    Column("name", String(60), nullable=False),
    Column("kind", EnumStr(OrgKind), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("parent_id", ForeignKey("organizations.id"), index=True),
    Column("service_field", String(200), nullable=False),
    Column("service_items", JsonList, nullable=False),
    Column("requirements", Text, nullable=False),
    Column("leader_name", String(40), nullable=False),
    Column("leader_contact", String(100), nullable=False),
    Column("member_count", Integer, nullable=False),
    Column("status", EnumStr(OrgStatus), nullable=False, index=True),
    Column("status_reason", Text),
    Column("unit_full_name", Boolean, nullable=False),
    Column("join_requires_approval", Boolean, nullable=False),
    Column("timezone", String(40), nullable=False),
    Column("applied_by", ForeignKey("users.id")),
    Column("reviewed_by", ForeignKey("users.id")),
    Column("reviewed_at", UTCDateTime),
    # 1-5.2: one name per organization, but a rejected application leaves its name free to apply again.
    Index(
        "uq_organizations_name_live",
        "name",
        unique=True,
        sqlite_where=text("status != 'rejected'"),
        postgresql_where=text("status != 'rejected'"),
    ),
)

role_grants = Table(
    "role_grants",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("role", EnumStr(Role), nullable=False),
    Column("org_id", ForeignKey("organizations.id"), index=True),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("granted_by", ForeignKey("users.id")),
    Column("revoked_at", UTCDateTime),
)

consents = Table(
    "consents",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", EnumStr(ConsentKind), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("notice_version", String(16), nullable=False),
    Column("details", JsonDict, nullable=False),
    Column("withdrawn_at", UTCDateTime),
)

volunteers = Table(
    "volunteers",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, unique=True),
    Column("name", String(40), nullable=False),
    Column("phone", Encrypted, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("region", String(100), nullable=False),
    Column("id_type", EnumStr(IdType)),
    Column("id_number", Encrypted),
    Column("birth_date", Date),
    Column("skills", JsonList, nullable=False),
    Column("service_areas", JsonList, nullable=False),
    Column("qualifications", JsonList, nullable=False),
    Column("volunteer_number", String(20), unique=True),
    Column("status", EnumStr(VolunteerStatus), nullable=False),
    Column("status_reason", Text),
    # 3-6.1.2 matching: a field or a service area in common (JSONB ? and ?| on PostgreSQL; on SQLite a
    # plain index that nothing uses, kept so both databases have the same schema).
    Index(None, "skills", postgresql_using="gin"),
    Index(None, "service_areas", postgresql_using="gin"),
)

memberships = Table(
    "memberships",
    metadata,
    _id(),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False),
    Column("org_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("status", EnumStr(MembershipStatus), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decided_by", ForeignKey("users.id")),
    Column("reason", Text),
    UniqueConstraint("volunteer_id", "org_id"),
)

bases = Table(
    "bases",
    metadata,
    _id(),
    Column("name", String(100), nullable=False),
    Column("kind", EnumStr(BaseKind), nullable=False),
    Column("org_id", ForeignKey("organizations.id")),
    Column("address", String(200), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    Column("org_id", ForeignKey("organizations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("brand", String(100), nullable=False),
    Column("goals", Text, nullable=False),
    Column("plan", Text, nullable=False),
)

_plan_text = (
    "purpose",
    "organizing_unit",
    "content",
    "process",
    "beneficiaries",
    "volunteer_team",
    "guarantees",
    "funding",
    "emergency_plan",
    "publicity",
    "summary",
)

activities = Table(
    "activities",
    metadata,
    _id(),
    Column("org_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("title", String(100), nullable=False),
    Column("service_content", EnumStr(ServiceContent), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("mode", EnumStr(ActivityMode), nullable=False),
    Column("timezone", String(40), nullable=False),
    *(Column(name, Text, nullable=False) for name in _plan_text),
    Column("service_objects", JsonList, nullable=False),
    Column("place_name", String(100), nullable=False),
    Column("address", String(200), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("checkin_radius_m", Integer, nullable=False),
    Column("online_url", String(500), nullable=False),
    Column("hours_coefficient", Fixed(2), nullable=False, server_default="100"),
    Column("checkin_code_required", Boolean, nullable=False, server_default=false()),
    Column("checkin_secret", String(64), nullable=False, server_default=""),
    Column("capacity", Integer, nullable=False),
    Column("required_skills", JsonList, nullable=False),
    Column("required_qualifications", JsonList, nullable=False),
    Column("required_training", Text, nullable=False),
    Column("training_kind", EnumStr(TrainingKind)),
    Column("special_groups", JsonList, nullable=False),
    Column("high_privacy", Boolean, nullable=False),
    Column("field_work", Boolean, nullable=False),
    Column("risk_level", EnumStr(RiskLevel), nullable=False),
    Column("risks", Text, nullable=False),
    Column("insurance_required", Boolean, nullable=False),
    Column("signup_requires_approval", Boolean, nullable=False),
    Column("project_id", ForeignKey("projects.id")),
    Column("base_id", ForeignKey("bases.id")),
    Column("status", EnumStr(ActivityStatus), nullable=False),
    Column("status_reason", Text),
    Column("created_by", ForeignKey("users.id")),
    Column("published_at", UTCDateTime),
    Index(None, "status", "starts_at"),
    Index(None, "latitude", "longitude"),  # "near me": the bounding box before the exact distance
)

signups = Table(
    "signups",
    metadata,
    _id(),
    Column("activity_id", ForeignKey("activities.id"), nullable=False),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False, index=True),
    Column("status", EnumStr(SignupStatus), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("insurance_confirmed", Boolean, nullable=False),
    Column("waitlisted_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", Text),
    Column("presence_confirmed_at", UTCDateTime),
    Column("answer_due_at", UTCDateTime, index=True),
    Index(None, "activity_id", "status"),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_user_id", ForeignKey("users.id")),
    Column("action", String(40), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", Integer),
    Column("reason", Text),
    Column("details", JsonDict, nullable=False),
    Index(None, "entity", "entity_id"),
)

dialogs = Table(
    "dialogs",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("flow", String(40), nullable=False),
    Column("step", String(40), nullable=False),
    Column("data", JsonDict, nullable=False),
    Column("offered", JsonList, nullable=False, server_default="[]"),
)

notices = Table(
    "notices",
    metadata,
    _id(),
    Column("key", String(120), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("message_key", String(80), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("params", JsonDict, nullable=False),
    Column("choices", JsonList, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("failed", Boolean, nullable=False),
    Column("withdrawn_at", UTCDateTime),
    Index(None, "sent_at", "failed", "due_at"),
)

feedback = Table(
    "feedback",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("org_id", ForeignKey("organizations.id"), index=True),
    Column("reply", Text),
    Column("replied_by", ForeignKey("users.id")),
    Column("replied_at", UTCDateTime),
    # 1-6.1.2 d, 2-8.2: a complaint names what it is about; unanswered past the response time it
    # escalates to the parent org once. Plain ids: SQLite cannot add a foreign key to a table.
    Column("kind", String(16), nullable=False, server_default="opinion"),
    Column("activity_id", Integer),
    Column("volunteer_id", Integer),
    Column("escalated_at", UTCDateTime),
    Column("escalated_org_id", Integer),
)

# Inbound deliveries already handled (Telegram update_id, WeChat MsgId): redeliveries are ignored.
deliveries = Table(
    "deliveries",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("handled_at", UTCDateTime, nullable=False, index=True),
)

# One-time codes linking a second channel to a user; only the code's sha256 is kept.
link_codes = Table(
    "link_codes",
    metadata,
    _id(),
    Column("code_hash", String(64), nullable=False, index=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("used_by_identity", ForeignKey("channel_identities.id")),
)

# WeChat's access token, shared by every instance (each fetch invalidates the one before, after 5 minutes).
wechat_tokens = Table(
    "wechat_tokens",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(512), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A user's message opens a customer-service window: 5 messages within 48 hours (WeChat, since June 2023).
wechat_windows = Table(
    "wechat_windows",
    metadata,
    Column("openid", String(128), primary_key=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("sent", Integer, nullable=False, server_default="0"),
)

# Files the app serves for a while at /media/<token> (QR codes, exports) to channels whose replies
# cannot carry them: in the database, so that any instance of the server answers the link.
media = Table(
    "media",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# 3-6.1.1: needs sent in by requesters, reviewed, then taken by an org. The phone is personal data.
needs = Table(
    "needs",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("requester", String(60), nullable=False),
    Column("phone", Encrypted, nullable=False),
    Column("description", Text, nullable=False),
    Column("service_content", EnumStr(ServiceContent), nullable=False),
    Column("volunteers_needed", Integer, nullable=False),
    Column("mode", EnumStr(ActivityMode), nullable=False),
    Column("preferred_time", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("service_objects", JsonList, nullable=False),
    Column("expertise", JsonList, nullable=False),
    Column("place", String(200), nullable=False),
    Column("org_id", ForeignKey("organizations.id"), index=True),
    Column("status", EnumStr(NeedStatus), nullable=False, index=True),
    Column("status_reason", Text),
    Column("reviewed_by", ForeignKey("users.id")),
    Column("reviewed_at", UTCDateTime),
    Column("taken_by_org", ForeignKey("organizations.id")),
    Column("taken_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
)

# 3-8.1.2: satisfaction survey answers; user_id stays empty for high-privacy activities (3-7.3).
survey_responses = Table(
    "survey_responses",
    metadata,
    _id(),
    Column("activity_id", ForeignKey("activities.id"), nullable=False),
    Column("kind", EnumStr(SurveyKind), nullable=False),
    Column("answers", JsonDict, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("user_id", ForeignKey("users.id")),
    Column("comment", Text),
    Index(None, "activity_id", "kind"),
)

# Who answered which survey (one answer each), kept apart from the answers so a high-privacy
# response cannot be traced back to its author: no id, no time, nothing to join on.
survey_respondents = Table(
    "survey_respondents",
    metadata,
    Column("activity_id", ForeignKey("activities.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    PrimaryKeyConstraint("activity_id", "kind", "user_id"),
)

# 2-6.3 a, 2-7.5.2: one volunteer at one activity. Raw coordinates only with location consent, and
# only until coordinates_until (PIPL art. 28); the distance and the result are kept.
attendances = Table(
    "attendances",
    metadata,
    _id(),
    Column("activity_id", ForeignKey("activities.id"), nullable=False, index=True),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False, index=True),
    Column("signup_id", ForeignKey("signups.id"), nullable=False, unique=True),
    Column("checked_in_at", UTCDateTime, nullable=False),
    Column("checkin_method", EnumStr(CheckMethod), nullable=False),
    Column("checkin_distance_m", Integer),
    Column("checkin_latitude", Float),
    Column("checkin_longitude", Float),
    Column("checked_out_at", UTCDateTime),
    Column("checkout_method", EnumStr(CheckMethod)),
    Column("checkout_distance_m", Integer),
    Column("checkout_latitude", Float),
    Column("checkout_longitude", Float),
    Column("coordinates_until", UTCDateTime, index=True),
    Column("needs_review", Boolean, nullable=False),
    Column("recorded_by", ForeignKey("users.id")),
)

# 2-6.3, 4-5.4: hours per session, kept at least 10 years, never deleted. Hours in tenths.
service_records = Table(
    "service_records",
    metadata,
    _id(),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False),
    Column("activity_id", ForeignKey("activities.id"), nullable=False, index=True),
    Column("org_id", ForeignKey("organizations.id"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Column("onsite_hours", Fixed(1), nullable=False),
    Column("coefficient", Fixed(2), nullable=False),
    Column("credited_hours", Fixed(1), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", EnumStr(RecordSource), nullable=False),
    Column("status", EnumStr(RecordStatus), nullable=False),
    Column("manual", Boolean, nullable=False),
    Column("needs_review", Boolean, nullable=False),
    Column("below_minimum", Boolean, nullable=False),
    Column("attendance_id", ForeignKey("attendances.id")),
    Column("makeup_id", ForeignKey("makeup_requests.id")),
    Column("decided_by", ForeignKey("users.id")),
    Column("decided_at", UTCDateTime),
    Column("void_reason", Text),
    Index(None, "volunteer_id", "status"),
    Index(None, "org_id", "status"),
    # One standing record per volunteer and activity; a voided one leaves room for its correction.
    Index(
        "uq_service_records_live",
        "volunteer_id",
        "activity_id",
        unique=True,
        sqlite_where=text("status != 'voided'"),
        postgresql_where=text("status != 'voided'"),
    ),
)

# 2-6.3 c: 补录 requests, decided by staff of the organizing org.
makeup_requests = Table(
    "makeup_requests",
    metadata,
    _id(),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False, index=True),
    Column("activity_id", ForeignKey("activities.id"), nullable=False),
    Column("org_id", ForeignKey("organizations.id"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", EnumStr(MakeupStatus), nullable=False),
    Column("approved_hours", Fixed(1)),
    Column("decided_by", ForeignKey("users.id")),
    Column("decided_at", UTCDateTime),
    Column("decision_reason", Text),
    Column("record_id", Integer),
    Column("has_photo", Boolean, nullable=False, server_default=false()),
    Index(None, "org_id", "status"),
)

# 2-6.3 c: the photo a volunteer may attach to a make-up request, kept apart so that listing
# requests never loads images.
makeup_photos = Table(
    "makeup_photos",
    metadata,
    Column("makeup_id", ForeignKey("makeup_requests.id"), primary_key=True),
    Column("mime", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# 4-5.5: the register of issued certificates; each an immutable snapshot, revoked only with a reason.
certificates = Table(
    "certificates",
    metadata,
    _id(),
    Column("number", String(32), nullable=False, unique=True),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False, index=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("snapshot", JsonDict, nullable=False),
    Column("kind", EnumStr(CertificateKind), nullable=False, server_default=CertificateKind.SERVICE.value),
    Column("status", EnumStr(CertificateStatus), nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("revoke_reason", Text),
)

# 3-6.3: one activity record per activity, filed within 7 days after it ends.
activity_reports = Table(
    "activity_reports",
    metadata,
    _id(),
    Column("activity_id", ForeignKey("activities.id"), nullable=False, unique=True),
    Column("org_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("beneficiaries", Text, nullable=False),
    Column("beneficiary_count", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("served_from", UTCDateTime, nullable=False),
    Column("served_until", UTCDateTime, nullable=False),
    Column("quality", Integer, nullable=False),
    Column("leader", String(100), nullable=False),
    Column("recorder", String(100), nullable=False),
    Column("summary", Text, nullable=False),
    Column("filed_by", ForeignKey("users.id"), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("revised_at", UTCDateTime),
)

# 2-10.1: staff evaluate each attendee after an activity (attitude, behaviour, effect, 1–5 each).
volunteer_evaluations = Table(
    "volunteer_evaluations",
    metadata,
    _id(),
    Column("activity_id", ForeignKey("activities.id"), nullable=False),
    Column("volunteer_id", ForeignKey("volunteers.id"), nullable=False, index=True),
    Column("attitude", Integer, nullable=False),
    Column("behaviour", Integer, nullable=False),
    Column("effect", Integer, nullable=False),
    Column("comment", Text),
    Column("evaluated_by", ForeignKey("users.id"), nullable=False),
    Column("evaluated_at", UTCDateTime, nullable=False),
    UniqueConstraint("activity_id", "volunteer_id"),
)

mapper_registry = registry(metadata=metadata)
_MAPPED = (
    (User, users),
    (ChannelIdentity, channel_identities),
    (Organization, organizations),
    (RoleGrant, role_grants),
    (Consent, consents),
    (Volunteer, volunteers),
    (Membership, memberships),
    (Base, bases),
    (Project, projects),
    (Activity, activities),
    (Signup, signups),
    (AuditEntry, audit_log),
    (Notice, notices),
    (Feedback, feedback),
    (LinkCode, link_codes),
    (Need, needs),
    (SurveyResponse, survey_responses),
    (Attendance, attendances),
    (ServiceRecord, service_records),
    (MakeupRequest, makeup_requests),
    (Certificate, certificates),
    (ActivityReport, activity_reports),
    (Evaluation, volunteer_evaluations),
)


def start_mappers() -> None:
    """Idempotent: map core's dataclasses onto the tables once per process."""
    if mapper_registry.mappers:
        return
    for cls, table in _MAPPED:
        mapper_registry.map_imperatively(cls, table)
    # Now, not at the first ORM query: a copy made by ``read`` (no query) before any query of the
    # process would otherwise find its attributes not yet instrumented.
    mapper_registry.configure()
