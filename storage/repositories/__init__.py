"""core.ports repositories over the unit of work's ``Statements`` (storage.statements), the same on
both databases, a module per aggregate. Records of service are never deleted here (4-5.4).

The common helpers of ``base`` stay importable from here, as before the split, for query modules
beside this package."""

from __future__ import annotations

from storage.repositories.activities import ActivityRepository, NeedRepository, SignupRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.base import _chunks as _chunks
from storage.repositories.base import _insert_once as _insert_once
from storage.repositories.base import _Repository as _Repository
from storage.repositories.base import _upsert as _upsert
from storage.repositories.chat import (
    DeliveryLog,
    DialogRepository,
    MediaRepository,
    WeChatTokenRepository,
    WeChatWindowRepository,
)
from storage.repositories.feedback import EvaluationRepository, FeedbackRepository, SurveyRepository
from storage.repositories.notices import NoticeRepository
from storage.repositories.organizations import BaseRepository, OrganizationRepository, ProjectRepository
from storage.repositories.people import (
    ConsentRepository,
    GrantRepository,
    IdentityRepository,
    LinkCodeRepository,
    UserRepository,
)
from storage.repositories.ratings import RatingQueries
from storage.repositories.records import (
    ActivityReportRepository,
    AttendanceRepository,
    CertificateRepository,
    MakeupRepository,
    ServiceRecordRepository,
)
from storage.repositories.volunteers import MembershipRepository, VolunteerRepository

__all__ = [
    "ActivityReportRepository",
    "ActivityRepository",
    "AttendanceRepository",
    "AuditRepository",
    "BaseRepository",
    "CertificateRepository",
    "ConsentRepository",
    "DeliveryLog",
    "DialogRepository",
    "EvaluationRepository",
    "FeedbackRepository",
    "GrantRepository",
    "IdentityRepository",
    "LinkCodeRepository",
    "MakeupRepository",
    "MediaRepository",
    "MembershipRepository",
    "NeedRepository",
    "NoticeRepository",
    "OrganizationRepository",
    "ProjectRepository",
    "RatingQueries",
    "ServiceRecordRepository",
    "SignupRepository",
    "SurveyRepository",
    "UserRepository",
    "VolunteerRepository",
    "WeChatTokenRepository",
    "WeChatWindowRepository",
]
