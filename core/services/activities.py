from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from core.domain.activity import OPEN_FOR_SIGNUP, Activity, ActivityStatus
from core.domain.attendance import new_code_secret
from core.domain.people import Actor
from core.domain.signup import LIVE, SignupStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.broadcasts import refresh_calls, withdraw_calls
from core.services.notices import (
    local,
    move_briefings,
    notify_activity_cancelled,
    notify_activity_changed,
    withdraw_briefings,
)
from core.services.reminders import withdraw_reminders
from core.services.signups import fill_places

# Changes the signed-up volunteers are told of.
_WHEN_AND_WHERE = frozenset(
    {
        "starts_at",
        "ends_at",
        "mode",
        "place_name",
        "address",
        "latitude",
        "longitude",
        "online_url",
        "base_id",
    }
)

# What an organizer may change after creation; identity, org and status move only through use cases.
EDITABLE = frozenset(f.name for f in fields(Activity)) - {
    "id",
    "org_id",
    "status",
    "status_reason",
    "created_at",
    "created_by",
    "published_at",
    "checkin_secret",
}


class EndedActivity(Conflict):
    """The activity has been held and is over: it stands as it was held."""


def check_editable(activity: Activity, now: datetime) -> None:
    """Once ended, the plan is what was held and nothing of it changes any more: its time and place
    bound the check-ins the hours come from (2-6.3 a), certificates name it (4-5.5) and the 3-6.3
    record is filed on it. What really happened goes into the record (活动记录: content, beneficiaries,
    service time); a wrong hour is voided in 工时确认."""
    if activity.ended(now):
        raise EndedActivity(
            "activity.edit.ended", title=activity.title, end=local(activity.ends_at, activity.timezone)
        )


def check_cancellable(activity: Activity, now: datetime) -> None:
    """Held and over, an activity is not called off: the hours confirmed on it stand (2-6.3), and a
    cancelled activity would carry them for something that never took place. A wrong record is
    voided in 工时确认 instead."""
    if activity.ended(now):
        raise EndedActivity(
            "activity.cancel.ended", title=activity.title, end=local(activity.ends_at, activity.timezone)
        )


async def _base_place(uow: UnitOfWork, activity: Activity) -> None:
    """5-4: an activity held at a base takes its place and check-in point from it."""
    if activity.base_id is None:
        return
    base = await uow.bases.get(activity.base_id)
    if base is None:
        raise NotFound("base.not_found")
    activity.place_name = activity.place_name or base.name
    activity.address = activity.address or base.address
    if activity.latitude is None and base.latitude is not None:
        activity.latitude, activity.longitude = base.latitude, base.longitude


async def create_activity(uow: UnitOfWork, clock: Clock, actor: Actor, activity: Activity) -> Activity:
    await require_staff(uow, actor, activity.org_id)
    org = await uow.orgs.get(activity.org_id)
    if org is None or not org.active:
        raise NotFound("org.not_found")
    activity.status = ActivityStatus.DRAFT
    activity.created_at = clock.now()
    activity.created_by = actor.user_id
    activity.checkin_secret = new_code_secret()
    await _base_place(uow, activity)
    activity.check()
    await uow.activities.add(activity)
    await audit(uow, clock, actor, "activity.create", "activity", activity.id, title=activity.title)
    return activity


async def _own(uow: UnitOfWork, actor: Actor, activity_id: int, *, lock: bool = False) -> Activity:
    activity = await (uow.activities.get_for_update(activity_id) if lock else uow.activities.get(activity_id))
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    return activity


async def update_activity(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, changes: dict[str, Any]
) -> Activity:
    activity = await _own(uow, actor, activity_id, lock=True)
    if activity.status in (ActivityStatus.CANCELLED, ActivityStatus.RECORDED):
        raise Conflict("activity.closed", status=activity.status)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput("activity.field.unknown", field=sorted(unknown)[0])
    now = clock.now()
    moved = any(
        getattr(activity, name) != value for name, value in changes.items() if name in _WHEN_AND_WHERE
    )
    if "training_kind" in changes and changes["training_kind"] != activity.training_kind:
        assert activity.id is not None
        # 2-7.4: hours already recorded stay what they were recorded as (service or training).
        if await uow.records.for_activity(activity.id):
            raise Conflict("trainings.kind_locked")
    if any(getattr(activity, name) != value for name, value in changes.items()):
        check_editable(activity, now)  # a field answered with its present value changes nothing
    for name, value in changes.items():
        setattr(activity, name, value)
    await _base_place(uow, activity)
    if activity.status is ActivityStatus.DRAFT:
        activity.check()
    else:
        activity.check_publishable()
    await fill_places(uow, clock, actor, activity)
    assert activity.id is not None
    signups = await uow.signups.for_activity(activity.id)
    # 3-6.1.3.2: pending briefings follow the new time and carry the new place, link and plan.
    await move_briefings(uow, clock, activity, [s for s in signups if s.status is SignupStatus.CONFIRMED])
    await refresh_calls(uow, clock, activity)
    if moved and activity.status in OPEN_FOR_SIGNUP:
        live = [s for s in signups if s.status in LIVE]
        await notify_activity_changed(uow, clock, activity, live)
    await audit(uow, clock, actor, "activity.update", "activity", activity.id, fields=sorted(changes))
    return activity


async def publish_activity(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Activity:
    activity = await _own(uow, actor, activity_id)
    if activity.status is not ActivityStatus.DRAFT:
        raise Conflict("activity.publish.not_draft", status=activity.status)
    if activity.starts_at <= clock.now():
        raise InvalidInput("activity.publish.in_past")
    activity.check_publishable()
    activity.status = ActivityStatus.PUBLISHED
    activity.published_at = clock.now()
    await audit(uow, clock, actor, "activity.publish", "activity", activity.id)
    return activity


async def cancel_activity(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, reason: str
) -> Activity:
    """Cancelled with a reason; every live sign-up is cancelled with it (the volunteers are told)."""
    activity = await _own(uow, actor, activity_id, lock=True)
    now = clock.now()
    check_cancellable(activity, now)
    if activity.status is ActivityStatus.CANCELLED:
        raise Conflict("activity.cancel.too_late", status=activity.status)
    if not reason.strip():
        raise InvalidInput("activity.cancel.reason_required")
    activity.status = ActivityStatus.CANCELLED
    activity.status_reason = reason.strip()
    assert activity.id is not None
    told = []
    for signup in await uow.signups.for_activity(activity.id):
        if signup.status in LIVE:
            signup.status = SignupStatus.CANCELLED
            signup.cancelled_at = now
            signup.cancel_reason = reason.strip()
            told.append(signup)
    await withdraw_briefings(uow, clock, told)
    await withdraw_reminders(uow, clock, told)
    await withdraw_calls(uow, clock, activity)
    await notify_activity_cancelled(uow, clock, activity, told)
    await audit(uow, clock, actor, "activity.cancel", "activity", activity.id, reason)
    return activity


async def get_activity(uow: UnitOfWork, activity_id: int) -> Activity:
    activity = await uow.activities.get(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    return activity


async def read_activity(uow: UnitOfWork, activity_id: int) -> Activity:
    """A copy to show (``ActivityRepository.read``): never to change."""
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    return activity
