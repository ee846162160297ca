"""Service records (2-6.3, 4-5.4): hours written at check-out, confirmed or voided by staff of the
organizing org (谁组织谁记录), make-up requests (补录, 2-6.3 c), the volunteer's hours and stars
(4-6.2.1). Only confirmed hours count anywhere; nothing is deleted, and every change is audited.
A training's records (2-7.4) are kept the same way, but its hours are training, not service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from core.domain.actions import MyHours, ShowMakeup
from core.domain.activity import Activity
from core.domain.attendance import (
    PHOTO_MAX_BYTES,
    Attendance,
    MakeupRequest,
    MakeupStatus,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    credited_hours,
    presence,
)
from core.domain.codes import TrainingKind
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.errors import Conflict, InvalidInput, NotEligible, NotFound
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import enqueue, local

REASON_MAX = 500
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
ZERO = Decimal("0.0")


async def write_record(
    uow: UnitOfWork, clock: Clock, policy: Policy, activity: Activity, attendance: Attendance
) -> ServiceRecord | None:
    """The session's record, pending, from a closed attendance: on-site hours inside the schedule,
    the activity's coefficient, and the credited hours (none below the minimum presence). None when a
    record already stands for this volunteer and activity (a make-up was approved first)."""
    assert attendance.checked_out_at is not None and activity.id is not None
    if await uow.records.live(attendance.volunteer_id, activity.id) is not None:
        return None
    share = presence(
        attendance.checked_in_at,
        attendance.checked_out_at,
        activity.starts_at,
        activity.ends_at,
        policy.minimum_presence_share,
    )
    record = ServiceRecord(
        volunteer_id=attendance.volunteer_id,
        activity_id=activity.id,
        org_id=activity.org_id,
        started_at=attendance.checked_in_at,
        ended_at=attendance.checked_out_at,
        onsite_hours=share.onsite_hours,
        coefficient=activity.hours_coefficient,
        credited_hours=credited_hours(share.onsite_hours, activity.hours_coefficient)
        if share.counts
        else ZERO,
        created_at=clock.now(),
        manual=attendance.recorded_by is not None,
        needs_review=attendance.needs_review or not share.counts,
        below_minimum=not share.counts,
        attendance_id=attendance.id,
    )
    await uow.records.add(record)
    return record


async def _tell(
    uow: UnitOfWork, clock: Clock, volunteer_id: int, key: str, message_key: str, **params: str
) -> None:
    user_id = await uow.volunteers.user_id_of(volunteer_id)
    if user_id is not None:
        await enqueue(
            uow, clock, key, user_id, message_key, choices=[("chat.button.hours", MyHours().pack())], **params
        )


async def _title(uow: UnitOfWork, activity_id: int) -> Activity:
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    return activity


async def confirm_records(
    uow: UnitOfWork, clock: Clock, policy: Policy, actor: Actor, record_ids: Sequence[int]
) -> list[ServiceRecord]:
    """谁组织谁记录: staff of the organizing org confirm pending records; the volunteer hears of it, and of a
    new star when the hours reach one (4-6.2.1)."""
    confirmed = []
    for record_id in record_ids:
        record = await uow.records.get_for_update(record_id)
        if record is None:
            raise NotFound("record.not_found")
        await require_staff(uow, actor, record.org_id)
        if record.status is not RecordStatus.PENDING:
            raise Conflict("record.not_pending", status=record.status)
        before = await uow.records.confirmed_hours(record.volunteer_id)
        record.status = RecordStatus.CONFIRMED
        record.decided_by, record.decided_at = actor.user_id, clock.now()
        await audit(
            uow, clock, actor, "record.confirm", "service_record", record.id, hours=str(record.credited_hours)
        )
        activity = await _title(uow, record.activity_id)
        await _credited(
            uow,
            clock,
            policy,
            record,
            before,
            f"record-confirmed:{record.id}",
            "notice.record_confirmed" if activity.training_kind is None else "trainings.notice.confirmed",
            activity,
        )
        confirmed.append(record)
    return confirmed


async def void_record(
    uow: UnitOfWork, clock: Clock, policy: Policy, actor: Actor, record_id: int, reason: str
) -> ServiceRecord:
    """A record found wrong is voided with the reason, never deleted (1-6.5, 4-5.4)."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput("record.reason_required", max=REASON_MAX)
    record = await uow.records.get_for_update(record_id)
    if record is None:
        raise NotFound("record.not_found")
    await require_staff(uow, actor, record.org_id)
    if record.status is RecordStatus.VOIDED:
        raise Conflict("record.not_pending", status=record.status)
    before = record.status
    record.status = RecordStatus.VOIDED
    record.void_reason = reason
    record.decided_by, record.decided_at = actor.user_id, clock.now()
    await audit(uow, clock, actor, "record.void", "service_record", record.id, reason, before=before)
    activity = await _title(uow, record.activity_id)
    await _tell(
        uow,
        clock,
        record.volunteer_id,
        f"record-voided:{record.id}",
        "notice.record_voided",
        title=activity.title,
        reason=reason,
    )
    return record


# ---- make-up requests (补录, 2-6.3 c) ------------------------------------------------------------

MAKEUP_FROM = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED, SignupStatus.ABSENT})


async def makeup_candidates(
    uow: UnitOfWork, clock: Clock, policy: Policy, volunteer_id: int
) -> list[Activity]:
    """Activities the volunteer signed up for, begun, within the filing period, with no standing record
    and no request waiting: the ones a make-up request can be filed for."""
    now = clock.now()
    found = []
    for signup in await uow.signups.for_volunteer(volunteer_id):
        if signup.status not in MAKEUP_FROM:
            continue
        activity = await uow.activities.read(signup.activity_id)
        if activity is None or activity.id is None or not _within_filing(activity, policy, now):
            continue
        if await uow.records.live(volunteer_id, activity.id) or await uow.makeups.pending(
            volunteer_id, activity.id
        ):
            continue
        found.append(activity)
    return sorted(found, key=lambda a: a.starts_at, reverse=True)


def _within_filing(activity: Activity, policy: Policy, now: datetime) -> bool:
    return activity.starts_at <= now <= activity.ends_at + timedelta(days=policy.makeup_within_days)


async def request_makeup(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    actor: Actor,
    activity_id: int,
    started_at: datetime,
    ended_at: datetime,
    reason: str,
    photo: tuple[str, bytes] | None = None,
) -> MakeupRequest:
    """2-6.3 c: when check-in failed (network, GPS, a mistake), the volunteer files the times they
    served and why, with a photo as evidence if they have one (type and bytes); staff of the
    organizing org are asked to decide."""
    volunteer_id = actor.volunteer_id
    if volunteer_id is None:
        raise NotEligible("volunteer.not_registered")
    activity = await _title(uow, activity_id)
    now = clock.now()
    live = await uow.signups.live(activity_id, volunteer_id)
    signed = [s for s in await uow.signups.for_volunteer(volunteer_id) if s.activity_id == activity_id]
    if live is None and not any(s.status in MAKEUP_FROM for s in signed):
        raise NotEligible("makeup.not_signed_up")
    if not _within_filing(activity, policy, now):
        raise NotEligible("makeup.out_of_period", days=policy.makeup_within_days)
    if await uow.records.live(volunteer_id, activity_id) is not None:
        raise Conflict("makeup.has_record")
    if await uow.makeups.pending(volunteer_id, activity_id) is not None:
        raise Conflict("makeup.pending")
    reason = check_makeup_reason(reason)
    check_makeup_span(activity, started_at, ended_at)
    if photo is not None:
        check_makeup_photo(*photo)
    request = MakeupRequest(
        volunteer_id=volunteer_id,
        activity_id=activity_id,
        org_id=activity.org_id,
        started_at=started_at,
        ended_at=ended_at,
        reason=reason,
        created_at=now,
        has_photo=photo is not None,
    )
    await uow.makeups.add(request)
    assert request.id is not None
    if photo is not None:
        await uow.makeups.add_photo(request.id, *photo)
    await audit(uow, clock, actor, "makeup.request", "makeup_request", request.id, activity_id=activity_id)
    for grant in await uow.grants.staff_of(activity.org_id):
        await enqueue(
            uow,
            clock,
            f"makeup-request:{request.id}:{grant.user_id}",
            grant.user_id,
            "notice.makeup_requested",
            choices=[("chat.button.open_makeup", ShowMakeup(request.id).pack())],
            title=activity.title,
        )
    return request


def check_makeup_reason(reason: str) -> str:
    """The reason as kept: said, and not too long."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput("makeup.reason_required", max=REASON_MAX)
    return reason


def check_makeup_photo(mime: str, data: bytes) -> None:
    """A photo as evidence (2-6.3 c): an image of a common type, at most PHOTO_MAX_BYTES."""
    if len(data) > PHOTO_MAX_BYTES:
        raise InvalidInput("makeup.photo_too_large", max=PHOTO_MAX_BYTES >> 20)
    if not data or mime not in PHOTO_TYPES:
        raise InvalidInput("makeup.photo_type")


async def makeup_for_staff(
    uow: UnitOfWork, actor: Actor, request_id: int, *, write: bool = True
) -> MakeupRequest:
    """A make-up request, for staff of its org: who may decide it (``write``) or only read it. A
    forged or stale button gets NotFound or NotEligible, and nothing is asked."""
    request = await uow.makeups.get(request_id)
    if request is None:
        raise NotFound("makeup.not_found")
    await require_staff(uow, actor, request.org_id, write=write)
    return request


async def makeup_photo(uow: UnitOfWork, actor: Actor, request_id: int) -> tuple[str, bytes]:
    """The photo of a make-up request, for staff who may read the request (2-6.3 c)."""
    request = await makeup_for_staff(uow, actor, request_id, write=False)
    photo = await uow.makeups.photo(request_id) if request.has_photo else None
    if photo is None:
        raise NotFound("makeup.photo_none")
    return photo


def check_makeup_span(activity: Activity, started_at: datetime, ended_at: datetime) -> None:
    """The time a make-up asks for: forward, and overlapping the schedule (only that part counts)."""
    if ended_at <= started_at:
        raise InvalidInput("makeup.end_before_start", example=makeup_example(activity))
    if ended_at <= activity.starts_at or started_at >= activity.ends_at:
        raise InvalidInput(
            "makeup.outside_schedule",
            start=local(activity.starts_at, activity.timezone),
            end=local(activity.ends_at, activity.timezone)[11:],
        )


def makeup_example(activity: Activity) -> str:
    """A served time a make-up accepts, as it is typed (09:00-11:30): the schedule, on its first day."""
    start, end = local(activity.starts_at, activity.timezone), local(activity.ends_at, activity.timezone)
    return f"{start[11:]}-{end[11:] if end[:10] == start[:10] else '23:59'}"


def partial_example(cap: Decimal) -> Decimal:
    """Fewer hours to approve, as an example within the range: half the cap, to a tenth, at least 0.1."""
    return max((cap / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN), min(cap, Decimal("0.1")))


def makeup_cap(request: MakeupRequest, activity: Activity) -> Decimal:
    """The most a make-up can credit on site: the requested time inside the schedule."""
    return presence(
        request.started_at, request.ended_at, activity.starts_at, activity.ends_at, ZERO
    ).onsite_hours


async def decide_makeup(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    actor: Actor,
    request_id: int,
    *,
    approve: bool,
    hours: Decimal | None = None,
    reason: str = "",
) -> MakeupRequest:
    """Staff approve (all the requested time inside the schedule, or fewer hours) or reject with a
    reason. An approval is the confirmation: the record it writes is confirmed and marked manual."""
    request = await uow.makeups.get_for_update(request_id)
    if request is None:
        raise NotFound("makeup.not_found")
    await require_staff(uow, actor, request.org_id)
    if request.status is not MakeupStatus.PENDING:
        raise Conflict("makeup.decided", status=request.status)
    activity = await _title(uow, request.activity_id)
    now = clock.now()
    reason = reason.strip()
    request.decided_by, request.decided_at = actor.user_id, now
    request.decision_reason = reason or None
    if not approve:
        if not reason or len(reason) > REASON_MAX:
            raise InvalidInput("makeup.reject_reason_required", max=REASON_MAX)
        request.status = MakeupStatus.REJECTED
        await audit(uow, clock, actor, "makeup.reject", "makeup_request", request.id, reason)
        await _tell(
            uow,
            clock,
            request.volunteer_id,
            f"makeup-decided:{request.id}",
            "notice.makeup_rejected",
            title=activity.title,
            reason=reason,
        )
        return request
    cap = makeup_cap(request, activity)
    onsite = cap if hours is None else hours
    if not onsite.is_finite() or not ZERO < onsite <= cap or onsite != onsite.quantize(Decimal("0.1")):
        raise InvalidInput("makeup.hours_range", max=str(cap), example=str(partial_example(cap)))
    if await uow.records.live(request.volunteer_id, request.activity_id) is not None:
        raise Conflict("makeup.has_record")
    before = await uow.records.confirmed_hours(request.volunteer_id)
    record = ServiceRecord(
        volunteer_id=request.volunteer_id,
        activity_id=request.activity_id,
        org_id=request.org_id,
        started_at=request.started_at,
        ended_at=request.ended_at,
        onsite_hours=onsite,
        coefficient=activity.hours_coefficient,
        credited_hours=credited_hours(onsite, activity.hours_coefficient),
        created_at=now,
        source=RecordSource.MAKEUP,
        status=RecordStatus.CONFIRMED,
        manual=True,
        makeup_id=request.id,
        decided_by=actor.user_id,
        decided_at=now,
    )
    await uow.records.add(record)
    request.status = MakeupStatus.APPROVED
    request.approved_hours = onsite
    request.record_id = record.id
    await audit(
        uow,
        clock,
        actor,
        "makeup.approve",
        "makeup_request",
        request.id,
        reason or None,
        hours=str(onsite),
        requested=str(cap),
        record_id=record.id,
    )
    await _credited(
        uow, clock, policy, record, before, f"makeup-decided:{request.id}", "notice.makeup_approved", activity
    )
    return request


# ---- hours and stars -----------------------------------------------------------------------------


def star_level(hours: Decimal, thresholds: Sequence[int]) -> int:
    """4-6.2.1: one star at the first threshold (100 h by default), five at the last (1500 h)."""
    return sum(1 for threshold in thresholds if hours >= threshold)


async def _credited(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    record: ServiceRecord,
    before: Decimal,
    key: str,
    message_key: str,
    activity: Activity,
) -> None:
    """Confirmed hours reached the volunteer: they hear of them, and of a new star (4-6.2.1)."""
    hours = record.credited_hours
    await _tell(uow, clock, record.volunteer_id, key, message_key, title=activity.title, hours=str(hours))
    if activity.training_kind is not None:
        return  # 2-7.4: training hours earn no star
    await _announce_star(uow, clock, policy, record.volunteer_id, before, before + hours)


async def _announce_star(
    uow: UnitOfWork, clock: Clock, policy: Policy, volunteer_id: int, before: Decimal, after: Decimal
) -> None:
    old, new = star_level(before, policy.star_thresholds), star_level(after, policy.star_thresholds)
    if new > old:
        await _tell(
            uow,
            clock,
            volunteer_id,
            f"star:{volunteer_id}:{new}",
            "notice.star_up",
            stars="★" * new,
            hours=str(after),
        )


@dataclass(frozen=True)
class HoursLine:
    record: ServiceRecord
    title: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True)
class TrainingLine:
    """A training completed (2-7.4): its record is confirmed."""

    record: ServiceRecord
    title: str
    starts_at: datetime
    timezone: str
    kind: TrainingKind


@dataclass(frozen=True)
class Hours:
    confirmed: Decimal  # service hours only: trainings are not service (2-7.4)
    pending: Decimal
    lines: tuple[HoursLine, ...]  # newest first; voided ones left out
    stars: int
    next_threshold: int | None
    trainings: tuple[TrainingLine, ...] = ()  # newest first


async def hours_of(uow: UnitOfWork, policy: Policy, volunteer_id: int) -> Hours:
    """我的时长: confirmed and pending service hours, by activity; the trainings completed apart."""
    confirmed = pending = ZERO
    lines = []
    trainings = []
    for record in await uow.records.for_volunteer(volunteer_id):
        if record.status is RecordStatus.VOIDED:
            continue
        activity = await _title(uow, record.activity_id)
        if activity.training_kind is not None:
            if record.status is RecordStatus.CONFIRMED:
                trainings.append(
                    TrainingLine(
                        record, activity.title, activity.starts_at, activity.timezone, activity.training_kind
                    )
                )
            continue
        if record.status is RecordStatus.CONFIRMED:
            confirmed += record.credited_hours
        else:
            pending += record.credited_hours
        lines.append(HoursLine(record, activity.title, activity.starts_at, activity.timezone))
    lines.sort(key=lambda line: line.starts_at, reverse=True)
    trainings.sort(key=lambda line: line.starts_at, reverse=True)
    stars = star_level(confirmed, policy.star_thresholds)
    upcoming = [t for t in policy.star_thresholds if t > confirmed]
    return Hours(confirmed, pending, tuple(lines), stars, upcoming[0] if upcoming else None, tuple(trainings))
