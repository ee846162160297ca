"""The outbox: notices written in the same transaction as the change that causes them, sent later
by the scheduler's dispatcher through each channel's Messenger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.activity import Activity
from core.domain.dialog import Notice
from core.domain.signup import Signup
from core.ports import Clock, UnitOfWork

BRIEFING_AHEAD = timedelta(days=3)  # 3-6.1.3.2: brief 3 days before


def local(moment: Any, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


async def enqueue(
    uow: UnitOfWork,
    clock: Clock,
    key: str,
    user_id: int,
    message_key: str,
    *,
    due_at: Any = None,
    choices: Sequence[tuple[str, str]] = (),
    **params: Any,
) -> bool:
    notice = Notice(
        key=key,
        user_id=user_id,
        message_key=message_key,
        due_at=due_at or clock.now(),
        created_at=clock.now(),
        params=params,
        choices=[list(c) for c in choices],
    )
    return await uow.notices.add_once(notice)


async def _tell_volunteers(
    uow: UnitOfWork,
    clock: Clock,
    activity: Activity,
    signups: Sequence[Signup],
    event: str,
    message_key: str,
    choices: Sequence[tuple[str, str]] = (),
    **params: Any,
) -> None:
    """One notice per sign-up, keyed by event and sign-up so the same event is never told twice."""
    for signup in signups:
        user_id = await uow.volunteers.user_id_of(signup.volunteer_id)
        if user_id is None:
            continue
        await enqueue(
            uow,
            clock,
            f"{event}:{activity.id}:{signup.id}",
            user_id,
            message_key,
            choices=choices,
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
            **params,
        )


async def notify_promoted(
    uow: UnitOfWork, clock: Clock, activity: Activity, promoted: Sequence[Signup]
) -> None:
    """3-6.1.3.3: a waitlisted volunteer who gets a place is told at once."""
    await _tell_volunteers(
        uow,
        clock,
        activity,
        promoted,
        "promoted",
        "notice.promoted",
        choices=[("chat.button.view_activity", f"a:{activity.id}")],
    )


async def notify_activity_cancelled(
    uow: UnitOfWork, clock: Clock, activity: Activity, signups: Sequence[Signup]
) -> None:
    await _tell_volunteers(
        uow,
        clock,
        activity,
        signups,
        "activity-cancelled",
        "notice.activity_cancelled",
        reason=activity.status_reason or "",
    )


async def notify_activity_changed(
    uow: UnitOfWork, clock: Clock, activity: Activity, signups: Sequence[Signup]
) -> None:
    """Signed-up volunteers hear of a new time or place; each change is its own notice."""
    await _tell_volunteers(
        uow,
        clock,
        activity,
        signups,
        f"activity-changed-{clock.now().timestamp():.0f}",
        "notice.activity_changed",
        choices=[("chat.button.view_activity", f"a:{activity.id}")],
        place=activity.place_name or activity.online_url,
    )


def briefing_key(signup: Signup) -> str:
    return f"briefing:{signup.id}"


def briefing_params(activity: Activity) -> dict[str, str]:
    """3-6.1.3.2: content, time, place (or the link to join online), beneficiaries, guarantees and
    required training. Plain values: the text around them is the user's language at send time."""
    place = " ".join(p for p in (activity.place_name, activity.address) if p) if activity.has_place else ""
    return {
        "title": activity.title,
        "start": local(activity.starts_at, activity.timezone),
        "where": " / ".join(p for p in (place, activity.online_url) if p) or "-",
        "content": activity.content or "-",
        "beneficiaries": activity.beneficiaries or "-",
        "guarantees": activity.guarantees or "-",
        "training": activity.required_training or "-",
    }


async def schedule_briefing(
    uow: UnitOfWork, clock: Clock, activity: Activity, signup: Signup, *, queue_if_late: bool = True
) -> None:
    """3-6.1.3.2: a volunteer whose place is confirmed is briefed 3 days before the start. Confirmed
    inside the 3 days, the briefing is due at once, or not queued when the caller gives it in its
    own reply (``queue_if_late=False``). Once the activity has begun there is nothing to brief."""
    now = clock.now()
    if activity.starts_at <= now:
        return
    due = activity.starts_at - BRIEFING_AHEAD
    if due <= now and not queue_if_late:
        return
    user_id = await uow.volunteers.user_id_of(signup.volunteer_id)
    if user_id is None:
        return
    await enqueue(
        uow,
        clock,
        briefing_key(signup),
        user_id,
        "notice.briefing",
        due_at=max(due, now),
        choices=[
            ("chat.button.view_activity", f"a:{activity.id}"),
            ("chat.button.cancel_signup", f"s.c:{signup.id}"),
        ],
        **briefing_params(activity),
    )


async def move_briefings(
    uow: UnitOfWork, clock: Clock, activity: Activity, signups: Sequence[Signup]
) -> None:
    """The plan changed: briefings still pending carry its new values (rewritten now rather than read at
    send time, so the dispatcher stays generic) and follow the start. A start moved inside the 3 days
    briefs at once, as a sign-up made then is briefed at once; a start already past withdraws it.
    A briefing sent already is not sent again: the change notice tells the new time and place."""
    now = clock.now()
    for notice in await uow.notices.pending([briefing_key(s) for s in signups]):
        if activity.starts_at <= now:
            notice.withdraw(now)
            continue
        notice.params = briefing_params(activity)
        # Tried already (claimed under a lease, or waiting to retry): it goes soon; moving it could
        # let a second dispatcher claim it while the first is still sending.
        if notice.attempts == 0:
            notice.due_at = max(activity.starts_at - BRIEFING_AHEAD, now)


async def withdraw_briefings(uow: UnitOfWork, clock: Clock, signups: Sequence[Signup]) -> None:
    """The sign-up or its activity is off: a briefing still pending is never sent (marked, not deleted),
    in the same transaction as the change."""
    for notice in await uow.notices.pending([briefing_key(s) for s in signups]):
        notice.withdraw(clock.now())
