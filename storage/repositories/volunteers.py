"""Volunteers and their memberships of organizations."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, bindparam, exists, false, func, select, type_coerce

from core.domain.attendance import RecordStatus
from core.domain.signup import LIVE
from core.domain.volunteer import CURRENT_MEMBERSHIP, Membership, MembershipStatus, Volunteer, VolunteerStatus
from core.ports import MemberExportRow, Recruit
from storage.prepared import Prepared
from storage.repositories.base import _Repository
from storage.tables import activities, memberships, service_records, signups, users, volunteers

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
