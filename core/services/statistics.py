"""3-8.2, 1-6.1.1: the statistics report staff read in chat, per activity or per period, for their org
with every org below it rolled up: sign-ups, attendance, confirmed hours, the satisfaction surveys
(averages per question and the distribution of ratings), complaints and how they were handled, and the
improvement points drawn from them (questions averaging under 3.5, the latest comments). Plain values
here: the text, the charts and the spreadsheet are made from them by the conversation and adapters.

Hours are the confirmed service hours of the activities in the report (trainings are not service, 2-7.4);
an activity belongs to the period in which it starts, and a complaint to the period in which it was filed.
The attendance rate counts only the activities that had ended when the report was made: a sign-up for an
activity still to come is no absence (a month's report read mid-month would otherwise call most of its
volunteers absent)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain.activity import ActivityStatus
from core.domain.dialog import Feedback
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.domain.survey import QUESTIONS, RATING_MAX, RATING_MIN, SurveyKind, SurveyResponse
from core.errors import InvalidInput, NotEligible, NotFound
from core.ports import ActivityBrief, ActivityQuery, Clock, UnitOfWork
from core.services.access import require_staff
from core.services.exports import Period
from core.services.feedback import excerpt

HELD = frozenset(
    {ActivityStatus.PUBLISHED, ActivityStatus.ONGOING, ActivityStatus.FINISHED, ActivityStatus.RECORDED}
)
SIGNED_UP = frozenset(set(SignupStatus) - {SignupStatus.CANCELLED})
IMPROVE_BELOW = 3.5  # 3-8.2: a question averaging under this is a point to improve
MAX_ACTIVITIES = 5_000  # a report read within one chat turn; a longer period is cut and says so
MAX_MONTHS = 24
COMMENTS = 5
ZERO = Decimal("0.0")


@dataclass(frozen=True)
class ActivityLine:
    activity_id: int
    title: str
    starts_at: datetime
    timezone: str
    signups: int
    attended: int
    hours: Decimal
    satisfaction: float | None  # the beneficiaries' mean rating over every question
    responses: int
    ended: bool  # over when the report was made: only then do its sign-ups count in the attendance rate


@dataclass(frozen=True)
class QuestionLine:
    kind: SurveyKind
    question: str
    count: int
    average: float


@dataclass(frozen=True)
class ComplaintCounts:
    total: int = 0
    answered: int = 0
    open: int = 0
    escalated: int = 0  # of all, those that went to the org above


@dataclass(frozen=True)
class Report:
    name: str  # the org's name, or the activity's title
    org_id: int
    period: Period | None  # None: one activity's report
    activity_id: int | None
    activities: tuple[ActivityLine, ...]
    truncated: bool  # more activities than MAX_ACTIVITIES in the period: the first ones only
    responses: dict[SurveyKind, int]
    questions: tuple[QuestionLine, ...]
    distribution: tuple[int, ...]  # the beneficiaries' ratings, how many of 1, 2, … 5
    complaints: ComplaintCounts
    comments: tuple[str, ...]  # the latest survey comments and complaints, newest first
    monthly_hours: tuple[tuple[date, Decimal], ...]  # the first of each month in the period, its hours
    as_of: datetime  # when the report was made: the activities that had ended by then are "ended"

    @property
    def signups(self) -> int:
        return sum(a.signups for a in self.activities)

    @property
    def attended(self) -> int:
        return sum(a.attended for a in self.activities)

    @property
    def hours(self) -> Decimal:
        return sum((a.hours for a in self.activities), ZERO)

    @property
    def ended(self) -> tuple[ActivityLine, ...]:
        """The activities over by ``as_of``: the basis of the attendance rate."""
        return tuple(a for a in self.activities if a.ended)

    @property
    def ended_signups(self) -> int:
        return sum(a.signups for a in self.ended)

    @property
    def ended_attended(self) -> int:
        return sum(a.attended for a in self.ended)

    @property
    def not_ended(self) -> int:
        """Activities still to come or under way: left out of the attendance rate."""
        return len(self.activities) - len(self.ended)

    @property
    def attendance_rate(self) -> float | None:
        """Attended over signed up, among the ended activities only; None when none has ended (or none
        of those had a sign-up)."""
        signups = self.ended_signups
        return self.ended_attended / signups if signups else None

    @property
    def answered(self) -> bool:
        """Whether any survey was answered: without answers there is nothing to judge the service by."""
        return bool(self.questions)

    @property
    def improvements(self) -> tuple[QuestionLine, ...]:
        return tuple(q for q in self.questions if q.average < IMPROVE_BELOW)


async def period_report(uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int, period: Period) -> Report:
    """The org and the orgs below it, over the period (days in the org's time zone, both ends included),
    as of now."""
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    await require_staff(uow, actor, org_id, write=False)
    if period.start is None or period.end is None:
        raise InvalidInput("statistics.period.open")
    org_ids = [org_id, *await uow.orgs.descendant_ids(org_id)]
    since, until = period.bounds(org.timezone)
    # Briefs, not whole plans: a city's year is a thousand activities and more.
    found = await uow.activities.search_brief(
        ActivityQuery(
            statuses=HELD,
            org_ids=tuple(org_ids),
            starts_after=since,
            starts_before=until,
            trainings=False,
            limit=MAX_ACTIVITIES + 1,
        )
    )
    activities = found[:MAX_ACTIVITIES]
    complaints = await uow.feedback.complaints(org_ids, since, until)
    report = await _report(
        uow, clock.now(), org.name, org_id, period, None, activities, len(found) > MAX_ACTIVITIES, complaints
    )
    return replace(report, monthly_hours=_by_month(report.activities, period, org.timezone))


async def activity_report(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Report:
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id, write=False)
    if activity.status not in HELD:
        raise NotEligible("statistics.activity_not_held", title=activity.title)
    complaints = await uow.feedback.complaints([], None, None, activity_id=activity_id)
    assert activity.id is not None
    brief = ActivityBrief(
        activity.id,
        activity.title,
        activity.starts_at,
        activity.timezone,
        activity.capacity,
        activity.latitude,
        activity.longitude,
        activity.ends_at,
    )
    return await _report(
        uow, clock.now(), activity.title, activity.org_id, None, activity_id, [brief], False, complaints
    )


async def _report(
    uow: UnitOfWork,
    now: datetime,
    name: str,
    org_id: int,
    period: Period | None,
    activity_id: int | None,
    activities: Sequence[ActivityBrief],
    truncated: bool,
    complaints: Sequence[Feedback],
) -> Report:
    ids = [a.id for a in activities]
    # Three grouped reads for every activity together, not a few per activity: a city's year is thousands.
    signups = await uow.signups.count_by_status(ids)
    hours_each = await uow.records.confirmed_hours_each(ids)
    responses = await uow.surveys.for_activities(ids)
    answers_of: dict[int, list[SurveyResponse]] = {}
    for response in responses:
        answers_of.setdefault(response.activity_id, []).append(response)
    lines = []
    for activity in activities:
        answers = answers_of.get(activity.id, [])
        hours = hours_each.get(activity.id, ZERO)
        ratings = _ratings(answers, SurveyKind.BENEFICIARY)
        lines.append(
            ActivityLine(
                activity_id=activity.id,
                title=activity.title,
                starts_at=activity.starts_at,
                timezone=activity.timezone,
                signups=sum(n for status, n in signups[activity.id].items() if status in SIGNED_UP),
                attended=signups[activity.id].get(SignupStatus.ATTENDED, 0),
                hours=hours,
                satisfaction=sum(ratings) / len(ratings) if ratings else None,
                responses=sum(1 for r in answers if r.kind is SurveyKind.BENEFICIARY),
                ended=activity.ends_at <= now,
            )
        )
    beneficiary = _ratings(responses, SurveyKind.BENEFICIARY)
    distribution = tuple(beneficiary.count(value) for value in range(RATING_MIN, RATING_MAX + 1))
    counts = ComplaintCounts(
        total=len(complaints),
        answered=sum(1 for c in complaints if not c.open),
        open=sum(1 for c in complaints if c.open),
        escalated=sum(1 for c in complaints if c.escalated_at is not None),
    )
    return Report(
        name=name,
        org_id=org_id,
        period=period,
        activity_id=activity_id,
        activities=tuple(lines),
        truncated=truncated,
        responses={kind: sum(1 for r in responses if r.kind is kind) for kind in SurveyKind},
        questions=_questions(responses),
        distribution=distribution,
        complaints=counts,
        comments=_comments(responses, complaints),
        monthly_hours=(),
        as_of=now,
    )


def _ratings(responses: Sequence[SurveyResponse], kind: SurveyKind) -> list[int]:
    return [value for r in responses if r.kind is kind for value in r.answers.values()]


def _questions(responses: Sequence[SurveyResponse]) -> tuple[QuestionLine, ...]:
    lines = []
    for kind in SurveyKind:
        for question in QUESTIONS[kind]:
            values = [r.answers[question] for r in responses if r.kind is kind and question in r.answers]
            if values:
                lines.append(QuestionLine(kind, question, len(values), sum(values) / len(values)))
    return tuple(lines)


def _comments(responses: Sequence[SurveyResponse], complaints: Sequence[Feedback]) -> tuple[str, ...]:
    """3-8.2: the newest opinions first, from the surveys' comments and the complaints' texts."""
    dated = [(r.created_at, r.comment) for r in responses if r.comment]
    dated += [(c.created_at, c.text) for c in complaints]
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return tuple(excerpt(text, 60) for _, text in dated[:COMMENTS])


def _by_month(
    lines: Sequence[ActivityLine], period: Period, timezone: str
) -> tuple[tuple[date, Decimal], ...]:
    """The confirmed hours of the activities that started in each month of the period, in the org's
    time zone: summed from the lines already read, where a statement per month took a tenth of a
    second each for a city's year (bench/scale.py)."""
    assert period.start is not None and period.end is not None
    totals = dict.fromkeys(_months(period.start, period.end), ZERO)
    zone = ZoneInfo(timezone)
    for line in lines:
        first = line.starts_at.astimezone(zone).date().replace(day=1)
        if first in totals:
            totals[first] += line.hours
    return tuple(totals.items())


def _months(start: date, end: date) -> list[date]:
    firsts: list[date] = []
    month = start.replace(day=1)
    while month <= end and len(firsts) < MAX_MONTHS:
        firsts.append(month)
        month = _next_month(month)
    return firsts


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def parse_range(text: str) -> Period:
    """A typed period: two dates, e.g. ``2026-01-01 至 2026-03-31`` (至, 到, ~ or "to" between them)."""
    match = re.fullmatch(
        r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*(?:至|到|~|～|—|–|to|-)\s*"
        r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*",
        text,
        flags=re.IGNORECASE,
    )
    if match is None:
        raise InvalidInput("statistics.range.invalid")
    numbers = [int(n) for n in match.groups()]
    try:
        start, end = date(*numbers[:3]), date(*numbers[3:])
    except ValueError as error:
        raise InvalidInput("statistics.range.no_such_date") from error
    if end < start:
        raise InvalidInput("statistics.range.end_before_start", start=start, end=end)
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise InvalidInput("statistics.range.too_long", months=MAX_MONTHS)
    return Period(start, end)
