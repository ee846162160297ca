"""The closed no-show loop (3-6.1.3.2, 3-6.1.3.3): the briefing asks each volunteer to confirm; 无法参加
frees the place at once for the waitlist; a volunteer promoted close to the start has until a deadline to
accept, after which the next one is asked; and when too few remain near the start, staff are offered a
temporary call to matching volunteers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.domain.actions import ActivityCard, BroadcastPreview, StaffCard
from core.domain.activity import OPEN_FOR_SIGNUP, Activity
from core.domain.people import Actor
from core.domain.signup import HOLDS_PLACE, Signup, SignupStatus
from core.errors import Conflict, NotEligible, PermissionDenied
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import audit
from core.services.notices import briefing_keys, enqueue, local, tell_staff
from core.services.signups import Cancellation, cancel_signup, lock_signup

LAPSE_BATCH = 500


async def _own(uow: UnitOfWork, actor: Actor, signup_id: int) -> tuple[Activity, Signup]:
    activity, signup = await lock_signup(uow, signup_id)
    if actor.volunteer_id is None or actor.volunteer_id != signup.volunteer_id:
        raise PermissionDenied("signup.not_yours")
    return activity, signup


async def confirm_presence(
    uow: UnitOfWork, clock: Clock, actor: Actor, signup_id: int
) -> tuple[Activity, Signup]:
    """确认参加: the place is the volunteer's; the nudge and any deadline are off."""
    activity, signup = await _own(uow, actor, signup_id)
    if signup.status is not SignupStatus.CONFIRMED:
        raise Conflict("signup.not_live", status=signup.status)
    if activity.starts_at <= clock.now():
        raise NotEligible("presence.started", title=activity.title)
    if signup.presence_confirmed_at is None:
        signup.presence_confirmed_at = clock.now()
        signup.answer_due_at = None
        for notice in await uow.notices.pending(briefing_keys([signup])[1:]):  # the nudge
            notice.withdraw(clock.now())
        await audit(uow, clock, actor, "signup.presence", "signup", signup.id, activity_id=activity.id)
    return activity, signup


async def decline(
    uow: UnitOfWork, clock: Clock, actor: Actor, signup_id: int, reason: str = ""
) -> Cancellation:
    """无法参加: the sign-up is cancelled with the reason given, and the place goes to the waitlist."""
    await _own(uow, actor, signup_id)
    return await cancel_signup(uow, clock, actor, signup_id, reason or "无法参加")


async def release_unanswered(uow: UnitOfWork, clock: Clock) -> list[Signup]:
    """Promoted close to the start and silent past the deadline: the place goes to the next on the
    waitlist (who is asked in turn), and the volunteer is told (3-6.1.3.3)."""
    released = []
    for found in await uow.signups.answer_overdue(clock.now(), LAPSE_BATCH):
        activity, signup = await lock_signup(uow, found.id or 0)
        overdue = signup.answer_due_at is not None and signup.answer_due_at <= clock.now()
        if signup.status is not SignupStatus.CONFIRMED or signup.presence_confirmed_at or not overdue:
            continue  # answered, or cancelled, since it was found
        deadline = local(signup.answer_due_at, activity.timezone) if signup.answer_due_at else ""
        signup.answer_due_at = None
        await cancel_signup(uow, clock, Actor.system(), signup.id or 0, "未在期限内确认")
        user_id = await uow.volunteers.user_id_of(signup.volunteer_id)
        if user_id is not None:
            await enqueue(
                uow,
                clock,
                f"briefing.lapsed:{signup.id}",
                user_id,
                "notice.answer_lapsed",
                choices=[("chat.button.view_activity", ActivityCard(signup.activity_id).pack())],
                title=activity.title,
                deadline=deadline,
            )
        released.append(signup)
    return released


@dataclass(frozen=True)
class Turnout:
    """What staff see of an activity's sign-ups before it starts (3-6.1.3.2)."""

    confirmed: int  # answered 确认参加 (or signed up inside the 3 days, which is the same)
    waiting: int  # holding a place, no answer yet
    cancelled: int  # cancelled or 无法参加
    waitlisted: int


async def turnout(uow: UnitOfWork, activity_id: int) -> Turnout:
    signups = await uow.signups.for_activity(activity_id)
    holding = [s for s in signups if s.status is SignupStatus.CONFIRMED]
    return Turnout(
        confirmed=sum(1 for s in holding if s.presence_confirmed_at is not None),
        waiting=sum(1 for s in holding if s.presence_confirmed_at is None),
        cancelled=sum(1 for s in signups if s.status is SignupStatus.CANCELLED),
        waitlisted=sum(1 for s in signups if s.status is SignupStatus.WAITLISTED),
    )


async def alert_low_turnout(uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """3-6.1.3.3: N hours before the start (setting), an activity with places free and nobody left on
    the waitlist offers its staff the temporary call to matching volunteers (the existing call, with
    its once-a-day guard). Once per activity."""
    now = clock.now()
    horizon = now + timedelta(hours=policy.low_turnout_alert_h)
    told = 0
    for activity in await uow.activities.starting_between(now, horizon, OPEN_FOR_SIGNUP):
        assert activity.id is not None
        held = await uow.signups.count(activity.id, HOLDS_PLACE)
        waiting = await uow.signups.count(activity.id, frozenset({SignupStatus.WAITLISTED}))
        if held >= activity.capacity or waiting:
            continue
        told += await tell_staff(
            uow,
            clock,
            [activity.org_id],
            f"turnout.low:{activity.id}",
            "notice.turnout_low",
            choices=[
                ("chat.org.broadcast", BroadcastPreview(activity.id).pack()),
                ("chat.org.view", StaffCard(activity.id).pack()),
            ],
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
            held=str(held),
            capacity=str(activity.capacity),
            missing=str(activity.capacity - held),
        )
    return told
