"""The outbox: notices written in the same transaction as the change that causes them, sent later
by the scheduler's dispatcher through each channel's Messenger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.actions import ActivityCard, ConfirmPresence, Decline
from core.domain.activity import Activity
from core.domain.dialog import Notice
from core.domain.people import Role
from core.domain.signup import Signup
from core.ports import Clock, UnitOfWork

BRIEFING_AHEAD = timedelta(days=3)  # 3-6.1.3.2: brief 3 days before
NUDGE_AFTER = timedelta(hours=24)  # no answer to the briefing by then: one reminder
ZERO = timedelta(0)


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


async def tell_staff(
    uow: UnitOfWork,
    clock: Clock,
    org_ids: Sequence[int],
    key: str,
    message_key: str,
    *,
    choices: Sequence[tuple[str, str]] = (),
    **params: Any,
) -> int:
    """Each staff member of these orgs hears it once (a member of two of them too): the notice's key is
    ``<key>:<user id>``. Returns how many were queued now."""
    users: dict[int, None] = {}
    for org_id in org_ids:
        for grant in await uow.grants.staff_of(org_id):
            if grant.role is Role.ORG_STAFF:
                users.setdefault(grant.user_id)
    queued = 0
    for user_id in users:
        queued += await enqueue(
            uow, clock, f"{key}:{user_id}", user_id, message_key, choices=choices, **params
        )
    return queued


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
    assert activity.id is not None
    await _tell_volunteers(
        uow,
        clock,
        activity,
        promoted,
        "promoted",
        "notice.promoted",
        choices=[("chat.button.view_activity", ActivityCard(activity.id).pack())],
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
    assert activity.id is not None
    await _tell_volunteers(
        uow,
        clock,
        activity,
        signups,
        f"activity-changed-{clock.now().timestamp():.0f}",
        "notice.activity_changed",
        choices=[("chat.button.view_activity", ActivityCard(activity.id).pack())],
        place=activity.place_name or activity.online_url,
    )


def briefing_key(signup: Signup) -> str:
    return f"briefing:{signup.id}"


def nudge_key(signup: Signup) -> str:
    return f"briefing.nudge:{signup.id}"


def briefing_keys(signups: Sequence[Signup]) -> list[str]:
    """The briefing and its one nudge: planned together, moved and withdrawn together."""
    return [key for s in signups for key in (briefing_key(s), nudge_key(s))]


def answer_choices(activity: Activity, signup: Signup) -> list[tuple[str, str]]:
    """3-6.1.3.2: the briefing asks for confirmation; 无法参加 frees the place for the waitlist."""
    assert activity.id is not None and signup.id is not None
    return [
        ("briefing.button.confirm", ConfirmPresence(signup.id).pack()),
        ("briefing.button.decline", Decline(signup.id).pack()),
        ("chat.button.view_activity", ActivityCard(activity.id).pack()),
    ]


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
    due_at = max(due, now)
    params = briefing_params(activity)
    if signup.answer_due_at is not None:  # promoted close to the start: the place waits until then
        params["deadline"] = local(signup.answer_due_at, activity.timezone)
    choices = answer_choices(activity, signup)
    await enqueue(
        uow,
        clock,
        briefing_key(signup),
        user_id,
        "notice.briefing_deadline" if signup.answer_due_at else "notice.briefing",
        due_at=due_at,
        choices=choices,
        **params,
    )
    # One nudge a day after the briefing when no answer came; the answer withdraws it.
    if signup.answer_due_at is None and due_at + NUDGE_AFTER < activity.starts_at:
        await enqueue(
            uow,
            clock,
            nudge_key(signup),
            user_id,
            "notice.briefing_nudge",
            due_at=due_at + NUDGE_AFTER,
            choices=choices,
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
        )


async def move_briefings(
    uow: UnitOfWork, clock: Clock, activity: Activity, signups: Sequence[Signup]
) -> None:
    """The plan changed: briefings still pending carry its new values (rewritten now rather than read at
    send time, so the dispatcher stays generic) and follow the start. A start moved inside the 3 days
    briefs at once, as a sign-up made then is briefed at once; a start already past withdraws it.
    A briefing sent already is not sent again: the change notice tells the new time and place."""
    now = clock.now()
    nudges = {nudge_key(s) for s in signups}
    for notice in await uow.notices.pending(briefing_keys(signups)):
        if activity.starts_at <= now:
            notice.withdraw(now)
            continue
        nudge = notice.key in nudges
        if nudge:
            notice.params = {"title": activity.title, "start": local(activity.starts_at, activity.timezone)}
        else:
            notice.params = {**briefing_params(activity), **_deadline(notice)}
        # Tried already (claimed under a lease, or waiting to retry): it goes soon; moving it could
        # let a second dispatcher claim it while the first is still sending.
        if notice.attempts == 0:
            notice.due_at = max(activity.starts_at - BRIEFING_AHEAD, now) + (NUDGE_AFTER if nudge else ZERO)
            if nudge and notice.due_at >= activity.starts_at:
                notice.withdraw(now)


def _deadline(notice: Notice) -> dict[str, Any]:
    return {"deadline": notice.params["deadline"]} if "deadline" in notice.params else {}


async def withdraw_briefings(uow: UnitOfWork, clock: Clock, signups: Sequence[Signup]) -> None:
    """The sign-up or its activity is off: a briefing still pending is never sent (marked, not deleted),
    in the same transaction as the change."""
    for notice in await uow.notices.pending(briefing_keys(signups)):
        notice.withdraw(clock.now())
