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


async def notify_promoted(
    uow: UnitOfWork, clock: Clock, activity: Activity, promoted: Sequence[Signup]
) -> None:
    """3-6.1.3.3: a waitlisted volunteer who gets a place is told at once."""
    for signup in promoted:
        volunteer = await uow.volunteers.get(signup.volunteer_id)
        if volunteer is None:
            continue
        await enqueue(
            uow,
            clock,
            f"signup.promoted:{signup.id}",
            volunteer.user_id,
            "notice.promoted",
            choices=[("chat.button.view_activity", f"a:{activity.id}")],
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
        )


async def notify_activity_cancelled(
    uow: UnitOfWork, clock: Clock, activity: Activity, signups: Sequence[Signup]
) -> None:
    for signup in signups:
        volunteer = await uow.volunteers.get(signup.volunteer_id)
        if volunteer is None:
            continue
        await enqueue(
            uow,
            clock,
            f"activity.cancelled:{activity.id}:{signup.id}",
            volunteer.user_id,
            "notice.activity_cancelled",
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
            reason=activity.status_reason or "",
        )
