"""People and how they reach us: a user, its channel identities, roles and consents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.codes import Channel


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    ORG_STAFF = "org_staff"  # scoped to one org; read-only on its descendants; reviewer of its children


@dataclass(eq=False)
class User:
    """One person, whatever channels they use; a volunteer profile, grants and consents hang off it."""

    created_at: datetime
    language: str = "zh_CN"
    display_name: str = ""
    # 2-7.2: recruitment calls are a message the person may turn off (/settings); notices about their
    # own sign-ups still reach them.
    recruitment_off: bool = False
    id: int | None = None


@dataclass(eq=False)
class ChannelIdentity:
    channel: Channel
    external_id: str
    user_id: int
    created_at: datetime
    # The platform refused delivery for good (Telegram 403: the bot was blocked; WeChat: unfollowed):
    # notices skip this identity until the person writes again.
    unreachable_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class RoleGrant:
    user_id: int
    role: Role
    org_id: int | None
    granted_at: datetime
    granted_by: int | None = None
    revoked_at: datetime | None = None
    id: int | None = None


class ConsentKind(StrEnum):
    """Consents are recorded separately and can each be withdrawn (PIPL art. 14, 15)."""

    PRIVACY_NOTICE = "privacy_notice"
    ID_NUMBER = "id_number"  # sensitive personal information, separate consent (PIPL art. 29)
    LOCATION = "location"  # for check-in by location
    DATA_SHARING = "data_sharing"  # 4-5.4: records disclosed only with the volunteer's consent
    GUARDIAN = "guardian"  # PIPL art. 31: a guardian consents for a minor


@dataclass(eq=False)
class Consent:
    user_id: int
    kind: ConsentKind
    granted_at: datetime
    notice_version: str = "1"
    details: dict[str, Any] = field(default_factory=dict)
    withdrawn_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class Actor:
    """Who is acting, with the grants in force. Anonymous beneficiaries have no user id."""

    user_id: int | None
    admin: bool = False
    staff_of: frozenset[int] = frozenset()
    volunteer_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Staff of some organization, or an admin: who may open the organizer's tools."""
        return self.admin or bool(self.staff_of)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None)

    @classmethod
    def system(cls) -> Actor:
        """The platform itself (CLI run by the operator, scheduled jobs)."""
        return cls(user_id=None, admin=True)
