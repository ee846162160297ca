"""Activities, the sign-ups for them and the needs (需求) they answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, func, or_, select

from core.domain.activity import Activity, ActivityMode, ActivityStatus
from core.domain.need import Need, NeedStatus
from core.domain.signup import LIVE, Signup, SignupStatus
from core.ports import ActivityBrief, ActivityQuery, SignupRef
from storage.prepared import Prepared
from storage.repositories.base import _Repository
from storage.tables import activities, needs, signups


def _filtered(statement: Any, query: ActivityQuery) -> Any:
    """``statement`` narrowed to the activities ``query`` asks for, earliest first. The values are
    parameters (see ``_search_values``): one statement serves every query of the same shape."""
    a = activities.c
    statement = statement.where(a.status.in_(bindparam("statuses", expanding=True)))
    if query.org_ids is not None:
        statement = statement.where(a.org_id.in_(bindparam("org_ids", expanding=True)))
    if query.service_content:
        statement = statement.where(a.service_content == bindparam("service_content"))
    if query.starts_after:
        statement = statement.where(a.starts_at >= bindparam("starts_after"))
    if query.starts_before:
        statement = statement.where(a.starts_at < bindparam("starts_before"))
    if query.online_only:
        statement = statement.where(a.mode != ActivityMode.OFFLINE)
    if not query.trainings:
        statement = statement.where(a.training_kind.is_(None))
    if query.within is not None:
        statement = statement.where(
            a.latitude.between(bindparam("south"), bindparam("north")),
            a.longitude.between(bindparam("west"), bindparam("east")),
        )
    return (
        statement.order_by(a.starts_at, a.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def _search_values(query: ActivityQuery) -> dict[str, Any]:
    values: dict[str, Any] = {
        "statuses": sorted(query.statuses),
        "limit": query.limit,
        "offset": query.offset,
    }
    if query.org_ids is not None:
        values["org_ids"] = list(query.org_ids)
    if query.service_content:
        values["service_content"] = query.service_content
    if query.starts_after:
        values["starts_after"] = query.starts_after
    if query.starts_before:
        values["starts_before"] = query.starts_before
    if query.within is not None:
        values.update(zip(("south", "north", "west", "east"), query.within, strict=True))
    return values


def _shape(query: ActivityQuery) -> tuple[bool, ...]:
    return (
        query.org_ids is not None,
        bool(query.service_content),
        bool(query.starts_after),
        bool(query.starts_before),
        query.online_only,
        query.trainings,
        query.within is not None,
    )


_BRIEFS: dict[tuple[bool, ...], Prepared] = {}


class ActivityRepository(_Repository[Activity]):
    model = Activity

    async def search(self, query: ActivityQuery) -> list[Activity]:
        return list(
            (await self.session.scalars(_filtered(select(Activity), query), _search_values(query))).all()
        )

    async def search_brief(self, query: ActivityQuery) -> list[ActivityBrief]:
        shape = _shape(query)
        prepared = _BRIEFS.get(shape)
        if prepared is None:
            a = activities.c
            columns = (a.id, a.title, a.starts_at, a.timezone, a.capacity, a.latitude, a.longitude, a.ends_at)
            prepared = _BRIEFS[shape] = Prepared(_filtered(select(*columns), query))
        return [ActivityBrief(*row) for row in await prepared.all(self.session, _search_values(query))]

    async def starting_between(
        self, since: datetime, until: datetime, statuses: frozenset[ActivityStatus]
    ) -> list[Activity]:
        a = activities.c
        return await self._all(
            select(Activity)
            .where(a.starts_at > since, a.starts_at <= until, a.status.in_(list(statuses)))
            .order_by(a.starts_at, a.id)
        )

    async def ending_between(
        self, since: datetime, until: datetime, statuses: frozenset[ActivityStatus]
    ) -> list[Activity]:
        a = activities.c
        return await self._all(
            select(Activity)
            .where(a.ends_at > since, a.ends_at <= until, a.status.in_(list(statuses)))
            .order_by(a.ends_at, a.id)
        )

    async def count_in_orgs(self, org_ids: list[int]) -> int:
        """Activities that were or are on offer: drafts and cancelled ones are not counted."""
        a = activities.c
        statement = (
            select(func.count())
            .select_from(activities)
            .where(a.org_id.in_(org_ids), a.status.not_in([ActivityStatus.DRAFT, ActivityStatus.CANCELLED]))
        )
        return int(await self.session.scalar(statement) or 0)


# Places left are counted for every activity a list or a card shows: built once.
_COUNT_SIGNUPS = Prepared(
    select(func.count())
    .select_from(signups)
    .where(
        signups.c.activity_id == bindparam("activity_id"),
        signups.c.status.in_(bindparam("statuses", expanding=True)),
    )
)


_COUNT_EACH = Prepared(
    select(signups.c.activity_id, func.count())
    .where(
        signups.c.activity_id.in_(bindparam("activity_ids", expanding=True)),
        signups.c.status.in_(bindparam("statuses", expanding=True)),
    )
    .group_by(signups.c.activity_id)
)

_LIVE_SIGNUP = Prepared(
    select(signups.c.id, signups.c.status)
    .where(
        signups.c.activity_id == bindparam("activity_id"),
        signups.c.volunteer_id == bindparam("volunteer_id"),
        signups.c.status.in_(sorted(LIVE)),
    )
    .limit(1)
)


class SignupRepository(_Repository[Signup]):
    model = Signup

    async def live(self, activity_id: int, volunteer_id: int) -> SignupRef | None:
        row = await _LIVE_SIGNUP.first(
            self.session, {"activity_id": activity_id, "volunteer_id": volunteer_id}
        )
        return None if row is None else SignupRef(*row)

    async def count(self, activity_id: int, statuses: frozenset[SignupStatus]) -> int:
        row = await _COUNT_SIGNUPS.first(
            self.session, {"activity_id": activity_id, "statuses": sorted(statuses)}
        )
        return int(row[0]) if row else 0

    async def count_each(
        self, activity_ids: Sequence[int], statuses: frozenset[SignupStatus]
    ) -> dict[int, int]:
        counts = dict.fromkeys(activity_ids, 0)
        if counts:
            params = {"activity_ids": list(counts), "statuses": sorted(statuses)}
            for activity_id, taken in await _COUNT_EACH.all(self.session, params):
                counts[activity_id] = int(taken)
        return counts

    async def count_by_status(self, activity_ids: Sequence[int]) -> dict[int, dict[SignupStatus, int]]:
        counts: dict[int, dict[SignupStatus, int]] = {activity_id: {} for activity_id in activity_ids}
        if counts:
            s = signups.c
            statement = (
                select(s.activity_id, s.status, func.count())
                .where(s.activity_id.in_(list(counts)))
                .group_by(s.activity_id, s.status)
            )
            for activity_id, status, taken in await self.session.execute(statement):
                counts[activity_id][SignupStatus(status)] = int(taken)
        return counts

    async def first_waitlisted(self, activity_id: int) -> Signup | None:
        s = signups.c
        return await self._one(
            select(Signup)
            .where(s.activity_id == activity_id, s.status == SignupStatus.WAITLISTED)
            .order_by(s.waitlisted_at, s.id)
        )

    async def for_activity(self, activity_id: int) -> list[Signup]:
        s = signups.c
        return await self._all(select(Signup).where(s.activity_id == activity_id).order_by(s.id))

    async def answer_overdue(self, now: datetime, limit: int) -> list[Signup]:
        """Confirmed sign-ups whose deadline to answer the briefing has passed with no answer."""
        c = signups.c
        return await self._all(
            select(Signup)
            .where(
                c.answer_due_at <= now,
                c.presence_confirmed_at.is_(None),
                c.status == SignupStatus.CONFIRMED,
            )
            .order_by(c.answer_due_at, c.id)
            .limit(limit)
        )

    async def for_volunteer(self, volunteer_id: int) -> list[Signup]:
        s = signups.c
        return await self._all(select(Signup).where(s.volunteer_id == volunteer_id).order_by(s.id))


class NeedRepository(_Repository[Need]):
    model = Need

    async def open_for_orgs(self, org_ids: list[int] | None, limit: int) -> list[Need]:
        """Needs staff of these orgs act on (all orgs when None): waiting for review or to be taken,
        addressed to one of them or to no org; and those they took and have not closed."""
        n = needs.c
        waiting: ColumnElement[bool] = n.status.in_([NeedStatus.SUBMITTED, NeedStatus.APPROVED])
        taken: ColumnElement[bool] = n.status == NeedStatus.TAKEN
        if org_ids is not None:
            waiting = waiting & or_(n.org_id.in_(org_ids), n.org_id.is_(None))
            taken = taken & n.taken_by_org.in_(org_ids)
        return await self._all(select(Need).where(or_(waiting, taken)).order_by(n.id).limit(limit))

    async def for_user(self, user_id: int) -> list[Need]:
        return await self._all(select(Need).where(needs.c.user_id == user_id).order_by(needs.c.id))
