from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.activity import Activity
from core.domain.people import Actor
from core.domain.signup import HOLDS_PLACE, LIVE, Signup, SignupStatus
from core.errors import Conflict, NotEligible, NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import (
    BRIEFING_AHEAD,
    local,
    notify_promoted,
    schedule_briefing,
    withdraw_briefings,
)
from core.services.reminders import withdraw_reminders

# 3-6.1.3.3: promoted inside the 3 days, a volunteer has this long (and at most until an hour before the
# start) to confirm before the place goes to the next on the waitlist.
ANSWER_WITHIN = timedelta(hours=12)
ANSWER_LAST = timedelta(hours=1)


class ActivityFull(NotEligible):
    """Every place is taken; the volunteer may join the waitlist instead."""

    key = "signup.full"


class ActivityEnded(NotEligible):
    """The activity is over: nothing to sign up for; the volunteer may look for another."""

    key = "signup.ended"


async def sign_up(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    activity_id: int,
    *,
    insurance_confirmed: bool = False,
    join_waitlist: bool = False,
) -> Signup:
    if actor.volunteer_id is None:
        raise NotEligible("volunteer.not_registered")
    # The activity row is locked so that counting places and taking one are a single step. Nothing
    # here changes the activity or the volunteer: copies of both are enough.
    activity = await uow.activities.read(activity_id, lock=True)
    if activity is None:
        raise NotFound("activity.not_found")
    now = clock.now()
    if activity.ended(now):
        raise ActivityEnded(title=activity.title, end=local(activity.ends_at, activity.timezone))
    if not activity.signup_open(now):
        raise NotEligible("signup.closed")
    volunteer = await uow.volunteers.read(actor.volunteer_id)
    assert volunteer is not None
    existing = await uow.signups.live(activity_id, actor.volunteer_id)
    if existing is not None:
        raise Conflict("signup.already", status=existing.status)
    # 3-6.1.3.1: qualifications on record.
    missing = sorted(activity.qualifications_needed - set(volunteer.qualifications))
    if missing:
        raise NotEligible("signup.qualification_missing", qualifications=missing)
    # Hazardous activities take adults only.
    if activity.minimum_age is not None:
        age = volunteer.age_on(activity.start_day)
        if age is None:
            raise NotEligible("signup.birth_date_required", age=activity.minimum_age)
        if age < activity.minimum_age:
            raise NotEligible("signup.too_young", age=activity.minimum_age)
    # 2-6.2 d, 4-5.1.4: insurance confirmed before the place is given.
    if activity.needs_insurance and not insurance_confirmed:
        raise NotEligible("signup.insurance_required")
    if activity.signup_requires_approval:
        status = SignupStatus.APPLIED
    elif await _has_free_place(uow, activity):
        status = SignupStatus.CONFIRMED
    elif join_waitlist:
        status = SignupStatus.WAITLISTED
    else:
        raise ActivityFull(capacity=activity.capacity)
    signup = Signup(
        activity_id=activity_id,
        volunteer_id=actor.volunteer_id,
        status=status,
        created_at=now,
        insurance_confirmed=insurance_confirmed,
        confirmed_at=now if status is SignupStatus.CONFIRMED else None,
        waitlisted_at=now if status is SignupStatus.WAITLISTED else None,
    )
    if status is SignupStatus.CONFIRMED and activity.starts_at - BRIEFING_AHEAD <= now:
        # Signing up inside the 3 days is itself the confirmation: briefed in the reply, nothing to ask.
        signup.presence_confirmed_at = now
    await uow.signups.add(signup)
    if status is SignupStatus.CONFIRMED:
        # Inside the 3 days the conversation briefs in its reply (temporary confirmation): nothing queued.
        await schedule_briefing(uow, clock, activity, signup, queue_if_late=False)
    await audit(
        uow, clock, actor, "signup.create", "signup", signup.id, activity_id=activity_id, status=status
    )
    return signup


async def _has_free_place(uow: UnitOfWork, activity: Activity) -> bool:
    assert activity.id is not None
    return await uow.signups.count(activity.id, HOLDS_PLACE) < activity.capacity


async def fill_places(uow: UnitOfWork, clock: Clock, actor: Actor, activity: Activity) -> list[Signup]:
    """3-6.1.3.3: free places go to the waitlist first, in the order people joined it; each promoted
    volunteer is told, then briefed (3-6.1.3.2). The caller holds the activity's lock."""
    promoted: list[Signup] = []
    assert activity.id is not None
    if not activity.signup_open(clock.now()):  # over: a place freed after the end is no place
        return promoted
    while await _has_free_place(uow, activity):
        first = await uow.signups.first_waitlisted(activity.id)
        if first is None:
            break
        first.status = SignupStatus.CONFIRMED
        first.confirmed_at = clock.now()
        first.answer_due_at = answer_deadline(activity, clock.now())
        promoted.append(first)
        if first.answer_due_at is None:  # otherwise the briefing with its deadline tells of the place
            await notify_promoted(uow, clock, activity, [first])
        await schedule_briefing(uow, clock, activity, first)
        await audit(uow, clock, actor, "signup.promote", "signup", first.id, activity_id=activity.id)
    return promoted


def answer_deadline(activity: Activity, now: datetime) -> datetime | None:
    """Promoted inside the 3 days: until when the place waits for 确认参加; None when there is no time
    left to ask (the start is within the hour) or no hurry (the briefing is days away)."""
    if activity.starts_at - BRIEFING_AHEAD > now:
        return None
    deadline = min(now + ANSWER_WITHIN, activity.starts_at - ANSWER_LAST)
    return deadline if deadline > now else None


async def lock_signup(uow: UnitOfWork, signup_id: int) -> tuple[Activity, Signup]:
    """Lock the activity first (as sign_up does), then read the sign-up again under that lock: a concurrent
    cancel or promotion may have changed it since it was first read (PostgreSQL, READ COMMITTED)."""
    found = await uow.signups.get(signup_id)
    if found is None:
        raise NotFound("signup.not_found")
    activity = await uow.activities.get_for_update(found.activity_id)
    signup = await uow.signups.get_for_update(signup_id)
    assert activity is not None and signup is not None
    return activity, signup


@dataclass(frozen=True)
class Cancellation:
    signup: Signup
    promoted: tuple[Signup, ...]


async def cancel_signup(
    uow: UnitOfWork, clock: Clock, actor: Actor, signup_id: int, reason: str = ""
) -> Cancellation:
    activity, signup = await lock_signup(uow, signup_id)
    if actor.volunteer_id != signup.volunteer_id:
        try:
            await require_staff(uow, actor, activity.org_id)
        except PermissionDenied:
            raise PermissionDenied("signup.not_yours") from None
    if signup.status not in LIVE:
        raise Conflict("signup.not_live", status=signup.status)
    if activity.starts_at <= clock.now() and actor.volunteer_id == signup.volunteer_id:
        raise NotEligible("signup.cancel.started")
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = clock.now()
    signup.cancel_reason = reason.strip() or None
    await withdraw_briefings(uow, clock, [signup])
    await withdraw_reminders(uow, clock, [signup])
    await audit(uow, clock, actor, "signup.cancel", "signup", signup.id, reason or None)
    promoted = await fill_places(uow, clock, actor, activity)
    return Cancellation(signup=signup, promoted=tuple(promoted))


async def decide_signup(
    uow: UnitOfWork, clock: Clock, actor: Actor, signup_id: int, *, approve: bool, reason: str = ""
) -> Signup:
    """Where the activity asks for approval, staff confirm (a place, or the waitlist when full) or refuse."""
    activity, signup = await lock_signup(uow, signup_id)
    await require_staff(uow, actor, activity.org_id)
    if signup.status is not SignupStatus.APPLIED:
        raise Conflict("signup.not_applied", status=signup.status)
    now = clock.now()
    if not approve:
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = now
        signup.cancel_reason = reason.strip() or None
    elif await _has_free_place(uow, activity):
        signup.status = SignupStatus.CONFIRMED
        signup.confirmed_at = now
        await schedule_briefing(uow, clock, activity, signup)
    else:
        signup.status = SignupStatus.WAITLISTED
        signup.waitlisted_at = now
    await audit(uow, clock, actor, "signup.decide", "signup", signup.id, reason or None, approve=approve)
    return signup


MARKABLE = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED, SignupStatus.ABSENT})


async def mark_attendance(
    uow: UnitOfWork, clock: Clock, actor: Actor, signup_id: int, *, attended: bool
) -> Signup:
    """2-7.5.2, 3-6.2.3: staff confirm who came, by hand, once the activity has begun. A correction
    leaves its trail in the audit log (1-6.5)."""
    activity, signup = await lock_signup(uow, signup_id)
    await require_staff(uow, actor, activity.org_id)
    if signup.status not in MARKABLE:
        raise Conflict("signup.not_markable", status=signup.status)
    if clock.now() < activity.starts_at:
        raise NotEligible("attendance.not_started")
    if not attended and await uow.attendances.for_signup(signup_id) is not None:
        raise Conflict("attendance.checked_in")  # 2-6.3 a: a check-in stands until its record is voided
    before = signup.status
    signup.status = SignupStatus.ATTENDED if attended else SignupStatus.ABSENT
    # Begun: a briefing still waiting (the dispatcher was down) has nothing left to tell.
    await withdraw_briefings(uow, clock, [signup])
    if before is not signup.status:
        await audit(
            uow, clock, actor, "signup.attendance", "signup", signup.id, before=before, after=signup.status
        )
    return signup
