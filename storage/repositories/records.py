"""Records of service (never deleted, 4-5.4): attendance, service hours, makeup requests,
certificates and activity reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, and_, exists, func, or_, select, type_coerce

from core.domain.activity import ActivityStatus
from core.domain.attendance import Attendance, MakeupRequest, MakeupStatus, RecordStatus, ServiceRecord
from core.domain.certificate import Certificate
from core.domain.report import ActivityReport
from core.domain.signup import SignupStatus
from core.ports import Attendable, RecordExportRow, Unreported
from storage.repositories.base import _chunks, _Repository
from storage.repositories.volunteers import _staff_member
from storage.tables import (
    activities,
    activity_reports,
    attendances,
    certificates,
    makeup_photos,
    makeup_requests,
    organizations,
    service_records,
    signups,
    users,
    volunteers,
)


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
            select(s.id, a.id, a.title, a.starts_at, a.ends_at, a.timezone)
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
