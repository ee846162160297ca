from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.domain.attendance import check_coefficient
from core.domain.codes import (
    INSURANCE_REQUIRED_CONTENT,
    ActivityMode,
    BaseKind,
    Qualification,
    RiskLevel,
    ServiceContent,
    TrainingKind,
)
from core.errors import InvalidInput


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ONGOING = "ongoing"
    FINISHED = "finished"
    RECORDED = "recorded"  # 3-6.3: the record is filed
    CANCELLED = "cancelled"


OPEN_FOR_SIGNUP = frozenset({ActivityStatus.PUBLISHED, ActivityStatus.ONGOING})
# Stored statuses that the clock moves on: a published activity is under way from its start and over
# at its end. Nothing writes ONGOING or FINISHED; status_at says them.
_FOLLOWS_THE_CLOCK = frozenset({ActivityStatus.PUBLISHED, ActivityStatus.ONGOING})
ADULT_AGE = 18
CAPACITY_MAX = 10_000  # places an activity planned in chat may offer
LONGEST = timedelta(days=31)  # an activity planned in chat lasts no longer
EARTH_RADIUS_M = 6_371_008.8


def check_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    """WGS-84 degrees; rejects impossible points (and NaN) before any distance is computed."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise InvalidInput("geo.not_a_number")
    if not -90.0 <= latitude <= 90.0 or not -180.0 <= longitude <= 180.0:
        raise InvalidInput("geo.out_of_range", latitude=latitude, longitude=longitude)
    return latitude, longitude


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Distance:
    """A distance to say to a person: the conversation words it (1.9 公里 rather than 1900 米)."""

    metres: int


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) in degrees, enclosing every point within ``radius_m``: a filter a
    database index can use before the exact distance. Near a pole or the antimeridian: all longitudes."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if north >= 90.0 or south <= -90.0:
        return south, north, -180.0, 180.0
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    west, east = lon - dlon, lon + dlon
    if west < -180.0 or east > 180.0:
        return south, north, -180.0, 180.0
    return south, north, west, east


@dataclass(eq=False)
class Base:
    """5-4: a position (阵地) — a museum, community centre, farm… or an online platform."""

    name: str
    kind: BaseKind
    org_id: int | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    id: int | None = None


@dataclass(eq=False)
class Project:
    """3-9: a recurring programme grouping activities."""

    org_id: int
    name: str
    brand: str = ""
    goals: str = ""
    plan: str = ""
    id: int | None = None


def check_order(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("activity.time.end_before_start")


def check_span(starts_at: datetime, ends_at: datetime) -> None:
    """The end of a new plan: after the start, and within LONGEST of it."""
    check_order(starts_at, ends_at)
    if ends_at - starts_at > LONGEST:
        raise InvalidInput("chat.org.form.too_long_activity")


def check_start(starts_at: datetime, now: datetime) -> None:
    """A plan is made for what is still to come."""
    if starts_at <= now:
        raise InvalidInput("chat.org.form.start_past")


def places_left(capacity: int, taken: int) -> int:
    """Places still free when ``taken`` signups hold one (the waitlist beyond a full activity is not
    counted against it): never below none."""
    return max(0, capacity - taken)


def parse_capacity(text: str) -> int:
    """The places offered, written as a whole number from 1 to CAPACITY_MAX."""
    if not text.isdigit() or not 1 <= int(text) <= CAPACITY_MAX:
        raise InvalidInput("chat.org.form.capacity_format")
    return int(text)


@dataclass(eq=False)
class Activity:
    """3-6.1.5: the activity plan, with what 3-5, 3-7 and 4-5.1 add to it."""

    org_id: int
    title: str
    service_content: ServiceContent
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    mode: ActivityMode = ActivityMode.OFFLINE
    timezone: str = "Asia/Shanghai"
    # 3-6.1.5 plan fields
    purpose: str = ""
    organizing_unit: str = ""
    content: str = ""
    process: str = ""
    beneficiaries: str = ""
    volunteer_team: str = ""
    guarantees: str = ""
    funding: str = ""
    emergency_plan: str = ""
    publicity: str = ""
    summary: str = ""
    service_objects: list[str] = field(default_factory=list)  # ServiceObject codes, 3-5.1
    # place
    place_name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    checkin_radius_m: int = 500
    online_url: str = ""
    # 2-6.3 b: the brigade's weighting for hard conditions (weather, distance, environment)
    hours_coefficient: Decimal = Decimal("1")
    # The leader's rotating code is asked besides the location (always for online activities, 3-5.3.2)
    checkin_code_required: bool = False
    checkin_secret: str = ""
    # who may come
    capacity: int = 0
    required_skills: list[str] = field(default_factory=list)
    required_qualifications: list[str] = field(default_factory=list)
    required_training: str = ""
    # 2-7.4, 3-6.2.1: set when the activity is a training; its hours are training, not service
    training_kind: TrainingKind | None = None
    special_groups: list[str] = field(default_factory=list)  # 3-7.2
    high_privacy: bool = False  # 3-7.3
    field_work: bool = False  # 4-5.1.4 b
    risk_level: RiskLevel = RiskLevel.LOW
    risks: str = ""  # 4-5.1.1
    insurance_required: bool = False
    signup_requires_approval: bool = False
    project_id: int | None = None
    base_id: int | None = None
    status: ActivityStatus = ActivityStatus.DRAFT
    status_reason: str | None = None
    created_by: int | None = None
    published_at: datetime | None = None
    id: int | None = None

    @property
    def needs_insurance(self) -> bool:
        """4-5.1.4 b: emergency rescue, field work and large events must insure volunteers."""
        return (
            self.insurance_required or self.field_work or self.service_content in INSURANCE_REQUIRED_CONTENT
        )

    @property
    def hazardous(self) -> bool:
        return self.risk_level is RiskLevel.HIGH or self.service_content is ServiceContent.EMERGENCY_RESCUE

    @property
    def minimum_age(self) -> int | None:
        return ADULT_AGE if self.hazardous else None

    @property
    def start_day(self) -> date:
        """The day it starts where it is held, not in UTC (07:00 in Beijing is the day before in UTC):
        ages are judged on it."""
        return self.starts_at.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def qualifications_needed(self) -> frozenset[str]:
        """3-6.1.3.1: medical and psychological services need a recorded qualification."""
        needed = set(self.required_qualifications)
        if self.service_content is ServiceContent.HEALTH_CLINIC and not needed:
            needed.add(Qualification.MEDICAL_PRACTITIONER)
        if (
            self.service_content is ServiceContent.PSYCHOLOGICAL_EDUCATION
            and self.high_privacy
            and not needed
        ):
            needed.add(Qualification.PSYCHOLOGICAL_COUNSELLOR)
        return frozenset(needed)

    @property
    def open_for_signup(self) -> bool:
        """The stored status admits sign-ups; whether the time still does is ``signup_open``."""
        return self.status in OPEN_FOR_SIGNUP

    def status_at(self, now: datetime) -> ActivityStatus:
        """The status as it stands at ``now``, which volunteers and staff are shown and the rules
        follow: published, then ongoing from the start, then finished from the end. Draft, cancelled
        and recorded stay as stored."""
        if self.status not in _FOLLOWS_THE_CLOCK:
            return self.status
        if now < self.starts_at:
            return ActivityStatus.PUBLISHED
        if now < self.ends_at:
            return ActivityStatus.ONGOING
        return ActivityStatus.FINISHED

    def signup_open(self, now: datetime) -> bool:
        """Sign-up is open once published and until the end: on the day, people recruited on site
        (2-7.2) sign up too; inside the 3 days a sign-up is briefed at once (3-6.1.3.2)."""
        return self.status_at(now) in OPEN_FOR_SIGNUP

    def ended(self, now: datetime) -> bool:
        """Held and over (finished or recorded, 3-6.3): hours, certificates and the record rest on it."""
        return self.status_at(now) in (ActivityStatus.FINISHED, ActivityStatus.RECORDED)

    @property
    def has_place(self) -> bool:
        return self.mode is not ActivityMode.ONLINE

    def places_left(self, taken: int) -> int:
        return places_left(self.capacity, taken)

    def check(self) -> None:
        """The rules every saved activity keeps, draft or not."""
        if not self.title.strip():
            raise InvalidInput("activity.title.empty")
        check_order(self.starts_at, self.ends_at)
        if self.capacity < 0:
            raise InvalidInput("activity.capacity.negative")
        check_coefficient(self.hours_coefficient)
        if not 10 <= self.checkin_radius_m <= 50_000:
            raise InvalidInput("activity.radius.range", min=10, max=50_000)
        if self.latitude is not None or self.longitude is not None:
            if self.latitude is None or self.longitude is None:
                raise InvalidInput("geo.incomplete")
            check_coordinates(self.latitude, self.longitude)

    def check_publishable(self) -> None:
        """What must be true and complete before volunteers see it (4-5.1.1, 3-6.1.5)."""
        self.check()
        if self.capacity < 1:
            raise InvalidInput("activity.capacity.missing")
        for name in ("purpose", "content", "beneficiaries", "guarantees"):
            if not getattr(self, name).strip():
                raise InvalidInput("activity.field.missing", field=name)
        if self.has_place and (self.latitude is None or not (self.place_name or self.address)):
            raise InvalidInput("activity.place.missing")
        if self.mode is not ActivityMode.OFFLINE and not self.online_url.strip():
            raise InvalidInput("activity.online_url.missing")
        # 4-5.1.1: risks stated, emergency plan attached.
        if self.risk_level is not RiskLevel.LOW and not self.risks.strip():
            raise InvalidInput("activity.risks.missing")
        if (self.hazardous or self.needs_insurance) and not self.emergency_plan.strip():
            raise InvalidInput("activity.emergency_plan.missing")
