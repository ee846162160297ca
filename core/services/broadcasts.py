"""Recruitment broadcast (2-7.2, 3-6.1.3.3; targeted by what volunteers chose, 2-6.2 b): staff send an
activity's call for volunteers to the members of their org and the orgs below it who would take it.

A broadcast is one notice per volunteer, all written in the transaction that records the broadcast,
and sent by the outbox dispatcher: a crash part-way through sending loses nothing (what is not sent
yet is still due) and sends nothing twice (each notice is marked once sent). A second broadcast of
the same activity waits a day, so that volunteers are not called again and again.

Each call is numbered per activity (its notices' keys are ``recruit:<activity>:<number>:<user>``): its
progress is counted from its notices, and staff may stop it, which withdraws the notices not sent yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.domain.actions import ActivityCard
from core.domain.activity import Activity, ActivityStatus
from core.domain.dialog import Notice
from core.domain.identity_numbers import age_on
from core.domain.people import Actor
from core.domain.signup import HOLDS_PLACE
from core.errors import Conflict, NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import local

BROADCAST_PAUSE = timedelta(days=1)
BROADCAST = "recruitment.broadcast"  # audit action on the activity; counted for the pause
STOPPED = "recruitment.stopped"  # audit action: staff stopped a call part-way


@dataclass(frozen=True)
class CallProgress:
    """Where one call stands, counted from its notices: sent, given up (blocked, unfollowed, no
    channel), still to go, and withdrawn (stopped, or the activity was cancelled)."""

    activity: Activity
    number: int
    total: int
    sent: int
    failed: int
    pending: int
    withdrawn: int


@dataclass(frozen=True)
class Audience:
    activity: Activity
    user_ids: tuple[int, ...]


async def recruitment_audience(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Audience:
    """Who a broadcast of this activity would reach: active volunteers who are active members of the
    activity's org or of an org below it, whose service areas take in its kind of service (none
    chosen: any), who hold the qualifications it needs, and who have not signed up for it already."""
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    assert activity.id is not None
    refusal = call_refusal(activity, await uow.signups.count(activity.id, HOLDS_PLACE), clock.now())
    if refusal is not None:
        raise refusal
    org_ids = [activity.org_id, *await uow.orgs.descendant_ids(activity.org_id)]
    recipients = await uow.volunteers.recruitable(org_ids, activity.id)
    needed = activity.qualifications_needed
    kind = activity.service_content.value
    user_ids = tuple(
        r.user_id
        for r in recipients
        if (not r.service_areas or kind in r.service_areas)
        and needed <= set(r.qualifications)
        and _old_enough(activity, r.birth_date)
    )
    return Audience(activity, user_ids)


def call_refusal(activity: Activity, taken: int, now: datetime) -> NotEligible | None:
    """Why a call for volunteers would be no use now (``taken``: the places held), or None when it may
    go out. 3-6.1.3.3: a call is for places still to fill, while sign-up is open and before the start
    (once it has begun, those called could not come)."""
    status = activity.status_at(now)
    if status is ActivityStatus.ONGOING:
        return NotEligible(
            "broadcast.started", title=activity.title, start=local(activity.starts_at, activity.timezone)
        )
    if status is not ActivityStatus.PUBLISHED:
        return NotEligible("broadcast.not_open", status=status)
    if activity.places_left(taken) == 0:
        return NotEligible("broadcast.full", title=activity.title, capacity=activity.capacity)
    return None


def _old_enough(activity: Activity, born: date | None) -> bool:
    """As sign-up judges it (core.services.signups): a hazardous activity takes adults only, and
    someone whose age is not on record would be refused."""
    if activity.minimum_age is None:
        return True
    if born is None:
        return False
    return age_on(born, activity.start_day) >= activity.minimum_age


def _calls(activity: Activity) -> str:
    return f"recruit:{activity.id}:"


def _call_params(activity: Activity) -> dict[str, str]:
    return {
        "title": activity.title,
        "start": local(activity.starts_at, activity.timezone),
        "place": activity.place_name or activity.online_url,
    }


async def withdraw_calls(uow: UnitOfWork, clock: Clock, activity: Activity) -> None:
    """The activity is off: calls still in the outbox are never sent (marked, not deleted)."""
    for notice in await uow.notices.pending_with_prefix(_calls(activity)):
        notice.withdraw(clock.now())


async def refresh_calls(uow: UnitOfWork, clock: Clock, activity: Activity) -> None:
    """The plan changed: calls still in the outbox carry its new title, time and place, or are
    withdrawn once it is no longer open (begun, closed)."""
    open_still = activity.status is ActivityStatus.PUBLISHED and activity.starts_at > clock.now()
    for notice in await uow.notices.pending_with_prefix(_calls(activity)):
        if open_still:
            notice.params = {**notice.params, **_call_params(activity)}
        else:
            notice.withdraw(clock.now())


async def broadcast_recruitment(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> int:
    """Queues the call to everyone in the audience; the number queued."""
    return (await call_recruitment(uow, clock, actor, activity_id)).total


async def call_recruitment(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> CallProgress:
    """Queues the call to everyone in the audience; the call, all of it still to go."""
    audience = await recruitment_audience(uow, clock, actor, activity_id)
    activity = audience.activity
    assert activity.id is not None
    now = clock.now()
    earlier = await uow.audit.count_since("activity", activity.id, BROADCAST, now - BROADCAST_PAUSE)
    if earlier:
        raise Conflict("broadcast.too_soon", hours=int(BROADCAST_PAUSE.total_seconds() // 3600))
    number = await uow.audit.count_since("activity", activity.id, BROADCAST, activity.created_at) + 1
    call = Notice(
        key="",
        user_id=0,
        message_key="notice.recruitment",
        due_at=now,
        created_at=now,
        params={"org": await uow.orgs.name_of(activity.org_id) or "", **_call_params(activity)},
        choices=[["chat.button.view_activity", ActivityCard(activity.id).pack()]],
    )
    await uow.notices.add_for_each(
        call, [(f"{_calls(activity)}{number}:{user_id}", user_id) for user_id in audience.user_ids]
    )
    total = len(audience.user_ids)
    await audit(uow, clock, actor, BROADCAST, "activity", activity.id, recipients=total, call=number)
    return CallProgress(activity, number, total, sent=0, failed=0, pending=total, withdrawn=0)


async def call_progress(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, number: int
) -> CallProgress:
    """How far the call has gone. Reads the call's record and its notices not sent (an index leads
    to them): never the whole sent history, however often it is refreshed."""
    activity, total = await _call(uow, actor, activity_id, number)
    unsent = await uow.notices.unsent_with_prefix(f"{_calls(activity)}{number}:")
    sent = max(0, total - unsent.pending - unsent.failed - unsent.withdrawn)
    return CallProgress(activity, number, total, sent, unsent.failed, unsent.pending, unsent.withdrawn)


async def stop_call(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, number: int
) -> CallProgress:
    """The call's notices not sent yet are withdrawn (marked, kept for the record). Those the
    dispatcher has in hand go out still: at the platform's pace, a second or two's worth."""
    activity, _ = await _call(uow, actor, activity_id, number)
    withdrawn = 0
    for notice in await uow.notices.pending_with_prefix(f"{_calls(activity)}{number}:"):
        notice.withdraw(clock.now())
        withdrawn += 1
    if withdrawn:
        assert activity.id is not None
        await audit(uow, clock, actor, STOPPED, "activity", activity.id, call=number, withdrawn=withdrawn)
    return await call_progress(uow, clock, actor, activity_id, number)


async def _call(uow: UnitOfWork, actor: Actor, activity_id: int, number: int) -> tuple[Activity, int]:
    """The activity (its staff only) and how many the call went to, from its record."""
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    calls = [e for e in await uow.audit.for_entity("activity", activity_id) if e.action == BROADCAST]
    calls.sort(key=lambda e: (e.at, e.id or 0))
    entry = next((e for e in calls if e.details.get("call") == number), None)
    if entry is None and 0 < number <= len(calls) and "call" not in calls[number - 1].details:
        entry = calls[number - 1]  # recorded before calls carried their number: the n-th one
    if entry is None:
        raise NotFound("broadcast.call_not_found")
    return activity, int(entry.details.get("recipients", 0))
