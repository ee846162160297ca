"""Star ratings (4-6.2.1, 4-6.3.1): read only, over records, activities, surveys and projects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, func, select, type_coerce

from core.domain.activity import ActivityStatus
from core.domain.attendance import RecordStatus
from core.domain.survey import SurveyKind
from storage.statements import Statements
from storage.tables import activities, projects, service_records, survey_responses


def _service_hours(r: Any) -> Any:
    """Confirmed service hours in tenths, trainings excluded (their hours are training, 2-7.4)."""
    return func.coalesce(func.sum(type_coerce(r.credited_hours, Integer)), 0)


def _tenths(value: Any) -> Decimal:
    return (Decimal(int(value or 0)) / 10).quantize(Decimal("0.1"))


class RatingQueries:
    def __init__(self, session: Statements) -> None:
        self.session = session

    def _confirmed_service(self) -> Any:
        r, a = service_records.c, activities.c
        return (
            select()
            .select_from(service_records.join(activities, a.id == r.activity_id))
            .where(r.status == RecordStatus.CONFIRMED, a.training_kind.is_(None))
        )

    async def volunteer_service(self, volunteer_id: int) -> tuple[Decimal, datetime | None]:
        """Confirmed service hours, and when the last confirmed service started."""
        r = service_records.c
        statement = self._confirmed_service().add_columns(_service_hours(r), func.max(r.started_at))
        tenths, last = (await self.session.execute(statement.where(r.volunteer_id == volunteer_id))).one()
        return _tenths(tenths), last

    async def last_served_between(
        self, since: datetime, until: datetime, limit: int
    ) -> list[tuple[int, Decimal, datetime]]:
        """(volunteer, confirmed service hours, last service) for those whose last confirmed service
        started in [since, until)."""
        r = service_records.c
        last = func.max(r.started_at)
        statement = (
            self._confirmed_service()
            .add_columns(r.volunteer_id, _service_hours(r), last)
            .group_by(r.volunteer_id)
            .having(last >= since, last < until)
            .order_by(r.volunteer_id)
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [(int(v), _tenths(t), at) for v, t, at in rows]

    async def org_hours(self, org_ids: Sequence[int], since: datetime, until: datetime) -> Decimal:
        r = service_records.c
        statement = self._confirmed_service().add_columns(_service_hours(r))
        statement = statement.where(r.org_id.in_(list(org_ids)), r.started_at >= since, r.started_at < until)
        return _tenths(await self.session.scalar(statement))

    def _held(self, org_ids: Sequence[int], since: datetime, until: datetime) -> Any:
        a = activities.c
        return (
            a.org_id.in_(list(org_ids)),
            a.status.not_in([ActivityStatus.DRAFT, ActivityStatus.CANCELLED]),
            a.training_kind.is_(None),
            a.ends_at >= since,
            a.ends_at < until,
        )

    async def activities_held(self, org_ids: Sequence[int], since: datetime, until: datetime) -> int:
        statement = select(func.count()).select_from(activities).where(*self._held(org_ids, since, until))
        return int(await self.session.scalar(statement) or 0)

    async def beneficiary_answers(
        self, org_ids: Sequence[int], since: datetime, until: datetime
    ) -> list[dict[str, int]]:
        s, a = survey_responses.c, activities.c
        statement = (
            select(s.answers)
            .select_from(survey_responses.join(activities, a.id == s.activity_id))
            .where(s.kind == SurveyKind.BENEFICIARY, *self._held(org_ids, since, until))
        )
        return [dict(row) for row in (await self.session.scalars(statement)).all()]

    async def brands(self, org_ids: Sequence[int], since: datetime, until: datetime, least: int) -> int:
        """Projects with a brand that held at least ``least`` activities in the period (3-9)."""
        p, a = projects.c, activities.c
        held = (
            select(p.id)
            .select_from(projects.join(activities, a.project_id == p.id))
            .where(p.brand != "", *self._held(org_ids, since, until))
            .group_by(p.id)
            .having(func.count(a.id) >= least)
        )
        return int(await self.session.scalar(select(func.count()).select_from(held.subquery())) or 0)
