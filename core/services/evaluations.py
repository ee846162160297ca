"""2-10.1: staff of the organizing org evaluate each attendee after the activity (attitude, behaviour,
effect, 1 to 5 each, a comment if they like), once per volunteer and activity: a second evaluation is a
correction, which replaces the first and leaves both in the audit trail (1-6.5). The volunteer sees their
evaluation together with their hours, how often they serve and the beneficiaries' satisfaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from core.domain.actions import MyEvaluations
from core.domain.activity import Activity, ActivityStatus
from core.domain.attendance import RecordStatus
from core.domain.evaluation import (
    ASPECTS,
    Evaluation,
    VolunteerEvaluation,
    averages,
    check_comment,
    check_scores,
)
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.domain.survey import SurveyKind
from core.errors import NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.notices import enqueue, local

_NOT_HELD = frozenset({ActivityStatus.DRAFT, ActivityStatus.CANCELLED})
_LIVE_RECORD = frozenset({RecordStatus.PENDING, RecordStatus.CONFIRMED})
LATEST = 3  # evaluations shown with their comments
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Attendee:
    volunteer_id: int
    name: str
    evaluation: Evaluation | None


async def evaluable_activity(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Activity:
    """The activity, once it was held and has ended, for staff of the org that organized it (an admin
    too): staff of the org above read its figures but do not evaluate (谁组织谁评价)."""
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    if activity.status in _NOT_HELD:
        raise NotEligible("evaluation.not_held", title=activity.title)
    if activity.ends_at > clock.now():
        raise NotEligible(
            "evaluation.not_ended", title=activity.title, end=local(activity.ends_at, activity.timezone)
        )
    return activity


async def attendees(uow: UnitOfWork, activity_id: int) -> list[Attendee]:
    """Who came: checked in (attended), or holding a service record of it (a make-up approved)."""
    ids: dict[int, None] = {}
    for signup in await uow.signups.for_activity(activity_id):
        if signup.status is SignupStatus.ATTENDED:
            ids.setdefault(signup.volunteer_id)
    for record in await uow.records.for_activity(activity_id):
        if record.status in _LIVE_RECORD:
            ids.setdefault(record.volunteer_id)
    done = {e.volunteer_id: e for e in await uow.evaluations.for_activity(activity_id)}
    found = []
    for volunteer_id in ids:
        volunteer = await uow.volunteers.read(volunteer_id)
        if volunteer is not None:
            found.append(Attendee(volunteer_id, volunteer.name, done.get(volunteer_id)))
    return found


async def evaluate(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    activity_id: int,
    volunteer_id: int,
    scores: dict[str, int],
    comment: str | None = None,
) -> tuple[Evaluation, bool]:
    """Writes the evaluation; returns it and whether it corrected an earlier one."""
    activity = await evaluable_activity(uow, clock, actor, activity_id)
    if volunteer_id not in {a.volunteer_id for a in await attendees(uow, activity_id)}:
        raise NotEligible("evaluation.not_attendee", title=activity.title)
    checked, text = check_scores(scores), check_comment(comment)
    now = clock.now()
    assert actor.user_id is not None
    existing = await uow.evaluations.of(activity_id, volunteer_id)
    if existing is not None:
        # 1-6.5: the correction keeps what it replaced, flat, in the audit entry.
        details: dict[str, Any] = {f"{key}_was": value for key, value in existing.scores().items()}
        details.update(comment_was=existing.comment, **checked, comment=text)
        for aspect, value in checked.items():
            setattr(existing, aspect, value)
        existing.comment, existing.evaluated_by, existing.evaluated_at = text, actor.user_id, now
        await audit(uow, clock, actor, "evaluation.correct", "evaluation", existing.id, **details)
        return existing, True
    evaluation = await uow.evaluations.add(
        Evaluation(
            activity_id=activity_id,
            volunteer_id=volunteer_id,
            evaluated_by=actor.user_id,
            evaluated_at=now,
            comment=text,
            **checked,
        )
    )
    added: dict[str, Any] = {**checked, "activity_id": activity_id, "volunteer_id": volunteer_id}
    await audit(uow, clock, actor, "evaluation.add", "evaluation", evaluation.id, **added)
    user_id = await uow.volunteers.user_id_of(volunteer_id)
    if user_id is not None:
        await enqueue(
            uow,
            clock,
            f"evaluated:{activity_id}:{volunteer_id}",
            user_id,
            "notice.evaluated",
            choices=[("evaluation.button.mine", MyEvaluations().pack())],
            title=activity.title,
        )
    return evaluation, False


async def my_evaluation(uow: UnitOfWork, clock: Clock, volunteer_id: int) -> VolunteerEvaluation:
    """2-10.1: hours, frequency, the staff's evaluations and the beneficiaries' satisfaction."""
    hours, _ = await uow.ratings.volunteer_service(volunteer_id)
    confirmed = [
        r for r in await uow.records.for_volunteer(volunteer_id) if r.status is RecordStatus.CONFIRMED
    ]
    since = clock.now() - YEAR
    evaluations = await uow.evaluations.for_volunteer(volunteer_id)
    ratings: list[int] = []
    for activity_id in sorted({r.activity_id for r in confirmed}):
        for response in await uow.surveys.for_activity(activity_id):
            if response.kind is SurveyKind.BENEFICIARY:
                ratings.extend(response.answers.values())
    return VolunteerEvaluation(
        hours=hours if isinstance(hours, Decimal) else Decimal(hours),
        sessions=len(confirmed),
        sessions_last_year=sum(1 for r in confirmed if r.started_at >= since),
        evaluations=len(evaluations),
        averages=averages(evaluations),
        satisfaction=sum(ratings) / len(ratings) if ratings else None,
        satisfaction_answers=len(ratings),
        latest=tuple(evaluations[:LATEST]),
    )


__all__ = ["ASPECTS", "Attendee", "attendees", "evaluable_activity", "evaluate", "my_evaluation"]
