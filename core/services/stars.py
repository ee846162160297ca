"""Star ratings in use (4-6.2.1, 4-6.3.1): a volunteer's standing, the nightly review that tells
volunteers of a star about to lapse or lapsed, and an org's rating with the figures behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain.actions import MyHours
from core.domain.organization import Organization
from core.domain.people import Actor
from core.domain.stars import (
    BRAND_ACTIVITIES,
    ORG_RATING_YEAR,
    OrgFigures,
    OrgRating,
    StarStanding,
    org_rating,
    star_standing,
)
from core.errors import NotFound
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import require_staff
from core.services.notices import enqueue

LAPSE_WARNING = timedelta(days=30)  # volunteers hear this long before a star lapses
CATCH_UP = timedelta(days=8)  # a review missed for up to a week still tells everyone once
REVIEW_BATCH = 5000


def _day(at: datetime | None, policy: Policy) -> date | None:
    return None if at is None else at.astimezone(ZoneInfo(policy.default_timezone)).date()


def _today(clock: Clock, policy: Policy) -> date:
    return clock.now().astimezone(ZoneInfo(policy.default_timezone)).date()


async def volunteer_standing(
    uow: UnitOfWork, policy: Policy, volunteer_id: int
) -> tuple[Decimal, StarStanding]:
    """Confirmed service hours and the stars they earn, with how long those stars hold."""
    hours, last = await uow.ratings.volunteer_service(volunteer_id)
    return hours, star_standing(hours, _day(last, policy), policy.star_thresholds, policy.star_validity_days)


async def review_stars(uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """The nightly review (4-6.2.1): a volunteer whose star lapses within LAPSE_WARNING hears it once,
    and once more when it has lapsed. Each notice's key holds the day of the last service, so serving
    again (a new last day) makes a later lapse a new event, and a rerun tells no one twice."""
    now, today = clock.now(), _today(clock, policy)
    validity = timedelta(days=policy.star_validity_days)
    told = 0
    windows = (
        ("lapsed", now - validity - CATCH_UP, now - validity + timedelta(days=1)),
        (
            "lapsing",
            now - validity + LAPSE_WARNING - CATCH_UP,
            now - validity + LAPSE_WARNING + timedelta(days=1),
        ),
    )
    for event, since, until in windows:
        for volunteer_id, hours, last in await uow.ratings.last_served_between(since, until, REVIEW_BATCH):
            last_day = _day(last, policy)
            standing = star_standing(hours, last_day, policy.star_thresholds, policy.star_validity_days)
            if standing.valid_until is None:
                continue
            if event == "lapsed" and not standing.lapsed(today):
                continue
            if event == "lapsing" and not (
                standing.in_force(today) and standing.valid_until - today <= LAPSE_WARNING
            ):
                continue
            user_id = await uow.volunteers.user_id_of(volunteer_id)
            if user_id is None:
                continue
            told += await enqueue(
                uow,
                clock,
                f"star.{event}:{volunteer_id}:{last_day}",
                user_id,
                "notice.star_lapsed" if event == "lapsed" else "notice.star_lapsing",
                choices=[("chat.button.hours", MyHours().pack())],
                stars="★" * standing.level,
                until=standing.valid_until.isoformat(),
                hours=str(hours),
            )
    return told


@dataclass(frozen=True)
class OrgStanding:
    org: Organization
    figures: OrgFigures
    rating: OrgRating
    since: datetime
    until: datetime


async def rate_org(uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int) -> OrgStanding:
    """4-6.3.1: the org with the teams below it, over the last twelve months; staff of the org and of
    its parents may look (read only)."""
    await require_staff(uow, actor, org_id, write=False)
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    scope = [org_id, *await uow.orgs.descendant_ids(org_id)]
    until = clock.now()
    since = until - ORG_RATING_YEAR
    answers = await uow.ratings.beneficiary_answers(scope, since, until)
    values = [value for answer in answers for value in answer.values()]
    satisfaction = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01")) if values else None
    figures = OrgFigures(
        volunteers=await uow.volunteers.count_in_orgs(scope),
        hours=await uow.ratings.org_hours(scope, since, until),
        activities=await uow.ratings.activities_held(scope, since, until),
        satisfaction=satisfaction,
        answers=len(answers),
        brands=await uow.ratings.brands(scope, since, until, BRAND_ACTIVITIES),
    )
    return OrgStanding(org, figures, org_rating(figures), since, until)
