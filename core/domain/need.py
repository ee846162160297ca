"""3-6.1.1: a need (需求) sent in by anyone who wants a service — a person, a school, a village —
reviewed before it is published, then taken by an org that arranges the service."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.codes import ActivityMode, ProfessionalField, ServiceContent, ServiceObject
from core.domain.identity_numbers import ascii_form, normalise_mobile
from core.errors import Conflict, InvalidInput

REQUESTER_MAX = 60
DESCRIPTION_MAX = 500
TIME_MAX = 100
PLACE_MAX = 200
REASON_MAX = 500
VOLUNTEERS_MIN, VOLUNTEERS_MAX = 1, 500


class NeedStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for review (3-6.1.1: reviewed before it is published)
    APPROVED = "approved"  # published: an org may take it
    REJECTED = "rejected"
    TAKEN = "taken"  # an org arranges the service
    CLOSED = "closed"


@dataclass(eq=False)
class Need:
    user_id: int  # the requester; beneficiaries need not register, every chat user has a user row
    requester: str  # name or unit
    phone: str  # encrypted at rest; used only to arrange the service
    description: str
    service_content: ServiceContent
    volunteers_needed: int
    mode: ActivityMode
    preferred_time: str
    created_at: datetime
    service_objects: list[str] = field(default_factory=list)  # ServiceObject codes, 3-5.1
    expertise: list[str] = field(default_factory=list)  # ProfessionalField codes, 2-6.2 b
    place: str = ""
    org_id: int | None = None  # the org it is addressed to; None: any org may review and take it
    status: NeedStatus = NeedStatus.SUBMITTED
    status_reason: str | None = None
    reviewed_by: int | None = None
    reviewed_at: datetime | None = None
    taken_by_org: int | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    id: int | None = None

    def check(self) -> None:
        """What every stored need keeps (the chat checks each answer as it comes, too)."""
        check_text(self.requester, REQUESTER_MAX, "need.requester.invalid")
        check_text(self.description, DESCRIPTION_MAX, "need.description.invalid")
        check_text(self.preferred_time, TIME_MAX, "need.time.invalid")
        if not VOLUNTEERS_MIN <= self.volunteers_needed <= VOLUNTEERS_MAX:
            raise InvalidInput("need.volunteers.invalid", min=VOLUNTEERS_MIN, max=VOLUNTEERS_MAX)
        if not self.service_objects or any(
            o not in ServiceObject._value2member_map_ for o in self.service_objects
        ):
            raise InvalidInput("need.objects.invalid")
        if any(e not in ProfessionalField._value2member_map_ for e in self.expertise):
            raise InvalidInput("need.expertise.invalid")
        if self.mode is not ActivityMode.ONLINE:
            check_text(self.place, PLACE_MAX, "need.place.invalid")

    def approve(self, user_id: int | None, now: datetime) -> None:
        self._require(NeedStatus.SUBMITTED, "need.already_decided")
        self.status, self.reviewed_by, self.reviewed_at = NeedStatus.APPROVED, user_id, now

    def reject(self, user_id: int | None, now: datetime, reason: str) -> None:
        self._require(NeedStatus.SUBMITTED, "need.already_decided")
        self.status_reason = check_text(reason, REASON_MAX, "need.reason.invalid")
        self.status, self.reviewed_by, self.reviewed_at = NeedStatus.REJECTED, user_id, now

    def take(self, org_id: int, now: datetime) -> None:
        self._require(NeedStatus.APPROVED, "need.not_open")
        self.status, self.taken_by_org, self.taken_at = NeedStatus.TAKEN, org_id, now

    def close(self, now: datetime) -> None:
        self._require(NeedStatus.TAKEN, "need.not_taken")
        self.status, self.closed_at = NeedStatus.CLOSED, now

    def _require(self, status: NeedStatus, key: str) -> None:
        if self.status is not status:
            raise Conflict(key, number=self.id, status=self.status.value)


def check_text(text: str, max_length: int, key: str) -> str:
    """One line of plain text: spaces squeezed, not empty, not over max_length."""
    value = " ".join(text.split())
    if not value or len(value) > max_length:
        raise InvalidInput(key, max=max_length)
    return value


def parse_volunteers(text: str) -> int:
    """ "20", "２０人", "20 名" as people type them."""
    digits = unicodedata.normalize("NFKC", text).strip().removesuffix("人").removesuffix("名").strip()
    if not (digits.isascii() and digits.isdigit()) or not VOLUNTEERS_MIN <= int(digits) <= VOLUNTEERS_MAX:
        raise InvalidInput("need.volunteers.invalid", min=VOLUNTEERS_MIN, max=VOLUNTEERS_MAX)
    return int(digits)


# A mainland landline: the area code with its 0 (010 and 02x take 3 digits, every other code 4), then a
# local number of 7 or 8 digits that starts with neither 0 nor 1 (always 8 after 010 and 02x).
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d\d))([2-9]\d{6,7})", re.ASCII)
_LOCAL_ONLY = re.compile(r"[2-9]\d{6,7}", re.ASCII)
# An extension after the number: 025-83331234-801, 025-83331234 转 801, …ext 801, …#801.
_EXTENSION = re.compile(r"(.+?)\s*(?:转|分机|ext\.?|x|#|-)\s*(\d{1,6})", re.ASCII | re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-()]")


def normalise_contact_phone(raw: str) -> str:
    """A need's contact: a mainland mobile (13812345678) or a landline with its area code, written with
    or without the dash, with an optional extension; kept as 13812345678, 025-83331234 or
    025-83331234-801.

    Not the volunteer's check (normalise_mobile) loosened: a volunteer is reached on the move, before and
    during an activity, so registration keeps asking for a mobile; a need is often sent by a neighbourhood
    committee, a village office or a school, whose number is a desk phone (3-6.1.1)."""
    text = ascii_form(raw).strip()
    try:
        return normalise_mobile(text)
    except InvalidInput:
        pass
    landline = _landline(text)
    if landline is not None:
        return landline
    if _LOCAL_ONLY.fullmatch(_SEPARATORS.sub("", text)):
        raise InvalidInput("need.phone.no_area_code")  # 83331234: which city's?
    raise InvalidInput("need.phone.invalid")


def _landline(text: str) -> str | None:
    whole = _main_number(text)
    if whole is not None:
        return whole
    split = _EXTENSION.fullmatch(text)
    if split is None:
        return None
    main = _main_number(split[1])
    return None if main is None else f"{main}-{split[2]}"


def _main_number(text: str) -> str | None:
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):  # +86 25 83331234: the area code without its 0
        if digits.startswith(prefix):
            digits = "0" + digits.removeprefix(prefix)
            break
    match = _LANDLINE.fullmatch(digits)
    if match is None:
        return None
    area, local = match.groups()
    if len(area) == 3 and len(local) != 8:
        return None
    return f"{area}-{local}"
