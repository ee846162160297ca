"""core.ports repositories over an AsyncSession. Records of service are never deleted here (4-5.4)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.activity import Activity, ActivityMode, ActivityStatus, Base, Project
from core.domain.attendance import Attendance, MakeupRequest, MakeupStatus, RecordStatus, ServiceRecord
from core.domain.audit import AuditEntry
from core.domain.certificate import Certificate
from core.domain.codes import Channel
from core.domain.dialog import DialogState, Feedback, Notice
from core.domain.evaluation import Evaluation
from core.domain.linking import LinkCode
from core.domain.need import Need, NeedStatus
from core.domain.organization import Organization, OrgStatus
from core.domain.people import ChannelIdentity, Consent, ConsentKind, RoleGrant, User
from core.domain.report import ActivityReport
from core.domain.signup import LIVE, Signup, SignupStatus
from core.domain.survey import SurveyKind, SurveyResponse
from core.domain.volunteer import (
    CURRENT_MEMBERSHIP,
    Membership,
    MembershipStatus,
    Volunteer,
    VolunteerStatus,
)
from core.errors import RaceLost
from core.ports import (
    ActivityBrief,
    ActivityQuery,
    Attendable,
    Caller,
    MemberExportRow,
    RecordExportRow,
    Recruit,
    SignupRef,
    Unreported,
    Unsent,
)
from storage.loop_session import LoopSession
from storage.prepared import Prepared
from storage.tables import (
    activities,
    activity_reports,
    attendances,
    audit_log,
    bases,
    certificates,
    channel_identities,
    consents,
    deliveries,
    dialogs,
    feedback,
    link_codes,
    makeup_photos,
    makeup_requests,
    media,
    memberships,
    needs,
    notices,
    organizations,
    projects,
    role_grants,
    service_records,
    signups,
    survey_respondents,
    survey_responses,
    users,
    volunteer_evaluations,
    volunteers,
    wechat_tokens,
    wechat_windows,
)

T = TypeVar("T")
_INSERTS: dict[str, Prepared] = {}  # _Repository.add's statements on SQLite, by table
_COPIES: dict[tuple[str, bool], Prepared] = {}  # _Repository.read's statements, by table and lock


async def _insert(session: LoopSession, item: object) -> int:
    """One row of a mapped item, its id as the database gives it."""
    table = inspect(type(item)).local_table
    prepared = _INSERTS.get(table.name)
    if prepared is None:
        columns = [c.key for c in table.c if not (c.key == "id" and c.primary_key)]
        prepared = _INSERTS[table.name] = Prepared(insert(table).values({c: bindparam(c) for c in columns}))
    names = [c.key for c in table.c if c.key != "id"]
    return await prepared.insert(session, {name: getattr(item, name) for name in names})


def _insert_once(
    table: Any, columns: Sequence[str], unique: Sequence[Any] | None = None
) -> dict[str, Prepared]:
    """INSERT … ON CONFLICT DO NOTHING, by dialect (each has its own clause): a row whose unique key
    is there already is skipped, and a concurrent twin waits for it and is skipped too."""
    return {
        name: Prepared(
            insert(table)
            .values({column: bindparam(column) for column in columns})
            .on_conflict_do_nothing(index_elements=unique)
        )
        for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
    }


class _Repository(Generic[T]):
    model: type[T]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, item: T) -> T:
        """Written at once, with its id set. On SQLite one prepared INSERT, after which the item
        joins the session as if it had been loaded (changes to it are then tracked and written as
        usual): a flush of the ORM's unit of work costs several times that for one row."""
        if isinstance(self.session, LoopSession):
            item.id = await _insert(self.session, item)  # type: ignore[attr-defined]
            self.session.adopt(item)
            return item
        self.session.add(item)
        await self.session.flush()
        return item

    async def get(self, item_id: int) -> T | None:
        return await self.session.get(self.model, item_id)

    async def read(self, item_id: int, *, lock: bool = False) -> T | None:
        """A copy to show or to decide on, read as plain values: not part of the unit of work, so
        changing it changes nothing; about a third of the cost of ``get``. ``lock`` locks the row
        for the transaction as ``get_for_update`` does."""
        table = inspect(self.model).local_table
        key = (table.name, lock)
        prepared = _COPIES.get(key)
        if prepared is None:
            statement = select(table).where(table.c.id == bindparam("item_id"))
            prepared = _COPIES[key] = Prepared(statement.with_for_update() if lock else statement)
        row = await prepared.first(self.session, {"item_id": item_id})
        if row is None:
            return None
        # Made as the ORM's loader makes an instance, without running the mapped class's __init__,
        # whose every attribute set fires the session's events: a transient copy, never added.
        copy = inspect(self.model).class_manager.new_instance()
        copy.__dict__.update(zip(table.c.keys(), row, strict=True))
        return copy

    async def get_for_update(self, item_id: int) -> T | None:
        """Read afresh and locked for this transaction: a row lock on PostgreSQL, where a copy already
        in the session may be older. An SQLite transaction holds the file's write lock from its first
        statement (BEGIN IMMEDIATE), so a copy read in it cannot be older: that one is used, and only a
        copy of an earlier transaction of the unit of work (before its commit) is read again."""
        if isinstance(self.session, LoopSession):
            again = self.session.read_earlier(self.model, item_id)
            return await self.session.get(self.model, item_id, populate_existing=again)
        return await self.session.get(self.model, item_id, with_for_update=True, populate_existing=True)

    async def _all(self, statement: Any) -> list[T]:
        return list((await self.session.scalars(statement)).all())

    async def _one(self, statement: Any) -> T | None:
        return (await self.session.scalars(statement.limit(1))).first()


# Read on every turn: the user, their dialog, whether they volunteer (and are active) and whether
# they hold any role, in one statement of plain values.
_CALLER = Prepared(
    select(
        users.c.id,
        users.c.language,
        dialogs.c.updated_at,
        dialogs.c.flow,
        dialogs.c.step,
        dialogs.c.data,
        dialogs.c.offered,
        volunteers.c.id,
        volunteers.c.status,
        exists()
        .where(role_grants.c.user_id == users.c.id, role_grants.c.revoked_at.is_(None))
        .label("has_roles"),
        channel_identities.c.unreachable_at,
    )
    .select_from(channel_identities)
    .join(users, users.c.id == channel_identities.c.user_id)
    .join(dialogs, dialogs.c.user_id == users.c.id)
    .outerjoin(volunteers, volunteers.c.user_id == users.c.id)
    .where(
        channel_identities.c.channel == bindparam("channel"),
        channel_identities.c.external_id == bindparam("external_id"),
    )
    .limit(1)
    # The dialog's row, as DialogRepository.for_user locks it (PostgreSQL; SQLite serialises anyway).
    .with_for_update(of=dialogs)
)


class UserRepository(_Repository[User]):
    model = User

    async def caller(self, channel: Channel, external_id: str) -> Caller | None:
        row = await _CALLER.first(self.session, {"channel": channel, "external_id": external_id})
        if row is None:
            return None
        user_id, language, updated_at, flow, step, data, offered, volunteer_id, status, has_roles, gone = row
        # The dialog as a plain value, written back by DialogRepository.save: cheaper than the
        # session's unit of work for the one row every turn changes.
        dialog = DialogState(
            user_id=user_id, updated_at=updated_at, flow=flow, step=step, data=data, offered=offered
        )
        return Caller(
            user_id=user_id,
            language=language,
            dialog=dialog,
            volunteer_id=volunteer_id,
            volunteer_status=status,
            has_roles=bool(has_roles),
            unreachable=gone is not None,
        )

    async def languages(self, user_ids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(user_ids), 1000):  # a bounded IN list on any database
            statement = select(users.c.id, users.c.language).where(
                users.c.id.in_(user_ids[start : start + 1000])
            )
            found.update({row[0]: row[1] for row in await self.session.execute(statement)})
        return found

    async def by_identity(self, channel: Channel, external_id: str) -> User | None:
        c = channel_identities.c
        return await self._one(
            select(User)
            .join(channel_identities, c.user_id == users.c.id)
            .where(c.channel == channel, c.external_id == external_id)
        )


class IdentityRepository(_Repository[ChannelIdentity]):
    model = ChannelIdentity

    async def add(self, item: ChannelIdentity) -> ChannelIdentity:
        """An identity is unique: two first messages of one new user at once both try to add it
        (PostgreSQL, side by side), and the later one loses the race."""
        try:
            return await super().add(item)
        except IntegrityError as error:
            raise RaceLost(f"{item.channel}:{item.external_id} was added by another transaction") from error

    async def get(self, channel: Channel, external_id: str) -> ChannelIdentity | None:  # type: ignore[override]
        c = channel_identities.c
        return await self._one(
            select(ChannelIdentity).where(c.channel == channel, c.external_id == external_id)
        )

    async def for_user(self, user_id: int) -> list[ChannelIdentity]:
        c = channel_identities.c
        return await self._all(select(ChannelIdentity).where(c.user_id == user_id).order_by(c.id))

    async def for_users(self, user_ids: Sequence[int]) -> list[ChannelIdentity]:
        c = channel_identities.c
        found: list[ChannelIdentity] = []
        for start in range(0, len(user_ids), 1000):  # a bounded IN list on any database
            statement = select(ChannelIdentity).where(c.user_id.in_(user_ids[start : start + 1000]))
            found += await self._all(statement.order_by(c.id))
        return sorted(found, key=lambda i: i.id or 0)

    async def remove_for_user(self, user_id: int) -> int:
        """PIPL art. 47: the person left; their chat accounts no longer lead to them."""
        result = await self.session.execute(
            channel_identities.delete().where(channel_identities.c.user_id == user_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def set_unreachable(self, channel: Channel, external_id: str, at: datetime | None) -> None:
        """``at``: the platform refused delivery for good then; None: the person wrote again."""
        c = channel_identities.c
        await self.session.execute(
            update(channel_identities)
            .where(c.channel == channel, c.external_id == external_id)
            .values(unreachable_at=at)
        )


class GrantRepository(_Repository[RoleGrant]):
    model = RoleGrant

    async def active_for_user(self, user_id: int) -> list[RoleGrant]:
        c = role_grants.c
        return await self._all(
            select(RoleGrant).where(c.user_id == user_id, c.revoked_at.is_(None)).order_by(c.id)
        )

    async def staff_of(self, org_id: int) -> list[RoleGrant]:
        c = role_grants.c
        return await self._all(
            select(RoleGrant).where(c.org_id == org_id, c.revoked_at.is_(None)).order_by(c.id)
        )


class ConsentRepository(_Repository[Consent]):
    model = Consent

    async def active(self, user_id: int, kind: ConsentKind) -> Consent | None:
        t = consents.c
        return await self._one(
            select(Consent)
            .where(t.user_id == user_id, t.kind == kind, t.withdrawn_at.is_(None))
            .order_by(t.id.desc())
        )

    async def for_user(self, user_id: int) -> list[Consent]:
        t = consents.c
        return await self._all(select(Consent).where(t.user_id == user_id).order_by(t.id))


_ORG_NAME = Prepared(select(organizations.c.name).where(organizations.c.id == bindparam("org_id")))


class OrganizationRepository(_Repository[Organization]):
    model = Organization

    async def name_of(self, org_id: int) -> str | None:
        row = await _ORG_NAME.first(self.session, {"org_id": org_id})
        return None if row is None else str(row[0])

    async def by_name(self, name: str) -> Organization | None:
        """The organization that holds this name: a rejected application holds none (1-5.4)."""
        c = organizations.c
        return await self._one(select(Organization).where(c.name == name, c.status != OrgStatus.REJECTED))

    async def children(self, parent_id: int) -> list[Organization]:
        c = organizations.c
        return await self._all(select(Organization).where(c.parent_id == parent_id).order_by(c.id))

    async def list(self, status: OrgStatus | None = None) -> list[Organization]:
        c = organizations.c
        statement = select(Organization).order_by(c.id)
        if status is not None:
            statement = statement.where(c.status == status)
        return await self._all(statement)

    # builtins.list from here on: in annotations below it, ``list`` is the method above.
    async def pending_children(
        self, parent_ids: builtins.list[int], *, top_level: bool = False, limit: int = 20
    ) -> builtins.list[Organization]:
        c = organizations.c
        under = c.parent_id.in_(parent_ids)
        statement = select(Organization).where(
            c.status == OrgStatus.APPLIED, or_(under, c.parent_id.is_(None)) if top_level else under
        )
        return await self._all(statement.order_by(c.id).limit(limit))

    async def descendant_ids(self, org_id: int) -> builtins.list[int]:
        """1-6.1: any depth, one recursive query on both databases."""
        o = organizations.c
        tree = select(o.id).where(o.parent_id == org_id).cte("tree", recursive=True)
        below = organizations.alias("below")
        tree = tree.union_all(select(below.c.id).where(below.c.parent_id == tree.c.id))
        return list((await self.session.scalars(select(tree.c.id).order_by(tree.c.id))).all())

    async def ancestor_ids(self, org_id: int) -> builtins.list[int]:
        o = organizations.c
        chain = select(o.parent_id.label("id")).where(o.id == org_id).cte("chain", recursive=True)
        above = organizations.alias("above")
        chain = chain.union_all(select(above.c.parent_id).where(above.c.id == chain.c.id))
        rows = (await self.session.scalars(select(chain.c.id))).all()
        return [r for r in rows if r is not None]


_USER_OF_VOLUNTEER = Prepared(
    select(volunteers.c.user_id).where(volunteers.c.id == bindparam("volunteer_id"))
)


class VolunteerRepository(_Repository[Volunteer]):
    model = Volunteer

    async def user_id_of(self, volunteer_id: int) -> int | None:
        row = await _USER_OF_VOLUNTEER.first(self.session, {"volunteer_id": volunteer_id})
        return None if row is None else int(row[0])

    async def recruitable(self, org_ids: Sequence[int], activity_id: int) -> list[Recruit]:
        v, m, s = volunteers.c, memberships.c, signups.c
        signed_up = exists().where(
            s.volunteer_id == v.id, s.activity_id == activity_id, s.status.in_(sorted(LIVE))
        )
        statement = (
            select(v.id, v.user_id, v.service_areas, v.qualifications, v.birth_date)
            .join(memberships, m.volunteer_id == v.id)
            .join(users, users.c.id == v.user_id)
            .where(
                users.c.recruitment_off.is_(False),  # turned off in /settings
                m.org_id.in_(list(org_ids)),
                m.status == MembershipStatus.ACTIVE,
                v.status == VolunteerStatus.ACTIVE,
                ~signed_up,
            )
            .order_by(v.id)
        )
        found: dict[int, Recruit] = {}  # a member of two of the orgs is called once
        for volunteer_id, user_id, areas, qualifications, born in await self.session.execute(statement):
            found.setdefault(
                volunteer_id, Recruit(user_id, tuple(areas or ()), tuple(qualifications or ()), born)
            )
        return list(found.values())

    async def by_number(self, number: str) -> Volunteer | None:
        return await self._one(select(Volunteer).where(volunteers.c.volunteer_number == number))

    async def by_user(self, user_id: int) -> Volunteer | None:
        return await self._one(select(Volunteer).where(volunteers.c.user_id == user_id))

    async def count_in_orgs(self, org_ids: list[int]) -> int:
        m = memberships.c
        statement = select(func.count(func.distinct(m.volunteer_id))).where(
            m.org_id.in_(org_ids), m.status == MembershipStatus.ACTIVE
        )
        return int(await self.session.scalar(statement) or 0)

    async def members_for_export(
        self, org_id: int, staff_of: Sequence[int], after_id: int, limit: int
    ) -> list[MemberExportRow]:
        v, m, r = volunteers.c, memberships.c, service_records.c
        # Confirmed service hours per volunteer at this org, summed in tenths as stored: one grouped
        # read. Trainings are not service (2-7.4).
        hours = (
            select(r.volunteer_id, func.sum(type_coerce(r.credited_hours, Integer)).label("tenths"))
            .select_from(service_records.join(activities, activities.c.id == r.activity_id))
            .where(
                r.org_id == org_id, r.status == RecordStatus.CONFIRMED, activities.c.training_kind.is_(None)
            )
            .group_by(r.volunteer_id)
            .subquery("hours")
        )
        statement = (
            select(
                v.id,
                v.name,
                v.id_type,
                v.id_number,
                v.phone,
                v.volunteer_number,
                v.registered_at,
                v.region,
                v.status,
                m.status,
                m.decided_at,
                m.requested_at,
                hours.c.tenths,
                _staff_member(v.id, staff_of),
            )
            .select_from(memberships)
            .join(volunteers, v.id == m.volunteer_id)
            .outerjoin(hours, hours.c.volunteer_id == v.id)
            .where(m.org_id == org_id, m.status.in_(sorted(CURRENT_MEMBERSHIP)), v.id > after_id)
            .order_by(v.id)
            .limit(limit)
        )
        rows = []
        for row in await self.session.execute(statement):
            *person, status, membership, decided_at, requested_at, tenths, staff_member = row
            volunteer_id, name, id_type, id_number, phone, volunteer_number, registered_at, region = person
            rows.append(
                MemberExportRow(
                    volunteer_id=volunteer_id,
                    name=name,
                    id_type=id_type,
                    id_number=id_number,
                    phone=phone,
                    volunteer_number=volunteer_number,
                    registered_at=registered_at,
                    region=region,
                    status=status,
                    membership=membership,
                    joined_at=decided_at or requested_at,
                    confirmed_hours=(Decimal(int(tenths or 0)) / 10).quantize(Decimal("0.1")),
                    staff_member=bool(staff_member),
                )
            )
        return rows


class MembershipRepository(_Repository[Membership]):
    model = Membership

    async def get(self, volunteer_id: int, org_id: int) -> Membership | None:  # type: ignore[override]
        m = memberships.c
        return await self._one(select(Membership).where(m.volunteer_id == volunteer_id, m.org_id == org_id))

    async def for_volunteer(self, volunteer_id: int) -> list[Membership]:
        m = memberships.c
        return await self._all(select(Membership).where(m.volunteer_id == volunteer_id).order_by(m.id))

    async def for_org(self, org_id: int) -> list[Membership]:
        m = memberships.c
        return await self._all(select(Membership).where(m.org_id == org_id).order_by(m.id))

    async def pending_for_orgs(self, org_ids: list[int], limit: int = 20) -> list[Membership]:
        m = memberships.c
        statement = select(Membership).where(m.org_id.in_(org_ids), m.status == MembershipStatus.PENDING)
        return await self._all(statement.order_by(m.requested_at, m.id).limit(limit))


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
            columns = (a.id, a.title, a.starts_at, a.timezone, a.capacity, a.latitude, a.longitude)
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


class AuditRepository(_Repository[AuditEntry]):
    model = AuditEntry

    async def add(self, item: AuditEntry) -> AuditEntry:
        # Nothing reads an entry or its id in the turn that writes it: on SQLite one prepared INSERT
        # and the entry stays out of the session; elsewhere it is written with the next flush.
        if isinstance(self.session, LoopSession):
            await _insert(self.session, item)
            return item
        self.session.add(item)
        return item

    async def for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]:
        t = audit_log.c
        return await self._all(
            select(AuditEntry).where(t.entity == entity, t.entity_id == entity_id).order_by(t.id)
        )

    async def count_since(self, entity: str, entity_id: int, action: str, since: datetime) -> int:
        t = audit_log.c
        statement = (
            select(func.count())
            .select_from(audit_log)
            .where(t.entity == entity, t.entity_id == entity_id, t.action == action, t.at >= since)
        )
        return int(await self.session.scalar(statement) or 0)


class BaseRepository(_Repository[Base]):
    model = Base

    async def list(self) -> list[Base]:
        return await self._all(select(Base).order_by(bases.c.id))


class ProjectRepository(_Repository[Project]):
    model = Project


_SAVE_DIALOG = Prepared(
    update(dialogs)
    .where(dialogs.c.user_id == bindparam("b_user_id"))
    .values(
        updated_at=bindparam("b_updated_at"),
        flow=bindparam("b_flow"),
        step=bindparam("b_step"),
        data=bindparam("b_data"),
        offered=bindparam("b_offered"),
    )
)


_DIALOG_OF = Prepared(
    select(dialogs.c.updated_at, dialogs.c.flow, dialogs.c.step, dialogs.c.data, dialogs.c.offered)
    .where(dialogs.c.user_id == bindparam("user_id"))
    .with_for_update()
)
_NEW_DIALOG = Prepared(
    insert(dialogs).values(
        user_id=bindparam("user_id"),
        updated_at=bindparam("updated_at"),
        flow="",
        step="",
        data=bindparam("data"),
        offered=bindparam("offered"),
    )
)


class DialogRepository:
    """A dialog is a plain value, not an entity of the session: read at the start of a turn, written
    back at its end with one UPDATE (``save``), the one row every turn changes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, state: DialogState) -> None:
        await _SAVE_DIALOG.run(
            self.session,
            {
                "b_user_id": state.user_id,
                "b_updated_at": state.updated_at,
                "b_flow": state.flow,
                "b_step": state.step,
                "b_data": state.data,
                "b_offered": state.offered,
            },
        )

    async def for_user(self, user_id: int, now: datetime) -> DialogState:
        """The user's state, created empty on first use; the row is locked for this turn on PostgreSQL."""
        row = await _DIALOG_OF.first(self.session, {"user_id": user_id})
        if row is None:
            try:
                await _NEW_DIALOG.run(
                    self.session, {"user_id": user_id, "updated_at": now, "data": {}, "offered": []}
                )
            except IntegrityError as error:
                # Two first turns of one person at once (two deliveries side by side): the later one
                # runs again and reads the winner's row.
                raise RaceLost(f"the dialog of user {user_id} was added by another transaction") from error
            return DialogState(user_id=user_id, updated_at=now)
        updated_at, flow, step, data, offered = row
        return DialogState(
            user_id=user_id, updated_at=updated_at, flow=flow, step=step, data=data, offered=offered
        )


_NOTICE_COLUMNS = tuple(c.name for c in notices.c if c.name != "id")
_NOTICE_ONCE = _insert_once(notices, _NOTICE_COLUMNS, unique=[notices.c.key])


class NoticeRepository(_Repository[Notice]):
    model = Notice

    async def add_once(self, notice: Notice) -> bool:
        """False when a notice with this key exists already (the same event seen twice): one
        INSERT … ON CONFLICT DO NOTHING, which also settles two transactions racing with one key."""
        statement = _NOTICE_ONCE[self.session.get_bind().dialect.name]
        values = {name: getattr(notice, name) for name in _NOTICE_COLUMNS}
        return bool(await statement.run(self.session, values))

    async def add_for_each(self, template: Notice, recipients: Sequence[tuple[str, int]]) -> None:
        statement = _NOTICE_ONCE[self.session.get_bind().dialect.name]
        common = {name: getattr(template, name) for name in _NOTICE_COLUMNS}
        rows = [{**common, "key": key, "user_id": user_id} for key, user_id in recipients]
        for start in range(0, len(rows), 1000):  # bounded statements on any database
            await statement.run_many(self.session, rows[start : start + 1000])

    async def due(self, now: datetime, limit: int) -> list[Notice]:
        n = notices.c
        statement = (
            select(Notice)
            .where(n.sent_at.is_(None), n.failed.is_(False), n.withdrawn_at.is_(None), n.due_at <= now)
            .order_by(n.due_at, n.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._all(statement)

    async def pending_with_prefix(self, prefix: str) -> list[Notice]:
        n = notices.c
        statement = (
            select(Notice)
            .where(
                n.key.startswith(prefix, autoescape=True),
                n.sent_at.is_(None),
                n.failed.is_(False),
                n.withdrawn_at.is_(None),
            )
            .order_by(n.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._all(statement)

    async def pending(self, keys: Sequence[str]) -> list[Notice]:
        n = notices.c
        found: list[Notice] = []
        for start in range(0, len(keys), 1000):  # a bounded IN list on any database
            statement = (
                select(Notice)
                .where(
                    n.key.in_(keys[start : start + 1000]),
                    n.sent_at.is_(None),
                    n.failed.is_(False),
                    n.withdrawn_at.is_(None),
                )
                .order_by(n.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            found += await self._all(statement)
        return found

    async def for_user(self, user_id: int) -> list[Notice]:
        return await self._all(select(Notice).where(notices.c.user_id == user_id).order_by(notices.c.id))

    async def queued(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 1000):  # a bounded IN list on any database
            statement = select(notices.c.key).where(notices.c.key.in_(keys[start : start + 1000]))
            found.update((await self.session.scalars(statement)).all())
        return found

    async def get_many(self, ids: Sequence[int]) -> list[Notice]:
        found: list[Notice] = []
        for start in range(0, len(ids), 1000):  # a bounded IN list on any database
            found += await self._all(select(Notice).where(notices.c.id.in_(ids[start : start + 1000])))
        return found

    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        n = notices.c
        for start in range(0, len(ids), 1000):  # a bounded IN list on any database
            await self.session.execute(
                update(notices)
                .where(n.id.in_(ids[start : start + 1000]), n.sent_at.is_(None))
                .values(sent_at=at, last_error=None)
            )

    async def unsent_with_prefix(self, prefix: str) -> Unsent:
        n = notices.c
        # sent_at IS NULL leads the index on (sent_at, failed, due_at): the sent history is not read.
        statement = (
            select(n.failed, n.withdrawn_at.is_not(None), func.count())
            .where(n.sent_at.is_(None), n.key.startswith(prefix, autoescape=True))
            .group_by(n.failed, n.withdrawn_at.is_not(None))
        )
        counts = {
            (bool(failed), bool(withdrawn)): count
            for failed, withdrawn, count in await self.session.execute(statement)
        }
        return Unsent(
            pending=counts.get((False, False), 0),
            failed=counts.get((True, False), 0) + counts.get((True, True), 0),
            withdrawn=counts.get((False, True), 0),
        )


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


class LinkCodeRepository(_Repository[LinkCode]):
    model = LinkCode

    async def latest_for_update(self, code_hash: str) -> LinkCode | None:
        statement = (
            select(LinkCode)
            .where(link_codes.c.code_hash == code_hash)
            .order_by(link_codes.c.id.desc())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._one(statement)

    async def live_for_user(self, user_id: int, now: datetime) -> list[LinkCode]:
        c = link_codes.c
        return await self._all(
            select(LinkCode)
            .where(c.user_id == user_id, c.used_at.is_(None), c.expires_at > now)
            .order_by(c.id)
        )


class DeliveryLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, channel: Channel, key: str, now: datetime) -> bool:
        """One statement on both databases: INSERT … ON CONFLICT DO NOTHING. A concurrent twin waits on
        the key (PostgreSQL) or on the write lock (SQLite) and then inserts nothing."""
        statement = _FIRST_DELIVERY[self.session.get_bind().dialect.name]
        return bool(
            await statement.run(self.session, {"channel": str(channel), "key": key, "handled_at": now})
        )


_FIRST_DELIVERY = _insert_once(deliveries, ["channel", "key", "handled_at"])


def _upsert(session: AsyncSession, table: Any, keys: list[str], **values: Any) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the dialect of the session's database."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    changed = {name: getattr(statement.excluded, name) for name in values if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


class MediaRepository:
    """Files served at /media/<token> for a while (bots/media.py). Not records of service: an
    expired file is deleted."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, token: str, filename: str, mime: str, data: bytes, expires_at: datetime) -> None:
        await self.session.execute(
            media.insert().values(token=token, filename=filename, mime=mime, data=data, expires_at=expires_at)
        )

    async def get(self, token: str, now: datetime) -> tuple[str, str, bytes] | None:
        """The file's name, type and bytes, while it has not expired."""
        m = media.c
        statement = select(m.filename, m.mime, m.data).where(m.token == token, m.expires_at > now)
        row = (await self.session.execute(statement)).first()
        return (row.filename, row.mime, bytes(row.data)) if row is not None else None

    async def purge(self, now: datetime) -> None:
        await self.session.execute(media.delete().where(media.c.expires_at <= now))


class WeChatTokenRepository:
    """WeChat's access token, one row per app, shared by every instance of the server and the CLI."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> tuple[str, datetime] | None:
        """The token and when it expires."""
        t = wechat_tokens.c
        row = (await self.session.execute(select(t.value, t.expires_at).where(t.key == key))).first()
        return (row.value, row.expires_at) if row is not None else None

    async def put(self, key: str, value: str, expires_at: datetime) -> None:
        await self.session.execute(
            _upsert(self.session, wechat_tokens, ["key"], key=key, value=value, expires_at=expires_at)
        )


class WeChatWindowRepository:
    """Each WeChat user's customer-service window: when their last message opened it, how many sent since."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, openid: str) -> tuple[datetime, int] | None:
        w = wechat_windows.c
        row = (await self.session.execute(select(w.opened_at, w.sent).where(w.openid == openid))).first()
        return (row.opened_at, row.sent) if row is not None else None

    async def open(self, openid: str, now: datetime) -> None:
        await self.session.execute(
            _upsert(self.session, wechat_windows, ["openid"], openid=openid, opened_at=now, sent=0)
        )

    async def take(self, openid: str, opened_after: datetime, limit: int) -> bool:
        """Counts one message against an open window, in one statement (two senders never both take
        the last place); False when the window is closed, used up or was never opened."""
        w = wechat_windows.c
        statement = (
            update(wechat_windows)
            .where(w.openid == openid, w.opened_at > opened_after, w.sent < limit)
            .values(sent=w.sent + 1)
        )
        # An UPDATE's result has a row count; Session.execute is typed as returning any Result.
        result = cast(CursorResult[Any], await self.session.execute(statement))
        return bool(result.rowcount)

    async def close(self, openid: str, limit: int) -> None:
        """WeChat said the window is closed (45015): nothing more goes out until the user writes again."""
        w = wechat_windows.c
        await self.session.execute(update(wechat_windows).where(w.openid == openid).values(sent=limit))


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
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(survey_respondents)
            .values(activity_id=activity_id, kind=kind.value, user_id=user_id)
            .on_conflict_do_nothing()
        )
        result = cast(CursorResult[Any], await self.session.execute(statement))  # an INSERT's
        return bool(result.rowcount)


class AttendanceRepository(_Repository[Attendance]):
    model = Attendance

    async def for_signup(self, signup_id: int) -> Attendance | None:
        statement = select(Attendance).where(attendances.c.signup_id == signup_id).with_for_update()
        return await self._one(statement.execution_options(populate_existing=True))

    async def for_activity(self, activity_id: int) -> list[Attendance]:
        a = attendances.c
        return await self._all(select(Attendance).where(a.activity_id == activity_id).order_by(a.id))

    async def attendable(
        self, volunteer_id: int, starts_before: datetime, ends_after: datetime
    ) -> list[Attendable]:
        s, a = signups.c, activities.c
        statement = (
            select(s.id, a.id, a.title, a.starts_at, a.ends_at)
            .join(activities, a.id == s.activity_id)
            .where(
                s.volunteer_id == volunteer_id,
                s.status.in_([SignupStatus.CONFIRMED, SignupStatus.ATTENDED]),
                a.status.in_([ActivityStatus.PUBLISHED, ActivityStatus.ONGOING, ActivityStatus.FINISHED]),
                a.starts_at <= starts_before,
                a.ends_at >= ends_after,
            )
            .order_by(a.starts_at, a.id)
            .limit(10)
        )
        return [Attendable(*row) for row in (await self.session.execute(statement)).all()]

    async def open_ended_before(self, moment: datetime, limit: int) -> list[Attendance]:
        a = attendances.c
        statement = (
            select(Attendance)
            .join(activities, activities.c.id == a.activity_id)
            .where(a.checked_out_at.is_(None), activities.c.ends_at < moment)
            .order_by(a.id)
            .limit(limit)
        )
        return await self._all(statement)

    async def coordinates_expired(self, now: datetime, limit: int) -> list[Attendance]:
        a = attendances.c
        statement = select(Attendance).where(a.coordinates_until < now).order_by(a.id).limit(limit)
        return await self._all(statement)


_LIVE_RECORD = (RecordStatus.PENDING, RecordStatus.CONFIRMED)


def _chunks(ids: Sequence[int], size: int = 1000) -> list[list[int]]:
    """Ids in lists short enough for one IN (…) each."""
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def _staff_member(volunteer_id: Any, staff_of: Sequence[int]) -> Any:
    """Whether the volunteer belongs now (pending or active) to one of these orgs: as
    core.services.access.may_see_private_data decides for staff, in the export's one read."""
    if not staff_of:
        return false().label("staff_member")
    m = memberships.alias("staff_membership")
    return (
        exists()
        .where(
            m.c.volunteer_id == volunteer_id,
            m.c.org_id.in_(list(staff_of)),
            m.c.status.in_(sorted(CURRENT_MEMBERSHIP)),
        )
        .label("staff_member")
    )


class ServiceRecordRepository(_Repository[ServiceRecord]):
    model = ServiceRecord

    async def confirmed_hours_each(self, activity_ids: Sequence[int]) -> dict[int, Decimal]:
        r = service_records.c
        hours: dict[int, Decimal] = {}
        for chunk in _chunks(activity_ids):
            statement = (
                select(r.activity_id, func.sum(type_coerce(r.credited_hours, Integer)))
                .where(r.activity_id.in_(chunk), r.status == RecordStatus.CONFIRMED)
                .group_by(r.activity_id)
            )
            for activity_id, tenths in await self.session.execute(statement):
                # The column stores tenths of an hour (Fixed(1)); the sum comes back as that integer.
                hours[activity_id] = (Decimal(int(tenths or 0)) / 10).quantize(Decimal("0.1"))
        return hours

    async def live(self, volunteer_id: int, activity_id: int) -> ServiceRecord | None:
        r = service_records.c
        return await self._one(
            select(ServiceRecord).where(
                r.volunteer_id == volunteer_id, r.activity_id == activity_id, r.status.in_(_LIVE_RECORD)
            )
        )

    async def for_volunteer(self, volunteer_id: int) -> list[ServiceRecord]:
        r = service_records.c
        return await self._all(
            select(ServiceRecord).where(r.volunteer_id == volunteer_id).order_by(r.started_at, r.id)
        )

    async def for_activity(self, activity_id: int) -> list[ServiceRecord]:
        r = service_records.c
        return await self._all(select(ServiceRecord).where(r.activity_id == activity_id).order_by(r.id))

    async def pending_for_orgs(self, org_ids: Sequence[int] | None, limit: int) -> list[ServiceRecord]:
        r = service_records.c
        statement = select(ServiceRecord).where(r.status == RecordStatus.PENDING)
        if org_ids is not None:
            statement = statement.where(r.org_id.in_(list(org_ids)))
        return await self._all(statement.order_by(r.activity_id, r.id).limit(limit))

    async def confirmed_hours(self, volunteer_id: int) -> Decimal:
        r, a = service_records.c, activities.c
        # Summed as stored, in tenths: exact, then read back as hours. 2-7.4: a training's hours are
        # training, not service.
        statement = (
            select(func.coalesce(func.sum(type_coerce(r.credited_hours, Integer)), 0))
            .select_from(service_records.join(activities, a.id == r.activity_id))
            .where(
                r.volunteer_id == volunteer_id, r.status == RecordStatus.CONFIRMED, a.training_kind.is_(None)
            )
        )
        tenths = (await self.session.execute(statement)).scalar_one()
        return (Decimal(int(tenths)) / 10).quantize(Decimal("0.1"))

    async def records_for_export(
        self,
        org_id: int,
        since: datetime | None,
        until: datetime | None,
        staff_of: Sequence[int],
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[RecordExportRow]:
        r, v, a, o = service_records.c, volunteers.c, activities.c, organizations.c
        decider = users.alias("decider")
        decider_volunteer = volunteers.alias("decider_volunteer")
        statement = (
            select(
                r.id,
                r.volunteer_id,
                v.name,
                v.id_type,
                v.id_number,
                v.phone,
                v.volunteer_number,
                v.registered_at,
                a.title,
                a.timezone,
                o.name,
                r.started_at,
                r.ended_at,
                r.onsite_hours,
                r.coefficient,
                r.credited_hours,
                r.status,
                r.source,
                r.manual,
                r.decided_by,
                func.coalesce(decider_volunteer.c.name, decider.c.display_name, ""),
                r.decided_at,
                r.void_reason,
                _staff_member(r.volunteer_id, staff_of),
            )
            .select_from(service_records)
            .join(volunteers, v.id == r.volunteer_id)
            .join(activities, a.id == r.activity_id)
            .join(organizations, o.id == r.org_id)
            .outerjoin(decider, decider.c.id == r.decided_by)
            .outerjoin(decider_volunteer, decider_volunteer.c.user_id == r.decided_by)
            .where(r.org_id == org_id)
            .order_by(r.started_at, r.id)
            .limit(limit)
        )
        if since is not None:
            statement = statement.where(r.started_at >= since)
        if until is not None:
            statement = statement.where(r.started_at < until)
        if after is not None:
            started, record_id = after
            statement = statement.where(
                or_(r.started_at > started, and_(r.started_at == started, r.id > record_id))
            )
        rows = []
        for row in await self.session.execute(statement):
            *fields, staff_member = row
            values = (*fields, bool(staff_member))  # all positional, in the select's order (the fields')
            rows.append(RecordExportRow(*values))
        return rows


class MakeupRepository(_Repository[MakeupRequest]):
    model = MakeupRequest

    async def for_volunteer(self, volunteer_id: int) -> list[MakeupRequest]:
        m = makeup_requests.c
        return await self._all(select(MakeupRequest).where(m.volunteer_id == volunteer_id).order_by(m.id))

    async def pending(self, volunteer_id: int, activity_id: int) -> MakeupRequest | None:
        m = makeup_requests.c
        return await self._one(
            select(MakeupRequest).where(
                m.volunteer_id == volunteer_id, m.activity_id == activity_id, m.status == MakeupStatus.PENDING
            )
        )

    async def pending_for_orgs(self, org_ids: Sequence[int] | None, limit: int) -> list[MakeupRequest]:
        m = makeup_requests.c
        statement = select(MakeupRequest).where(m.status == MakeupStatus.PENDING)
        if org_ids is not None:
            statement = statement.where(m.org_id.in_(list(org_ids)))
        return await self._all(statement.order_by(m.id).limit(limit))

    async def add_photo(self, makeup_id: int, mime: str, data: bytes) -> None:
        await self.session.execute(makeup_photos.insert().values(makeup_id=makeup_id, mime=mime, data=data))

    async def photo(self, makeup_id: int) -> tuple[str, bytes] | None:
        p = makeup_photos.c
        row = (await self.session.execute(select(p.mime, p.data).where(p.makeup_id == makeup_id))).first()
        return (row.mime, bytes(row.data)) if row is not None else None


class CertificateRepository(_Repository[Certificate]):
    model = Certificate

    async def by_number(self, number: str) -> Certificate | None:
        return await self._one(select(Certificate).where(certificates.c.number == number))

    async def for_volunteer(self, volunteer_id: int) -> list[Certificate]:
        c = certificates.c
        return await self._all(select(Certificate).where(c.volunteer_id == volunteer_id).order_by(c.id))


class ActivityReportRepository(_Repository[ActivityReport]):
    model = ActivityReport

    async def for_activity(self, activity_id: int) -> ActivityReport | None:
        return await self._one(select(ActivityReport).where(activity_reports.c.activity_id == activity_id))

    async def unreported(
        self,
        org_ids: Sequence[int] | None,
        ended_before: datetime,
        *,
        ended_after: datetime | None = None,
        limit: int = 100,
    ) -> list[Unreported]:
        a, r = activities.c, activity_reports.c
        statement = select(a.id, a.org_id, a.title, a.ends_at, a.timezone).where(
            a.status.not_in([ActivityStatus.DRAFT, ActivityStatus.CANCELLED]),
            a.ends_at <= ended_before,
            ~exists().where(r.activity_id == a.id),
        )
        if ended_after is not None:
            statement = statement.where(a.ends_at > ended_after)
        if org_ids is not None:
            statement = statement.where(a.org_id.in_(list(org_ids)))
        rows = await self.session.execute(statement.order_by(a.ends_at, a.id).limit(limit))
        return [Unreported(*row) for row in rows.all()]


# ---- star ratings (4-6.2.1, 4-6.3.1): read only, over records, activities, surveys and projects ----


def _service_hours(r: Any) -> Any:
    """Confirmed service hours in tenths, trainings excluded (their hours are training, 2-7.4)."""
    return func.coalesce(func.sum(type_coerce(r.credited_hours, Integer)), 0)


def _tenths(value: Any) -> Decimal:
    return (Decimal(int(value or 0)) / 10).quantize(Decimal("0.1"))


class RatingQueries:
    def __init__(self, session: AsyncSession) -> None:
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
