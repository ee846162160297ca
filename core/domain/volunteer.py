from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from core.domain.codes import IdType
from core.domain.identity_numbers import age_on, ascii_form


class VolunteerStatus(StrEnum):
    ACTIVE = "active"
    TRANSFERRED = "transferred"  # 2-6.2 e
    CLEARED = "cleared"  # 2-6.2 f: exit, with reason; records kept


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    LEFT = "left"


# The memberships that tie a volunteer to an org today.
CURRENT_MEMBERSHIP = frozenset({MembershipStatus.PENDING, MembershipStatus.ACTIVE})


@dataclass(eq=False)
class Volunteer:
    """2-7.1: a registered volunteer. Phone and ID number are encrypted at rest by storage."""

    user_id: int
    name: str
    phone: str
    registered_at: datetime
    region: str = ""
    id_type: IdType | None = None
    id_number: str | None = None
    birth_date: date | None = None
    skills: list[str] = field(default_factory=list)  # ProfessionalField codes, 2-6.2 b
    service_areas: list[str] = field(default_factory=list)  # ServiceContent codes, 3-5.2
    qualifications: list[str] = field(default_factory=list)  # Qualification codes on record
    volunteer_number: str | None = None
    status: VolunteerStatus = VolunteerStatus.ACTIVE
    status_reason: str | None = None
    id: int | None = None

    def age_on(self, day: date) -> int | None:
        return None if self.birth_date is None else age_on(self.birth_date, day)

    @property
    def active(self) -> bool:
        return self.status is VolunteerStatus.ACTIVE


@dataclass(eq=False)
class Membership:
    """A volunteer may belong to several orgs; joining may need the org's approval."""

    volunteer_id: int
    org_id: int
    status: MembershipStatus
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None
    reason: str | None = None
    id: int | None = None


def volunteer_number(volunteer_id: int, registered: datetime) -> str:
    """A stable, human-readable number printed on certificates: KJ + year + seven digits."""
    return f"KJ{registered.year}{volunteer_id:07d}"


VOLUNTEER_NUMBER_MAX = 20

EARLIEST_BIRTH = date(1900, 1, 1)  # a birth date before it is a typing error
REGION_MAX = 100
_REGION_SEPARATORS = frozenset(" ,，、·・.'’-()（）/")


def plausible_region(text: str) -> str | None:
    """2-7.1: the region, as it is written ("北京", "江苏省南京市玄武区", "Gulou District, Nanjing"), spaces
    squeezed; None for what names no place ("x", "123", "？？"). Matching compares it with an
    activity's place (3-6.1.3.1), so it is a name: letters of any script, digits, spaces and the
    punctuation of addresses, with at least two Chinese characters or three other letters."""
    region = " ".join(text.split())
    if not region or len(region) > REGION_MAX:
        return None
    if not all(unicodedata.category(ch)[0] in "LMN" or ch in _REGION_SEPARATORS for ch in region):
        return None
    ideographs = sum(1 for ch in region if unicodedata.category(ch) == "Lo")
    letters = sum(1 for ch in region if unicodedata.category(ch)[0] == "L")
    return region if ideographs >= 2 or letters - ideographs >= 3 else None


def typed_volunteer_number(raw: str) -> str | None:
    """A volunteer number as people type it (full width from a Chinese input method, spaces, lower
    case) in the form it is stored; None for what cannot be one."""
    number = "".join(ascii_form(raw).split()).upper()
    return number if 0 < len(number) <= VOLUNTEER_NUMBER_MAX and number.isascii() else None
