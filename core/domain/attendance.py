"""Check-in, check-out and the hours they earn (2-6.3, 2-7.5.2, 3-6.2.3). Pure rules: no storage, no
clock of their own. The hours a volunteer earns are what they will dispute, so every number here is
computed one way only, on the server, and kept with what it was computed from."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from core.errors import InvalidInput

ONE_DECIMAL = Decimal("0.1")
CODE_DIGITS = 6
PHOTO_MAX_BYTES = 5 << 20  # a photo over this is refused, not stored (adapters stop fetching here)

# Far outside China (with a margin of about a degree): a WeChat position there is not where an
# activity of ours is held, and GCJ-02 is not defined there.
CHINA_BOUNDS = (2.5, 55.0, 72.0, 136.5)  # south, north, west, east


class CheckMethod(StrEnum):
    LOCATION = "location"
    CODE = "code"  # 3-5.3.2: online activities, or the leader's rotating code
    MANUAL = "manual"  # 2-6.3 a: staff on site
    AUTO = "auto"  # closed by the system at the end plus the grace period; staff review it


class RecordStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # 谁组织谁记录: by staff of the organizing org
    VOIDED = "voided"  # with a reason; never deleted (4-5.4)


class RecordSource(StrEnum):
    ATTENDANCE = "attendance"  # from check-in to check-out
    MAKEUP = "makeup"  # 2-6.3 c: 补录, approved by staff


class MakeupStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def one_decimal(value: Decimal) -> Decimal:
    """2-6.3: the unit is the hour; one decimal, halves up (1.25 h → 1.3 h)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def hours_between(start: datetime, end: datetime) -> Decimal:
    seconds = max(0, int((end - start).total_seconds()))
    return Decimal(seconds) / Decimal(3600)


@dataclass(frozen=True)
class Presence:
    """What a check-in and a check-out are worth against the schedule."""

    onsite_hours: Decimal  # time present inside the scheduled period: capped at its length
    share: Decimal  # of the scheduled length, 0..1
    counts: bool  # the share reaches the minimum


def presence(
    checked_in: datetime,
    checked_out: datetime,
    starts: datetime,
    ends: datetime,
    minimum_share: Decimal,
) -> Presence:
    """2-6.3 a: hours from check-in to check-out, counted only inside the scheduled period (so capped at
    its length), and only when the volunteer was there for at least ``minimum_share`` of it."""
    scheduled = hours_between(starts, ends)
    overlap = hours_between(max(checked_in, starts), min(checked_out, ends))
    share = overlap / scheduled if scheduled else Decimal(0)
    return Presence(one_decimal(overlap), share, share >= minimum_share)


def credited_hours(onsite: Decimal, coefficient: Decimal) -> Decimal:
    """2-6.3 b: recorded hours = on-site hours × the coefficient for hard conditions; both are kept."""
    return one_decimal(onsite * coefficient)


def check_coefficient(coefficient: Decimal) -> Decimal:
    """A weighting for weather, distance, environment: between 1 and 3, two decimals at most."""
    if not Decimal("1") <= coefficient <= Decimal("3") or coefficient != coefficient.quantize(
        Decimal("0.01")
    ):
        raise InvalidInput("activity.coefficient.range", min="1.0", max="3.0")
    return coefficient


def outside_china(latitude: float, longitude: float) -> bool:
    south, north, west, east = CHINA_BOUNDS
    return not (south <= latitude <= north and west <= longitude <= east)


@dataclass(frozen=True)
class Window:
    """When check-in (and, with the grace period, check-out) is open for one activity."""

    opens: datetime  # the start less the time allowed before it
    starts: datetime
    ends: datetime
    closes: datetime  # check-out: the end plus the grace period; after it, the system closes

    @classmethod
    def of(cls, starts: datetime, ends: datetime, *, before: timedelta, grace: timedelta) -> Window:
        return cls(starts - before, starts, ends, ends + grace)

    def check_in_open(self, now: datetime) -> bool:
        return self.opens <= now <= self.ends

    def check_out_open(self, now: datetime) -> bool:
        return self.opens <= now <= self.closes


# ---- the rotating check-in code ------------------------------------------------------------------


def new_code_secret() -> str:
    return secrets.token_hex(16)


def rotating_code(secret: str, now: datetime, period_s: int) -> str:
    """The code the leader shows on site: it changes every ``period_s`` seconds (as a TOTP does), so a
    code passed on to someone at home is soon worthless."""
    step = int(now.timestamp()) // period_s
    digest = hmac.new(secret.encode(), str(step).encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS
    return f"{number:0{CODE_DIGITS}d}"


def code_matches(secret: str, given: str, now: datetime, period_s: int) -> bool:
    """The current code, or the one just before it (read out a moment before it changed)."""
    given = given.strip()
    earlier = now - timedelta(seconds=period_s)
    return any(
        hmac.compare_digest(given, rotating_code(secret, moment, period_s)) for moment in (now, earlier)
    )


def code_valid_until(now: datetime, period_s: int) -> datetime:
    step = int(now.timestamp()) // period_s
    return datetime.fromtimestamp((step + 1) * period_s, tz=now.tzinfo)


# ---- what is kept ------------------------------------------------------------------------------


@dataclass(eq=False)
class Attendance:
    """One volunteer at one activity: when they came and left, and how it was established. Raw
    coordinates only with the volunteer's location consent, until ``coordinates_until`` (PIPL art. 28);
    otherwise the result and the distance are all that is kept."""

    activity_id: int
    volunteer_id: int
    signup_id: int
    checked_in_at: datetime
    checkin_method: CheckMethod
    checkin_distance_m: int | None = None
    checkin_latitude: float | None = None
    checkin_longitude: float | None = None
    checked_out_at: datetime | None = None
    checkout_method: CheckMethod | None = None
    checkout_distance_m: int | None = None
    checkout_latitude: float | None = None
    checkout_longitude: float | None = None
    coordinates_until: datetime | None = None
    needs_review: bool = False  # closed by the system: the volunteer forgot to check out
    recorded_by: int | None = None  # the staff member's user id, for manual check-in or out
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.checked_out_at is None

    def forget_coordinates(self) -> None:
        self.checkin_latitude = self.checkin_longitude = None
        self.checkout_latitude = self.checkout_longitude = None
        self.coordinates_until = None


@dataclass(eq=False)
class ServiceRecord:
    """2-6.3, 4-5.4: the hours of one session, kept at least 10 years and never deleted. Only confirmed
    records count anywhere (totals, certificates, stars)."""

    volunteer_id: int
    activity_id: int
    org_id: int  # the organizing org: its staff confirm (谁组织谁记录)
    started_at: datetime
    ended_at: datetime
    onsite_hours: Decimal
    coefficient: Decimal
    credited_hours: Decimal
    created_at: datetime
    source: RecordSource = RecordSource.ATTENDANCE
    status: RecordStatus = RecordStatus.PENDING
    manual: bool = False  # 2-6.3 a: established by staff, not by the volunteer's own check-in
    needs_review: bool = False  # closed by the system, or below the minimum presence
    below_minimum: bool = False  # present for less than the minimum share: credited 0 h
    attendance_id: int | None = None
    makeup_id: int | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    void_reason: str | None = None
    id: int | None = None


@dataclass(eq=False)
class MakeupRequest:
    """2-6.3 c: 补录, when check-in failed (network, GPS, a mistake): filed by the volunteer with a
    reason, decided by staff of the organizing org."""

    volunteer_id: int
    activity_id: int
    org_id: int
    started_at: datetime
    ended_at: datetime
    reason: str
    created_at: datetime
    status: MakeupStatus = MakeupStatus.PENDING
    approved_hours: Decimal | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    record_id: int | None = None
    has_photo: bool = False  # the photo itself is kept apart (makeup_photos)
    id: int | None = None

    @property
    def requested_hours(self) -> Decimal:
        return one_decimal(hours_between(self.started_at, self.ended_at))
