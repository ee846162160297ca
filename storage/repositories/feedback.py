"""What people say back: complaints and suggestions, evaluations of volunteers, survey answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from core.domain.dialog import Feedback
from core.domain.evaluation import Evaluation
from core.domain.survey import SurveyKind, SurveyResponse
from core.errors import RaceLost
from storage.repositories.base import _chunks, _Repository
from storage.tables import feedback, survey_respondents, survey_responses, volunteer_evaluations


class FeedbackRepository(_Repository[Feedback]):
    model = Feedback

    async def open_for_orgs(self, org_ids: list[int] | None, limit: int) -> list[Feedback]:
        f = feedback.c
        statement = select(Feedback).where(f.replied_at.is_(None))
        if org_ids is not None:
            statement = statement.where(or_(f.org_id.in_(org_ids), f.escalated_org_id.in_(org_ids)))
        return await self._all(statement.order_by(f.id).limit(limit))

    async def overdue_complaints(self, filed_before: datetime, limit: int) -> list[Feedback]:
        f = feedback.c
        statement = (
            select(Feedback)
            .where(
                f.kind == "complaint",
                f.org_id.is_not(None),
                f.replied_at.is_(None),
                f.escalated_at.is_(None),
                f.created_at < filed_before,
            )
            .order_by(f.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._all(statement)

    async def complaints(
        self,
        org_ids: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        activity_id: int | None = None,
    ) -> list[Feedback]:
        f = feedback.c
        statement = select(Feedback).where(f.kind == "complaint")
        if activity_id is not None:
            statement = statement.where(f.activity_id == activity_id)
        else:
            statement = statement.where(f.org_id.in_(list(org_ids)))
        if since is not None:
            statement = statement.where(f.created_at >= since)
        if until is not None:
            statement = statement.where(f.created_at < until)
        return await self._all(statement.order_by(f.id))

    async def for_user(self, user_id: int) -> list[Feedback]:
        f = feedback.c
        return await self._all(select(Feedback).where(f.user_id == user_id).order_by(f.id))


class EvaluationRepository(_Repository[Evaluation]):
    model = Evaluation

    async def add(self, item: Evaluation) -> Evaluation:
        """One evaluation per attendee and activity: two staff evaluating the same attendee for the
        first time at once (PostgreSQL, side by side) both try to add it, and the later one loses the
        race; its turn runs again, and finds the first to correct (2-10.1, 1-6.5)."""
        try:
            return await super().add(item)
        except IntegrityError as error:
            raise RaceLost(
                f"the evaluation of {item.volunteer_id} at {item.activity_id} was added already"
            ) from error

    async def of(self, activity_id: int, volunteer_id: int) -> Evaluation | None:
        e = volunteer_evaluations.c
        statement = select(Evaluation).where(e.activity_id == activity_id, e.volunteer_id == volunteer_id)
        return await self._one(statement.with_for_update())

    async def for_activity(self, activity_id: int) -> list[Evaluation]:
        e = volunteer_evaluations.c
        return await self._all(select(Evaluation).where(e.activity_id == activity_id).order_by(e.id))

    async def for_volunteer(self, volunteer_id: int) -> list[Evaluation]:
        e = volunteer_evaluations.c
        statement = select(Evaluation).where(e.volunteer_id == volunteer_id)
        return await self._all(statement.order_by(e.evaluated_at.desc(), e.id.desc()))


class SurveyRepository(_Repository[SurveyResponse]):
    model = SurveyResponse

    async def for_activity(self, activity_id: int) -> list[SurveyResponse]:
        r = survey_responses.c
        return await self._all(select(SurveyResponse).where(r.activity_id == activity_id).order_by(r.id))

    async def for_activities(self, activity_ids: Sequence[int]) -> list[SurveyResponse]:
        r = survey_responses.c
        found: list[SurveyResponse] = []
        for chunk in _chunks(activity_ids):
            found += await self._all(select(SurveyResponse).where(r.activity_id.in_(chunk)).order_by(r.id))
        return found

    async def answered(self, activity_id: int, kind: SurveyKind, user_id: int) -> bool:
        r = survey_respondents.c
        statement = select(r.user_id).where(
            r.activity_id == activity_id, r.kind == kind.value, r.user_id == user_id
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def first_answer(self, activity_id: int, kind: SurveyKind, user_id: int) -> bool:
        """Records that the user answered; False when they had already (one statement, race-free)."""
        dialect = self.session.dialect_name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(survey_respondents)
            .values(activity_id=activity_id, kind=kind.value, user_id=user_id)
            .on_conflict_do_nothing()
        )
        result = cast(CursorResult[Any], await self.session.execute(statement))  # an INSERT's
        return bool(result.rowcount)
