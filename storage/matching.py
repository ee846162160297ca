"""core.ports.MatchingQueries: the volunteers worth scoring for a need or an activity, read in a few
statements whatever their number. The database keeps only those who could be matched at all (active
members of the orgs, a professional field or service area in common, every required qualification,
not signed up already, not declined); their records are summed there too (core.domain.matching
scores them). On PostgreSQL the JSON overlaps use JSONB operators, which a GIN index can serve
(migration 0016).

Rankings (``shortlist``) let the database order the candidates by what their own row and kept
check-in points say (fields, service area, place: the score without the record) and read in full only
the best few hundred, plus every one whose sign-ups clash (the ranking lists them as excluded).
Those with both the service area and a field come first, and alone when they are enough: at 100,000
volunteers the GIN indexes find them in milliseconds where ordering every candidate takes a tenth of
a second (bench/matching.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, array

from core.domain.activity import EARTH_RADIUS_M
from core.domain.matching import (
    DECLINED,
    INVITED,
    NEAR_M,
    RECENT,
    W_AREA,
    W_NEAR,
    W_ONLINE,
    W_REGION,
    W_SKILL,
    Candidate,
    Record,
    Target,
    decay_buckets,
    oldest_weight,
    outside_core_ceiling,
    place_parts,
)
from core.domain.signup import LIVE, SignupStatus
from core.domain.volunteer import MembershipStatus, VolunteerStatus
from storage.statements import Statements
from storage.tables import (
    activities,
    attendances,
    audit_log,
    channel_identities,
    memberships,
    signups,
    users,
    volunteers,
)


def _contains(column: Any, code: str, dialect: str) -> Any:
    """The JSON list holds this code."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).has_key(code)
    return type_coerce(column, String).like(f'%"{code}"%')  # codes are [a-z0-9_]: nothing to escape


def _any(column: Any, codes: Sequence[str], dialect: str) -> Any:
    if not codes:
        return false()
    if dialect == "postgresql":
        return type_coerce(column, JSONB).has_any(array(list(codes)))
    return or_(*(_contains(column, c, dialect) for c in codes))


def _all(column: Any, codes: Sequence[str], dialect: str) -> Any:
    if dialect == "postgresql":
        return type_coerce(column, JSONB).has_all(array(list(codes)))
    return and_(*(_contains(column, c, dialect) for c in codes))


def _one(condition: Any) -> Any:
    return case((condition, 1), else_=0)


METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
# Distance steps (metres) for the order before scoring: a check-in point between two steps counts as
# near as the nearer step, so the order never ranks one below what its exact score would.
NEAR_STEPS = (500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000)


def _squared_distance(lat: Any, lon: Any, target: Target) -> Any:
    """Metres squared on a flat earth around the target: plain arithmetic both databases do alike
    (SQLite may lack math functions)."""
    assert target.latitude is not None and target.longitude is not None
    shrink = math.cos(math.radians(target.latitude))
    dy = (lat - target.latitude) * METRES_PER_DEGREE
    dx = (lon - target.longitude) * (METRES_PER_DEGREE * shrink)
    return dy * dy + dx * dx


def _nearness(squared: Any) -> Any:
    """W_NEAR * exp(-d / NEAR_M), the distance rounded down to a step."""
    nearer = 0.0
    whens = []
    for step in NEAR_STEPS:
        whens.append((squared < float(step) ** 2, literal(W_NEAR * math.exp(-nearer / NEAR_M), Float)))
        nearer = step
    return case(*whens, else_=literal(W_NEAR * math.exp(-nearer / NEAR_M), Float))


class MatchingQueries:
    def __init__(self, session: Statements) -> None:
        self.session = session

    async def candidates(
        self, org_ids: Sequence[int], target: Target, now: datetime, activity_id: int | None = None
    ) -> list[Candidate]:
        """All of them, each read in full (the port's contract; rankings use ``shortlist``)."""
        invited, declined = await self._answers(activity_id)
        conditions = self._conditions(org_ids, target, activity_id, declined)
        chosen = select(volunteers.c.id).where(*conditions)
        return await self._read(chosen, now, invited, (await self._live(org_ids, target, activity_id))[1])

    async def shortlist(
        self,
        org_ids: Sequence[int],
        target: Target,
        now: datetime,
        activity_id: int | None = None,
        *,
        size: int,
        invitable: bool = False,
    ) -> list[Candidate]:
        """The ``size`` best by the score without the record (ties: the lower id) and every one whose
        sign-ups clash, read in full; with ``invitable``, only those who may be invited now.

        Those with both the service area and a field (the core) are ordered first: the indexes find
        them without reading the rest. When their best ``size`` reach what anyone outside the core
        could (core.domain.matching.outside_core_ceiling) they are the shortlist; otherwise every
        candidate is ordered."""
        invited, declined = await self._answers(activity_id)
        signed, busy = await self._live(org_ids, target, activity_id)
        conditions = self._conditions(org_ids, target, None, declined)
        if invitable:
            conditions += self._invitable(invited)
        clashing: list[int] = []
        if busy:
            # the ranking lists those who clash as excluded: all of them are read, whatever their order
            found = select(volunteers.c.id).where(*conditions, self._among(volunteers.c.id, sorted(busy)))
            clashing = list((await self.session.scalars(found)).all())
        left_out = sorted(signed | busy.keys())
        if left_out:
            conditions.append(~self._among(volunteers.c.id, left_out))
        best: list[tuple[int, float]] = []
        if await self._more_members_than(org_ids, size):  # else every one of them is ordered at once
            best = await self._best([*conditions, self._core(target)], target, now, size, few=True)
        if len(best) < size or best[-1][1] < outside_core_ceiling(target):
            best = await self._best(conditions, target, now, size, few=False)
        chosen = [*clashing, *(vid for vid, _ in best)]
        return await self._read(chosen, now, invited, busy) if chosen else []

    async def candidate(
        self,
        org_ids: Sequence[int],
        target: Target,
        now: datetime,
        activity_id: int | None,
        volunteer_id: int,
    ) -> Candidate | None:
        """One volunteer, read in full, if a candidate at all."""
        invited, declined = await self._answers(activity_id)
        conditions = self._conditions(org_ids, target, activity_id, declined)
        chosen = select(volunteers.c.id).where(volunteers.c.id == volunteer_id, *conditions)
        found = await self._read(chosen, now, invited, (await self._live(org_ids, target, activity_id))[1])
        return found[0] if found else None

    def _dialect(self) -> str:
        return self.session.dialect_name

    def _conditions(
        self, org_ids: Sequence[int], target: Target, activity_id: int | None, declined: set[int]
    ) -> list[Any]:
        dialect = self._dialect()
        v, m, s = volunteers.c, memberships.c, signups.c
        member = exists().where(
            m.volunteer_id == v.id, m.org_id.in_(list(org_ids)), m.status == MembershipStatus.ACTIVE
        )
        conditions = [
            v.status == VolunteerStatus.ACTIVE,
            member,
            or_(
                _contains(v.service_areas, target.service_content, dialect),
                _any(v.skills, sorted(target.skills), dialect),
            ),
        ]
        if target.qualifications:
            conditions.append(_all(v.qualifications, sorted(target.qualifications), dialect))
        if activity_id is not None:
            conditions.append(
                ~exists().where(
                    s.volunteer_id == v.id, s.activity_id == activity_id, s.status.in_(sorted(LIVE))
                )
            )
        if declined:
            conditions.append(v.user_id.not_in(sorted(declined)))
        return conditions

    async def _more_members_than(self, org_ids: Sequence[int], count: int) -> bool:
        """Whether the orgs have more than ``count`` active members, counted no further than that: a
        team's few are ordered in one statement, a brigade's many by the core first."""
        m = memberships.c
        some = (
            select(m.id)
            .where(m.org_id.in_(list(org_ids)), m.status == MembershipStatus.ACTIVE)
            .limit(count + 1)
            .subquery()
        )
        return int(await self.session.scalar(select(func.count()).select_from(some)) or 0) > count

    def _invitable(self, invited: set[int]) -> list[Any]:
        v = volunteers.c
        recruitment_off = select(users.c.id).where(users.c.recruitment_off == true())
        conditions = [v.user_id.not_in(recruitment_off), v.user_id.not_in(self._unreachable_users())]
        if invited:
            conditions.append(v.user_id.not_in(sorted(invited)))
        return conditions

    def _core(self, target: Target) -> Any:
        dialect = self._dialect()
        v = volunteers.c
        return and_(
            _contains(v.service_areas, target.service_content, dialect),
            _any(v.skills, sorted(target.skills), dialect),
        )

    async def _best(
        self, conditions: list[Any], target: Target, now: datetime, size: int, *, few: bool
    ) -> list[tuple[int, float]]:
        """Ids and scores without the record of the ``size`` best (ties: the lower id). ``few``: the
        conditions keep few rows, so each looks up its own check-in points; otherwise all kept points
        are grouped once and joined."""
        v = volunteers.c
        located = not target.online and target.latitude is not None and target.longitude is not None
        if located and few:
            t = attendances.c
            nearest = (
                select(func.min(_squared_distance(t.checkin_latitude, t.checkin_longitude, target)))
                .where(t.volunteer_id == v.id, *self._kept(now))
                .scalar_subquery()
            )
            # OFFSET 0 keeps the subquery whole, so the look-up runs once per row, not once per step
            core = (
                select(v.id, v.skills, v.service_areas, v.region, nearest.label("d2"))
                .where(*conditions)
                .offset(0)
                .subquery("core")
            )
            prior = self._prior(core.c, core.c.d2, target)
            statement = select(core.c.id, prior).order_by(prior.desc(), core.c.id)
        elif located:
            t = attendances.c
            near = (
                select(
                    t.volunteer_id,
                    func.min(_squared_distance(t.checkin_latitude, t.checkin_longitude, target)).label("d2"),
                )
                .where(*self._kept(now))
                .group_by(t.volunteer_id)
                .subquery("near")
            )
            prior = self._prior(v, near.c.d2, target)
            statement = (
                select(v.id, prior)
                .outerjoin(near, near.c.volunteer_id == v.id)
                .where(*conditions)
                .order_by(prior.desc(), v.id)
            )
        else:
            prior = self._prior(v, None, target)
            statement = select(v.id, prior).where(*conditions).order_by(prior.desc(), v.id)
        statement = statement.limit(size)
        rows = (await self.session.execute(statement)).all() if few else await self._serially(statement)
        return [(int(vid), float(score)) for vid, score in rows]

    def _kept(self, now: datetime) -> list[Any]:
        """Check-in points still kept (PIPL art. 28: purged after retention)."""
        t = attendances.c
        return [
            t.checkin_latitude.is_not(None),
            t.checkin_longitude.is_not(None),
            or_(t.coordinates_until.is_(None), t.coordinates_until > now),
        ]

    def _prior(self, columns: Any, d2: Any, target: Target) -> Any:
        """core.domain.matching.score without the record, from the volunteer's row and the squared
        distance to the nearest kept check-in point (``d2``); never below the exact part it stands
        for (a region the place may name counts)."""
        dialect = self._dialect()
        skills = [_one(_contains(columns.skills, code, dialect)) for code in sorted(target.skills)]
        matched: Any = sum(skills[1:], skills[0]) if skills else literal(0)
        prior: Any = W_SKILL * case((matched >= 2, 2), else_=matched) + W_AREA * _one(
            _contains(columns.service_areas, target.service_content, dialect)
        )
        if target.online:
            return prior + literal(W_ONLINE, Float)
        place = "".join(target.place.split())
        region: Any = false()
        if place:
            named = [
                literal(place).contains(columns.region),
                columns.region.contains(place, autoescape=True),
                *(columns.region.contains(part, autoescape=True) for part in place_parts(place)),
            ]
            region = and_(columns.region != "", or_(*named))
        if d2 is None:
            return prior + W_REGION * _one(region)
        place_score = case((d2.is_not(None), _nearness(d2)), (region, literal(W_REGION, Float)), else_=0.0)
        return prior + place_score

    async def _serially(self, statement: Any) -> list[Any]:
        """On PostgreSQL without parallel workers: the plan sorts a few thousand rows, and on a small
        shared machine starting workers doubled its time (measured, bench/matching.py)."""
        if self._dialect() != "postgresql":
            return list((await self.session.execute(statement)).all())
        await self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        try:
            return list((await self.session.execute(statement)).all())
        finally:
            await self.session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))

    def _among(self, column: Any, ids: Any) -> Any:
        """IN a statement or a list of ids; a list is written into the statement (ids are integers),
        so that PostgreSQL plans for these ids (a prepared ``= ANY($1)`` may fall back to a plan
        that reads the whole table)."""
        if isinstance(ids, list):
            return column.in_(bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True))
        return column.in_(ids)

    def _unreachable_users(self) -> Any:
        """Users none of whose identities takes messages (blocked the bot, unfollowed)."""
        ci = channel_identities.c
        other = channel_identities.alias("other")
        return select(ci.user_id).where(
            ci.unreachable_at.is_not(None),
            ~exists().where(other.c.user_id == ci.user_id, other.c.unreachable_at.is_(None)),
        )

    async def _read(
        self,
        chosen: Any,
        now: datetime,
        invited: set[int],
        busy: dict[int, list[tuple[datetime, datetime]]],
    ) -> list[Candidate]:
        """The chosen volunteers (a statement or a list of ids) in full, by id."""
        v = volunteers.c
        rows = (
            await self.session.execute(
                select(
                    v.id,
                    v.user_id,
                    v.name,
                    v.skills,
                    v.service_areas,
                    v.qualifications,
                    v.region,
                    # one look-up each: a join would read every user to pick a few hundred
                    select(users.c.recruitment_off).where(users.c.id == v.user_id).scalar_subquery(),
                )
                .where(self._among(v.id, chosen))
                .order_by(v.id)
            )
        ).all()
        if not rows:
            return []
        records = await self._records(chosen, now)
        positions = await self._positions(chosen, now)
        unreachable = await self._unreachable(chosen)
        return [
            Candidate(
                volunteer_id=vid,
                user_id=uid,
                name=name,
                skills=tuple(skills or ()),
                service_areas=tuple(areas or ()),
                qualifications=tuple(quals or ()),
                region=region or "",
                position=positions.get(vid),
                record=records.get(vid, Record()),
                busy=tuple(busy.get(vid, ())),
                reachable=uid not in unreachable,
                recruitment_off=bool(off),
                invited=uid in invited,
            )
            for vid, uid, name, skills, areas, quals, region, off in rows
        ]

    async def _answers(self, activity_id: int | None) -> tuple[set[int], set[int]]:
        """Users invited to the activity from a ranking, and those who answered 不感兴趣."""
        if activity_id is None:
            return set(), set()
        a = audit_log.c
        rows = await self.session.execute(
            select(a.action, a.actor_user_id, a.details).where(
                a.entity == "activity", a.entity_id == activity_id, a.action.in_((INVITED, DECLINED))
            )
        )
        invited: set[int] = set()
        declined: set[int] = set()
        for action, actor, details in rows:
            if action == INVITED and isinstance(details, dict) and "user" in details:
                invited.add(int(details["user"]))
            elif action == DECLINED and actor is not None:
                declined.add(int(actor))
        return invited, declined

    async def _records(self, chosen: Any, now: datetime) -> dict[int, Record]:
        """Attended and missed sessions, summed per volunteer with their age's weight in one CASE."""
        s, a = signups.c, activities.c
        buckets = decay_buckets(now)
        weight = case(
            *((a.ends_at >= since, literal(w)) for since, w in buckets), else_=literal(oldest_weight())
        )
        came = s.status == SignupStatus.ATTENDED
        missed = s.status == SignupStatus.ABSENT
        statement = (
            select(
                s.volunteer_id,
                func.sum(case((came, 1), else_=0)),
                func.sum(case((missed, 1), else_=0)),
                func.sum(case((came, weight), else_=0.0)),
                func.sum(case((missed, weight), else_=0.0)),
                func.sum(case((a.ends_at >= now - RECENT, 1), else_=0)),
            )
            .join(activities, a.id == s.activity_id)
            .where(
                self._among(s.volunteer_id, chosen),
                s.status.in_((SignupStatus.ATTENDED, SignupStatus.ABSENT)),
                a.ends_at <= now,
            )
            .group_by(s.volunteer_id)
        )
        return {
            vid: Record(int(c or 0), int(ms or 0), float(cw or 0), float(mw or 0), int(r or 0))
            for vid, c, ms, cw, mw, r in await self.session.execute(statement)
        }

    async def _live(
        self, org_ids: Sequence[int], target: Target, activity_id: int | None
    ) -> tuple[set[int], dict[int, list[tuple[datetime, datetime]]]]:
        """Live sign-ups of the orgs' members: who is signed up for the activity already, and the times
        of the others' that overlap the target's (availability). Of members only: a team's few are
        found through its memberships, not among a province's sign-ups at that time."""
        s, a, m = signups.c, activities.c, memberships.c
        members = select(m.volunteer_id).where(
            m.org_id.in_(list(org_ids)), m.status == MembershipStatus.ACTIVE
        )
        at_the_time = (
            and_(a.starts_at < target.ends_at, a.ends_at > target.starts_at)
            if target.starts_at is not None and target.ends_at is not None
            else false()
        )
        this = a.id == activity_id if activity_id is not None else false()
        statement = (
            select(s.volunteer_id, s.activity_id, a.starts_at, a.ends_at)
            .join(activities, a.id == s.activity_id)
            .where(s.status.in_(sorted(LIVE)), or_(at_the_time, this), s.volunteer_id.in_(members))
        )
        signed: set[int] = set()
        busy: dict[int, list[tuple[datetime, datetime]]] = {}
        for vid, aid, start, end in await self.session.execute(statement):
            if aid == activity_id:
                signed.add(vid)
            else:
                busy.setdefault(vid, []).append((start, end))
        return signed, busy

    async def _positions(self, chosen: Any, now: datetime) -> dict[int, tuple[float, float]]:
        """The last check-in point of each, while it is kept (PIPL art. 28: purged after retention)."""
        t = attendances.c
        statement = (
            select(t.volunteer_id, t.checkin_latitude, t.checkin_longitude)
            .where(self._among(t.volunteer_id, chosen), *self._kept(now))
            .order_by(t.checked_in_at)
        )
        return {vid: (lat, lon) for vid, lat, lon in await self.session.execute(statement)}

    async def _unreachable(self, chosen: Any) -> set[int]:
        v = volunteers.c
        statement = self._unreachable_users().where(
            channel_identities.c.user_id.in_(select(v.user_id).where(self._among(v.id, chosen)))
        )
        return set((await self.session.scalars(statement.distinct())).all())
