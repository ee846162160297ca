"""Recruitment broadcast (2-7.2, 3-6.1.3.3; targeted by what volunteers chose, 2-6.2 b): staff send an
activity's call for volunteers to the members of their org and the orgs below it who would take it.

A broadcast is one notice per volunteer, all written in the transaction that records the broadcast,
and sent by the outbox dispatcher: a crash part-way through sending loses nothing (what is not sent
yet is still due) and sends nothing twice (each notice is marked once sent). A second broadcast of
the same activity waits a day, so that volunteers are not called again and again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.domain.activity import Activity, ActivityStatus
from core.domain.dialog import Notice
from core.domain.identity_numbers import age_on
from core.domain.people import Actor
from core.errors import Conflict, NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import local

BROADCAST_PAUSE = timedelta(days=1)
BROADCAST = "recruitment.broadcast"  # audit action on the activity; counted for the pause


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
    if activity.status is not ActivityStatus.PUBLISHED or activity.starts_at <= clock.now():
        raise NotEligible("broadcast.not_open", status=activity.status)
    org_ids = [activity.org_id, *await uow.orgs.descendant_ids(activity.org_id)]
    assert activity.id is not None
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
        choices=[["chat.button.view_activity", f"a:{activity.id}"]],
    )
    await uow.notices.add_for_each(
        call, [(f"{_calls(activity)}{number}:{user_id}", user_id) for user_id in audience.user_ids]
    )
    await audit(uow, clock, actor, BROADCAST, "activity", activity.id, recipients=len(audience.user_ids))
    return len(audience.user_ids)
