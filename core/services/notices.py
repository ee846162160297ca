"""The outbox: notices written in the same transaction as the change that causes them, sent later
by the scheduler's dispatcher through each channel's Messenger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.activity import Activity
from core.domain.dialog import Notice
from core.domain.signup import Signup
from core.ports import Clock, UnitOfWork


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
        volunteer = await uow.volunteers.get(signup.volunteer_id)
        if volunteer is None:
            continue
        await enqueue(
            uow,
            clock,
            f"{event}:{activity.id}:{signup.id}",
            volunteer.user_id,
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
