"""Reminders before an activity and the notices after it, queued in the outbox by periodic jobs.

Before (3-6.2.3): the day before and a few hours before the start (``Policy.reminder_day_before_h``,
``Policy.reminder_hours_before``), each volunteer whose place was confirmed by then is reminded, with how
to check in. A reminder is queued when it falls due, under a key of its own (``remind.1d:<sign-up>``), so a
rerun, a restart or a second instance queues nothing twice, and a run after a pause still queues what fell
due meanwhile, as long as the activity has not started. When both have fallen due only the nearer is sent.

After (3-8.1.2, 3-6.3): once an activity has ended, each volunteer who took part is asked for the
volunteers' survey, and the organizing org's staff get the beneficiaries' survey to pass on (its deep link
and QR code). Activities that ended more than 7 days ago are left alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.actions import ActivityCard, CheckinMenu, SurveyLinks, SurveyStats, VolunteerSurvey
from core.domain.activity import Activity, ActivityMode, ActivityStatus
from core.domain.dialog import Notice
from core.domain.signup import Signup, SignupStatus
from core.domain.survey import QUESTIONS, SurveyKind
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.notices import enqueue, local, tell_staff

REMINDED = frozenset({ActivityStatus.PUBLISHED, ActivityStatus.ONGOING})
# Held: neither a draft nor cancelled (an activity stays published after its end until its record is filed).
HELD = frozenset(
    {ActivityStatus.PUBLISHED, ActivityStatus.ONGOING, ActivityStatus.FINISHED, ActivityStatus.RECORDED}
)
TOOK_PART = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED})
AFTER_LOOKBACK = timedelta(days=7)  # 3-6.3: the week in which the activity is wrapped up
REMINDER_PREFIX = "remind."
REMINDER_NAMES = ("1d", "2h")


@dataclass(frozen=True)
class Reminder:
    name: str  # in the notice's key: "1d", "2h"
    ahead: timedelta  # before the start


def plan(policy: Policy) -> tuple[Reminder, ...]:
    """The reminders of the policy, the farthest from the start first."""
    both = (
        Reminder("1d", timedelta(hours=policy.reminder_day_before_h)),
        Reminder("2h", timedelta(hours=policy.reminder_hours_before)),
    )
    return tuple(sorted(both, key=lambda r: r.ahead, reverse=True))


def reminder_key(name: str, signup_id: int | None) -> str:
    return f"{REMINDER_PREFIX}{name}:{signup_id}"


def reminder_keys(signups: Sequence[Signup], names: Sequence[str] = REMINDER_NAMES) -> list[str]:
    return [reminder_key(name, s.id) for s in signups for name in names]


def vsurvey_key(signup: Signup) -> str:
    return f"after.vsurvey:{signup.id}"


async def withdraw_reminders(uow: UnitOfWork, clock: Clock, signups: Sequence[Signup]) -> None:
    """The sign-up or its activity is off: a reminder still pending is never sent (marked, not deleted),
    in the same transaction as the change."""
    for notice in await uow.notices.pending(reminder_keys(signups)):
        notice.withdraw(clock.now())


# ---- before ---------------------------------------------------------------------------------------


def reminder_message(activity: Activity) -> str:
    """How to check in depends on the mode (3-5.3): a location on site, the leader's code online."""
    if activity.mode is ActivityMode.ONLINE:
        return "notice.reminder.online"
    code = "_code" if activity.checkin_code_required else ""
    if activity.mode is ActivityMode.HYBRID:
        return f"notice.reminder.hybrid{code}"
    return f"notice.reminder.offline{code}"


def reminder_params(activity: Activity, policy: Policy) -> dict[str, str]:
    """Plain values: the text around them is the user's language at send time."""
    place = " ".join(p for p in (activity.place_name, activity.address) if p)
    return {
        "title": activity.title,
        "start": local(activity.starts_at, activity.timezone),
        "place": place or "-",
        "link": activity.online_url or "-",
        "opens": str(policy.checkin_opens_before_min),
    }


def reminder_choices(activity: Activity) -> list[tuple[str, str]]:
    assert activity.id is not None
    return [
        ("chat.menu.checkin", CheckinMenu().pack()),
        ("chat.button.view_activity", ActivityCard(activity.id).pack()),
    ]


async def queue_reminders(uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """Run every few minutes: queues the reminders that have fallen due and are not queued yet, and
    withdraws those still waiting that no longer hold. Returns how many were queued."""
    now = clock.now()
    reminders = plan(policy)
    await _refresh_pending(uow, now, policy)
    queued = 0
    for activity in await uow.activities.starting_between(now, now + reminders[0].ahead, REMINDED):
        # The nearest reminder whose moment has come: after a pause, one reminder rather than two.
        reminder = [r for r in reminders if activity.starts_at - r.ahead <= now][-1]
        moment = activity.starts_at - reminder.ahead
        assert activity.id is not None
        # Confirmed by the reminder's moment: a place given since was told all this in its own reply.
        signups = [
            s
            for s in await uow.signups.for_activity(activity.id)
            if s.status is SignupStatus.CONFIRMED and (s.confirmed_at is None or s.confirmed_at <= moment)
        ]
        known = await uow.notices.queued(reminder_keys(signups, [reminder.name]))
        due = [s for s in signups if reminder_key(reminder.name, s.id) not in known]
        for signup in due:
            user_id = await uow.volunteers.user_id_of(signup.volunteer_id)
            if user_id is None:
                continue
            queued += await enqueue(
                uow,
                clock,
                reminder_key(reminder.name, signup.id),
                user_id,
                reminder_message(activity),
                choices=reminder_choices(activity),
                **reminder_params(activity, policy),
            )
        farther = [r.name for r in reminders if r.ahead > reminder.ahead]
        if due and farther:
            # Not sent yet (the dispatcher was down too): the nearer reminder says it all.
            for notice in await uow.notices.pending(reminder_keys(due, farther)):
                notice.withdraw(now)
    return queued


async def _refresh_pending(uow: UnitOfWork, now: datetime, policy: Policy) -> None:
    """Reminders queued but not sent yet (the dispatcher is behind or was down): withdrawn once the
    activity has started, is off or the place is gone; otherwise they carry the activity as it is now."""
    for notice in await uow.notices.pending_with_prefix(REMINDER_PREFIX):
        activity = await _activity_of(uow, notice)
        if activity is None or activity.starts_at <= now:
            notice.withdraw(now)
        elif notice.attempts == 0:  # a notice being sent is left as it is
            notice.message_key = reminder_message(activity)
            notice.params = reminder_params(activity, policy)


async def _activity_of(uow: UnitOfWork, notice: Notice) -> Activity | None:
    """The reminded activity while the reminder still holds: published, the place still confirmed."""
    signup_id = notice.key.rpartition(":")[2]
    signup = await uow.signups.get(int(signup_id)) if signup_id.isdigit() else None
    if signup is None or signup.status is not SignupStatus.CONFIRMED:
        return None
    activity = await uow.activities.read(signup.activity_id)
    return activity if activity is not None and activity.status in REMINDED else None


# ---- after ----------------------------------------------------------------------------------------


async def queue_after_activity(uow: UnitOfWork, clock: Clock) -> int:
    """Run every few minutes: for each activity ended in the last 7 days (not cancelled), the volunteers
    who took part are asked for their survey and the org's staff get the beneficiaries' one; each once.
    A volunteer checked in later by staff is asked on the next run. Returns how many were queued."""
    now = clock.now()
    queued = 0
    for activity in await uow.activities.ending_between(now - AFTER_LOOKBACK, now, HELD):
        queued += await _ask_volunteers(uow, clock, activity)
        queued += await _ask_staff(uow, clock, activity)
    return queued


async def _ask_volunteers(uow: UnitOfWork, clock: Clock, activity: Activity) -> int:
    """3-8.1.2.2: to those who came (checked in, or marked present by staff); absentees are not asked."""
    assert activity.id is not None
    checked_in = {a.signup_id for a in await uow.attendances.for_activity(activity.id)}
    came = [
        s
        for s in await uow.signups.for_activity(activity.id)
        if s.status is SignupStatus.ATTENDED or (s.id in checked_in and s.status in TOOK_PART)
    ]
    known = await uow.notices.queued([vsurvey_key(s) for s in came])
    queued = 0
    for signup in came:
        if vsurvey_key(signup) in known:
            continue
        user_id = await uow.volunteers.user_id_of(signup.volunteer_id)
        # Answered already (on site, by the deep link): nothing to ask.
        if user_id is None or await uow.surveys.answered(activity.id, SurveyKind.VOLUNTEER, user_id):
            continue
        queued += await enqueue(
            uow,
            clock,
            vsurvey_key(signup),
            user_id,
            "notice.after.vsurvey",
            choices=[("reminder.button.vsurvey", VolunteerSurvey(activity.id).pack())],
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
            count=str(len(QUESTIONS[SurveyKind.VOLUNTEER])),
        )
    return queued


async def _ask_staff(uow: UnitOfWork, clock: Clock, activity: Activity) -> int:
    """3-8.1.2.1: the beneficiaries answer without registering, by the deep link or its QR code, which
    the organizing org's staff show on site or pass on."""
    assert activity.id is not None
    return await tell_staff(
        uow,
        clock,
        [activity.org_id],
        f"after.bsurvey:{activity.id}",
        "notice.after.bsurvey",
        choices=[
            ("matching.button.survey", SurveyLinks(activity.id).pack()),
            ("reminder.button.stats", SurveyStats(activity.id).pack()),
        ],
        title=activity.title,
        end=local(activity.ends_at, activity.timezone),
        payload=f"survey-{activity.id}",
        id=str(activity.id),
    )
