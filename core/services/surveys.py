"""Satisfaction surveys (3-8.1.2) and their statistics (3-8.2). Beneficiaries answer without
registering; volunteers answer for an activity they took part in. One answer per person, activity
and kind; for high-privacy services (3-7.3) the answer is stored without who gave it."""

from __future__ import annotations

from datetime import datetime, time

from core.domain.activity import Activity, ActivityStatus
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.domain.survey import (
    SurveyKind,
    SurveyResponse,
    SurveyStats,
    check_answers,
    check_comment,
    summarise,
)
from core.errors import Conflict, NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import require_staff

# Volunteers who were given a place or came (3-8.1.2.2).
TOOK_PART = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED})
_CLOSED = frozenset({ActivityStatus.DRAFT, ActivityStatus.CANCELLED})


async def survey_activity(
    uow: UnitOfWork, clock: Clock, actor: Actor, user_id: int, activity_id: int, kind: SurveyKind
) -> Activity:
    """The activity, once this user may answer its survey of this kind; refuses with the reason."""
    activity = await uow.activities.get(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    if activity.status in _CLOSED:
        raise NotEligible("survey.not_open", title=activity.title)
    if clock.now() < activity.starts_at:
        raise NotEligible("survey.not_started", title=activity.title)
    if kind is SurveyKind.VOLUNTEER and not await took_part(uow, actor, activity_id):
        raise NotEligible("survey.not_participant", title=activity.title)
    if await uow.surveys.answered(activity_id, kind, user_id):
        raise Conflict("survey.already_answered", title=activity.title)
    return activity


async def took_part(uow: UnitOfWork, actor: Actor, activity_id: int) -> bool:
    if actor.volunteer_id is None:
        return False
    signups = await uow.signups.for_volunteer(actor.volunteer_id)
    return any(s.activity_id == activity_id and s.status in TOOK_PART for s in signups)


async def submit_survey(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    user_id: int,
    activity_id: int,
    kind: SurveyKind,
    answers: dict[str, int],
    comment: str | None = None,
) -> SurveyResponse:
    activity = await survey_activity(uow, clock, actor, user_id, activity_id, kind)
    checked, text = check_answers(kind, answers), check_comment(comment)
    if not await uow.surveys.first_answer(activity_id, kind, user_id):
        raise Conflict("survey.already_answered", title=activity.title)
    now = clock.now()
    private = activity.high_privacy
    response = SurveyResponse(
        activity_id=activity_id,
        kind=kind,
        answers=checked,
        # 3-7.3: no author, and only the day, so the answer cannot be matched to a person.
        created_at=datetime.combine(now.date(), time(), now.tzinfo) if private else now,
        user_id=None if private else user_id,
        comment=text,
    )
    return await uow.surveys.add(response)


async def survey_activity_for_staff(uow: UnitOfWork, actor: Actor, activity_id: int) -> Activity:
    """The activity whose beneficiaries' survey its staff pass on (3-8.1.2.1)."""
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id, write=False)
    if activity.status in _CLOSED - {ActivityStatus.DRAFT}:
        raise NotEligible("survey.not_open", title=activity.title)
    return activity


async def survey_stats(uow: UnitOfWork, actor: Actor, activity_id: int) -> tuple[Activity, list[SurveyStats]]:
    """3-8.2, for the activity's org staff (and those of the orgs above it, who read only)."""
    activity = await uow.activities.get(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id, write=False)
    responses = await uow.surveys.for_activity(activity_id)
    return activity, [summarise(kind, responses) for kind in SurveyKind]
