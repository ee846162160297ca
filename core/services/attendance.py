"""Check-in and check-out (2-6.3 a, 2-7.5.2, 3-6.2.3): by the volunteer's location, by the leader's
rotating code or an online activity's code (3-5.3.2), or by staff on site; and the system's closing of
what a volunteer forgot. Each check-out writes the session's service record (records.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.activity import Activity, ActivityMode, ActivityStatus, Distance, distance_m
from core.domain.attendance import (
    Attendance,
    CheckMethod,
    ServiceRecord,
    Window,
    code_matches,
    code_valid_until,
    new_code_secret,
    outside_china,
    rotating_code,
)
from core.domain.people import Actor, ConsentKind
from core.domain.signup import Signup, SignupStatus
from core.errors import Conflict, InvalidInput, NotEligible, NotFound
from core.policy import Policy
from core.ports import Attendable, Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import enqueue, local, withdraw_briefings
from core.services.records import write_record

# Statuses of an activity whose volunteers may still check in or out: held, not cancelled, not filed.
ATTENDABLE = frozenset({ActivityStatus.PUBLISHED, ActivityStatus.ONGOING, ActivityStatus.FINISHED})
PRESENT = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED})
LOOKAHEAD = timedelta(days=1)


@dataclass(frozen=True)
class Proof:
    """What the volunteer sent to show they are there: a location, a code, or both."""

    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    forwarded: bool = False
    # A WeChat position: GCJ-02 (already converted), which exists only in China.
    in_china_only: bool = False
    code: str | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Attended:
    """The outcome of one check-in or check-out."""

    attendance: Attendance
    activity: Activity
    checked_out: bool
    distance_m: int | None
    record: ServiceRecord | None = None


def window(activity: Activity, policy: Policy) -> Window:
    return Window.of(
        activity.starts_at,
        activity.ends_at,
        before=timedelta(minutes=policy.checkin_opens_before_min),
        grace=timedelta(minutes=policy.checkout_grace_min),
    )


def wants_code(activity: Activity) -> bool:
    """3-5.3.2: online activities check in by code; an offline one when its setting asks for it too."""
    return activity.mode is ActivityMode.ONLINE or activity.checkin_code_required


def wants_location(activity: Activity) -> bool:
    return activity.mode is not ActivityMode.ONLINE


async def attendable_now(
    uow: UnitOfWork, clock: Clock, policy: Policy, volunteer_id: int
) -> list[Attendable]:
    """The volunteer's activities that can be checked into or out of now, and those of the next day: a
    volunteer who comes too early is told when check-in opens rather than that there is nothing."""
    now = clock.now()
    return await uow.attendances.attendable(
        volunteer_id,
        starts_before=now + timedelta(minutes=policy.checkin_opens_before_min) + LOOKAHEAD,
        ends_after=now - timedelta(minutes=policy.checkout_grace_min),
    )


async def _signup_of(uow: UnitOfWork, actor: Actor, signup_id: int) -> tuple[Signup, Activity]:
    """The volunteer's own sign-up, locked (a check-in and a check-out never race), and its activity."""
    signup = await uow.signups.get_for_update(signup_id)
    if signup is None or actor.volunteer_id is None or signup.volunteer_id != actor.volunteer_id:
        raise NotFound("signup.not_found")
    activity = await uow.activities.read(signup.activity_id)
    assert activity is not None
    return signup, activity


def _check_location(activity: Activity, proof: Proof) -> int:
    """The distance to the activity's place, in metres, or the reason the location does not count."""
    assert proof.latitude is not None and proof.longitude is not None
    if proof.forwarded:
        raise NotEligible("checkin.forwarded")
    if proof.in_china_only and outside_china(proof.latitude, proof.longitude):
        raise NotEligible("checkin.outside_china")
    if activity.latitude is None or activity.longitude is None:
        raise NotEligible("checkin.no_place")
    radius = activity.checkin_radius_m
    if proof.accuracy_m is not None and proof.accuracy_m > radius:
        raise NotEligible("checkin.inaccurate", accuracy=round(proof.accuracy_m), radius=radius)
    distance = round(distance_m(proof.latitude, proof.longitude, activity.latitude, activity.longitude))
    if distance > radius:
        raise NotEligible("checkin.too_far", distance=Distance(distance), radius=radius)
    return distance


def check_proof(activity: Activity, proof: Proof, policy: Policy, now: datetime) -> int | None:
    """Whether what was sent shows presence at this activity; the distance when it was a location."""
    distance = None
    if proof.has_location:
        if not wants_location(activity):
            raise NotEligible("checkin.online_needs_code")
        distance = _check_location(activity, proof)
    elif activity.mode is ActivityMode.OFFLINE:
        raise NotEligible("checkin.needs_location")
    if wants_code(activity) or (activity.mode is ActivityMode.HYBRID and distance is None):
        if proof.code is None:
            raise NotEligible("checkin.needs_code")
        if not activity.checkin_secret or not code_matches(
            activity.checkin_secret, proof.code, now, policy.checkin_code_period_s
        ):
            raise InvalidInput("checkin.wrong_code")
    return distance


@dataclass(frozen=True)
class _Mark:
    """How presence was shown at one moment: by whom, how, how far, and (with consent) where."""

    method: CheckMethod
    distance_m: int | None = None
    point: tuple[float, float] | None = None  # raw coordinates, kept only with the location consent
    recorded_by: int | None = None  # staff, by hand


async def attend(
    uow: UnitOfWork, clock: Clock, policy: Policy, actor: Actor, signup_id: int, proof: Proof
) -> Attended:
    """The volunteer checks in, or, once in, checks out: the same proof both times ("the same way")."""
    signup, activity = await _signup_of(uow, actor, signup_id)
    if signup.status not in PRESENT:
        raise NotEligible("checkin.not_confirmed", status=signup.status)
    if activity.status not in ATTENDABLE:
        raise NotEligible("checkin.activity_closed", status=activity.status)
    attendance = await _open_for(uow, clock, policy, activity, signup_id)
    distance = check_proof(activity, proof, policy, clock.now())
    point = None
    # PIPL art. 28: raw coordinates only with consent, and only for the retention period.
    consented = (
        proof.has_location and await uow.consents.active(actor.user_id or 0, ConsentKind.LOCATION) is not None
    )
    if consented and proof.latitude is not None and proof.longitude is not None:
        point = (proof.latitude, proof.longitude)
    method = CheckMethod.LOCATION if proof.has_location else CheckMethod.CODE
    return await _mark(
        uow, clock, policy, actor, signup, activity, attendance, _Mark(method, distance, point)
    )


async def _open_for(
    uow: UnitOfWork, clock: Clock, policy: Policy, activity: Activity, signup_id: int
) -> Attendance | None:
    """The sign-up's attendance still open (None: not in yet), locked, when the window allows the next
    step now: check-in until the end, check-out until the end plus the grace period."""
    now = clock.now()
    times = window(activity, policy)
    attendance = await uow.attendances.for_signup(signup_id)
    if attendance is not None and not attendance.open:
        raise Conflict("checkin.already_out", at=local(attendance.checked_out_at, activity.timezone))
    if attendance is None and not times.check_in_open(now):
        _refuse_window(activity, times, now, "checkin")
    if attendance is not None and not times.check_out_open(now):
        _refuse_window(activity, times, now, "checkout")
    return attendance


async def _mark(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    actor: Actor,
    signup: Signup,
    activity: Activity,
    attendance: Attendance | None,
    mark: _Mark,
) -> Attended:
    """Checks in (a new attendance), or checks out the open one and writes its service record."""
    now = clock.now()
    kept_until = now + timedelta(days=policy.location_retention_days) if mark.point else None
    if attendance is None:
        attendance = Attendance(
            activity_id=activity.id or 0,
            volunteer_id=signup.volunteer_id,
            signup_id=signup.id or 0,
            checked_in_at=now,
            checkin_method=mark.method,
            checkin_distance_m=mark.distance_m,
            recorded_by=mark.recorded_by,
        )
        if mark.point:
            attendance.checkin_latitude, attendance.checkin_longitude = mark.point
            attendance.coordinates_until = kept_until
        await uow.attendances.add(attendance)
        await _present(uow, clock, signup)
        record = None
    else:
        attendance.checked_out_at = now
        attendance.checkout_method = mark.method
        attendance.checkout_distance_m = mark.distance_m
        attendance.recorded_by = mark.recorded_by or attendance.recorded_by
        if mark.point:
            attendance.checkout_latitude, attendance.checkout_longitude = mark.point
            attendance.coordinates_until = kept_until
        record = await write_record(uow, clock, policy, activity, attendance)
    checked_out = attendance.checked_out_at is not None
    action = "attendance.check_out" if checked_out else "attendance.check_in"
    await audit(
        uow, clock, actor, action, "attendance", attendance.id, method=mark.method, distance_m=mark.distance_m
    )
    return Attended(attendance, activity, checked_out=checked_out, distance_m=mark.distance_m, record=record)


def _refuse_window(activity: Activity, times: Window, now: datetime, what: str) -> None:
    zone = activity.timezone
    if now < times.opens:
        raise NotEligible(
            f"{what}.too_early", opens=local(times.opens, zone), start=local(times.starts, zone)
        )
    closes = times.ends if what == "checkin" else times.closes
    raise NotEligible(f"{what}.too_late", closes=local(closes, zone))


async def _present(uow: UnitOfWork, clock: Clock, signup: Signup) -> None:
    """Here: the sign-up counts as attended, and a briefing still waiting has nothing left to tell."""
    signup.status = SignupStatus.ATTENDED
    await withdraw_briefings(uow, clock, [signup])


# ---- the leader's code ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownCode:
    code: str
    valid_until: datetime


async def current_code(
    uow: UnitOfWork, clock: Clock, policy: Policy, actor: Actor, activity_id: int
) -> ShownCode:
    """The code staff show on site (or read out in an online session); it changes every few minutes.
    Whoever holds it can check in, so only the organizing org's staff see it, not a parent org's."""
    activity = await uow.activities.get_for_update(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    if not activity.checkin_secret:  # an activity made before codes existed
        activity.checkin_secret = new_code_secret()
    now = clock.now()
    period = policy.checkin_code_period_s
    return ShownCode(rotating_code(activity.checkin_secret, now, period), code_valid_until(now, period))


# ---- staff on site -------------------------------------------------------------------------------


async def staff_check(
    uow: UnitOfWork, clock: Clock, policy: Policy, actor: Actor, signup_id: int
) -> Attended:
    """2-6.3 a: staff check a volunteer in, or (once in) out, by hand on site; recorded as manual."""
    signup = await uow.signups.get_for_update(signup_id)
    if signup is None:
        raise NotFound("signup.not_found")
    activity = await uow.activities.read(signup.activity_id)
    assert activity is not None
    await require_staff(uow, actor, activity.org_id)
    if signup.status not in PRESENT and signup.status is not SignupStatus.ABSENT:
        raise Conflict("signup.not_markable", status=signup.status)
    if activity.status not in ATTENDABLE:
        raise NotEligible("checkin.activity_closed", status=activity.status)
    attendance = await _open_for(uow, clock, policy, activity, signup_id)
    mark = _Mark(CheckMethod.MANUAL, recorded_by=actor.user_id)
    return await _mark(uow, clock, policy, actor, signup, activity, attendance, mark)


# ---- what the system does on its own (scheduler/) ------------------------------------------------


async def close_forgotten(uow: UnitOfWork, clock: Clock, policy: Policy, limit: int = 200) -> int:
    """A volunteer who forgot to check out is closed at the activity's end, once the grace period is
    over; the record waits for staff review, and the volunteer is told."""
    now = clock.now()
    closed = 0
    for attendance in await uow.attendances.open_ended_before(
        now - timedelta(minutes=policy.checkout_grace_min), limit
    ):
        activity = await uow.activities.read(attendance.activity_id)
        assert activity is not None
        attendance.checked_out_at = activity.ends_at
        attendance.checkout_method = CheckMethod.AUTO
        attendance.needs_review = True
        record = await write_record(uow, clock, policy, activity, attendance)
        await audit(uow, clock, Actor.system(), "attendance.auto_check_out", "attendance", attendance.id)
        user_id = await uow.volunteers.user_id_of(attendance.volunteer_id)
        if user_id is not None:
            await enqueue(
                uow,
                clock,
                f"auto-checkout:{attendance.id}",
                user_id,
                "notice.auto_check_out",
                title=activity.title,
                end=local(activity.ends_at, activity.timezone),
                hours=str(record.credited_hours) if record else "0",
            )
        closed += 1
    return closed


async def purge_coordinates(uow: UnitOfWork, clock: Clock, limit: int = 500) -> int:
    """PIPL art. 28: raw coordinates go once the retention period is over; result and distance stay."""
    expired = await uow.attendances.coordinates_expired(clock.now(), limit)
    for attendance in expired:
        attendance.forget_coordinates()
    return len(expired)
