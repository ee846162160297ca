"""An organization's service records and volunteer list as tables to export, with the data elements of
民函〔2012〕340号《志愿服务记录办法》 (4-5.4: records follow GB/T 42081 and are never disclosed without
consent). Only staff of the org that holds the records export them (谁组织谁记录; staff of a parent org
read, as they read everything below them); phone and ID numbers are masked unless the actor may see them
in full (``access.may_see_private_data``); every export is audited. Plain values here: the file is
rendered by an adapter (``core.ports.Documents.spreadsheet``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.attendance import RecordSource, RecordStatus
from core.domain.identity_numbers import mask_id_number, mask_phone
from core.domain.people import Actor
from core.errors import InvalidInput, NotEligible, NotFound
from core.ports import Cell, Clock, MemberExportRow, RecordExportRow, Sheet, UnitOfWork
from core.services.access import audit, require_staff

PAGE = 2000  # rows per read: an org may hold 100,000 volunteers
ZERO = Decimal("0.0")


class ExportKind(StrEnum):
    RECORDS = "records"
    VOLUNTEERS = "volunteers"


class PeriodName(StrEnum):
    """The periods offered as buttons in chat."""

    THIS_MONTH = "tm"
    LAST_MONTH = "lm"
    THIS_YEAR = "ty"
    ALL = "all"


@dataclass(frozen=True)
class Period:
    """Service dates from ``start`` to ``end``, both included, in the org's time zone; None is open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise InvalidInput("export.period.end_before_start", start=self.start, end=self.end)

    @classmethod
    def named(cls, name: PeriodName, today: date) -> Period:
        first = today.replace(day=1)
        if name is PeriodName.THIS_MONTH:
            return cls(first, _month_end(first))
        if name is PeriodName.LAST_MONTH:
            previous = (first - timedelta(days=1)).replace(day=1)
            return cls(previous, first - timedelta(days=1))
        if name is PeriodName.THIS_YEAR:
            return cls(date(today.year, 1, 1), date(today.year, 12, 31))
        return cls()

    def bounds(self, zone: str) -> tuple[datetime | None, datetime | None]:
        """[since, until) in UTC: from the start of the first day to the start of the day after the last."""
        tz = ZoneInfo(zone)
        since = datetime.combine(self.start, time(), tz).astimezone(UTC) if self.start else None
        until = (
            datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(UTC) if self.end else None
        )
        return since, until

    @property
    def slug(self) -> str:
        """For a file name: ``20261201-20261231``, ``all``."""
        start = f"{self.start:%Y%m%d}" if self.start else ""
        end = f"{self.end:%Y%m%d}" if self.end else ""
        return f"{start}-{end}" if start or end else "all"


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Column:
    key: str  # catalog key of the header
    code: str | None = None  # catalog prefix of the values' labels (a code table), ending in "."


RECORD_COLUMNS = (
    Column("export.col.record_no"),
    Column("export.col.name"),
    Column("export.col.id_type", "export.id_type."),
    Column("export.col.id_number"),
    Column("export.col.phone"),
    Column("export.col.volunteer_number"),
    Column("export.col.registered_on"),
    Column("export.col.activity"),
    Column("export.col.organizer"),
    Column("export.col.service_date"),
    Column("export.col.start_time"),
    Column("export.col.end_time"),
    Column("export.col.onsite_hours"),
    Column("export.col.coefficient"),
    Column("export.col.credited_hours"),
    Column("export.col.record_status", "code.record_status."),
    Column("export.col.source", "export.source."),
    Column("export.col.decided_by"),
    Column("export.col.decided_on"),
    Column("export.col.void_reason"),
)
_ONSITE, _CREDITED = 12, 14

VOLUNTEER_COLUMNS = (
    Column("export.col.volunteer_number"),
    Column("export.col.name"),
    Column("export.col.id_type", "export.id_type."),
    Column("export.col.id_number"),
    Column("export.col.phone"),
    Column("export.col.region"),
    Column("export.col.registered_on"),
    Column("export.col.org"),
    Column("export.col.membership", "code.membership_status."),
    Column("export.col.joined_on"),
    Column("export.col.volunteer_status", "export.volunteer_status."),
    Column("export.col.confirmed_hours"),
)
_HOURS = 11


@dataclass(frozen=True)
class Export:
    """Header keys, rows of plain values (str, Decimal, date) and the totals row, whose first cell is
    left for the label ``totals_key`` (with ``count``)."""

    kind: ExportKind
    org_id: int
    org_name: str
    period: Period
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    totals: tuple[Cell, ...]
    totals_key: str
    counted: int  # rows the totals count: confirmed records, or volunteers
    confirmed_hours: Decimal
    masked: int  # rows whose phone and ID number are masked
    headers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple(c.key for c in self.columns))


async def service_record_rows(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    org_id: int,
    period: Period,
    *,
    limit: int | None = None,
    file_format: str = "",
) -> Export:
    """Every record the org organized in the period, voided ones too with their reason (records are never
    hidden); the totals count confirmed hours only. NotEligible past ``limit`` rows."""
    org_name, zone = await _exported_org(uow, actor, org_id)
    since, until = period.bounds(zone)
    staff_of = sorted(actor.staff_of)
    rows: list[tuple[Cell, ...]] = []
    masked = counted = 0
    onsite = credited = ZERO
    after: tuple[datetime, int] | None = None
    while True:
        page = await uow.records.records_for_export(org_id, since, until, staff_of, after, PAGE)
        for record in page:
            full = _full(actor, record.volunteer_id, record.staff_member)
            masked += not full
            if record.status is RecordStatus.CONFIRMED:
                counted += 1
                onsite += record.onsite_hours
                credited += record.credited_hours
            rows.append(_record_row(record, full))
        _check_limit(len(rows), limit)
        if len(page) < PAGE:
            break
        after = (page[-1].started_at, page[-1].record_id)
    totals: list[Cell] = [None] * len(RECORD_COLUMNS)
    totals[_ONSITE], totals[_CREDITED] = onsite, credited
    await audit(
        uow,
        clock,
        actor,
        "export.records",
        "organization",
        org_id,
        rows=len(rows),
        masked=masked,
        start=period.start,
        end=period.end,
        format=file_format,
    )
    return Export(
        ExportKind.RECORDS,
        org_id,
        org_name,
        period,
        RECORD_COLUMNS,
        rows,
        tuple(totals),
        "export.totals.records",
        counted,
        credited,
        masked,
    )


async def volunteer_rows(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    org_id: int,
    *,
    limit: int | None = None,
    file_format: str = "",
) -> Export:
    """The org's volunteer list: its current members (active, or asking to join), with the hours the org
    confirmed for each. NotEligible past ``limit`` rows."""
    org_name, zone = await _exported_org(uow, actor, org_id)
    staff_of = sorted(actor.staff_of)
    rows: list[tuple[Cell, ...]] = []
    masked = 0
    hours = ZERO
    after = 0
    while True:
        page = await uow.volunteers.members_for_export(org_id, staff_of, after, PAGE)
        for member in page:
            full = _full(actor, member.volunteer_id, member.staff_member)
            masked += not full
            hours += member.confirmed_hours
            rows.append(_member_row(member, org_name, zone, full))
        _check_limit(len(rows), limit)
        if len(page) < PAGE:
            break
        after = page[-1].volunteer_id
    totals: list[Cell] = [None] * len(VOLUNTEER_COLUMNS)
    totals[_HOURS] = hours
    await audit(
        uow,
        clock,
        actor,
        "export.volunteers",
        "organization",
        org_id,
        rows=len(rows),
        masked=masked,
        format=file_format,
    )
    return Export(
        ExportKind.VOLUNTEERS,
        org_id,
        org_name,
        Period(),
        VOLUNTEER_COLUMNS,
        rows,
        tuple(totals),
        "export.totals.volunteers",
        len(rows),
        hours,
        masked,
    )


async def _exported_org(uow: UnitOfWork, actor: Actor, org_id: int) -> tuple[str, str]:
    """The org's name and time zone, once the actor is found to be its staff (or a parent's, who read)."""
    await require_staff(uow, actor, org_id, write=False)
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    return org.name, org.timezone


def _check_limit(rows: int, limit: int | None) -> None:
    if limit is not None and rows > limit:
        raise NotEligible("export.too_many", limit=limit)


def _full(actor: Actor, volunteer_id: int, staff_member: bool) -> bool:
    """``access.may_see_private_data``, decided on what the export read: the volunteer themself, an
    admin, or staff of an org the volunteer belongs to now."""
    return actor.admin or actor.volunteer_id == volunteer_id or staff_member


def _personal(phone: str, id_number: str | None, full: bool) -> tuple[str, str]:
    """The phone and ID number as the actor may see them."""
    if full:
        return phone, id_number or ""
    return mask_phone(phone), mask_id_number(id_number) if id_number else ""


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _record_row(record: RecordExportRow, full: bool) -> tuple[Cell, ...]:
    phone, id_number = _personal(record.phone, record.id_number, full)
    started, ended = _local(record.started_at, record.timezone), _local(record.ended_at, record.timezone)
    end = f"{ended:%H:%M}" if ended.date() == started.date() else f"{ended:%Y-%m-%d %H:%M}"
    decider = record.decider_name or (f"#{record.decided_by}" if record.decided_by else "")
    return (
        record.record_id,
        record.name,
        record.id_type.value if record.id_type else "",
        id_number,
        phone,
        record.volunteer_number or "",
        _local(record.registered_at, record.timezone).date(),
        record.activity_title,
        record.org_name,
        started.date(),
        f"{started:%H:%M}",
        end,
        record.onsite_hours,
        record.coefficient,
        record.credited_hours,
        record.status.value,
        _source(record.source, record.manual),
        decider,
        _local(record.decided_at, record.timezone).date() if record.decided_at else None,
        record.void_reason or "",
    )


def _source(source: RecordSource, manual: bool) -> str:
    """340号: how the hours were established: check-in, entered by staff on site, or a make-up (补录)."""
    if source is RecordSource.MAKEUP:
        return "makeup"
    return "manual" if manual else "checkin"


def _member_row(member: MemberExportRow, org_name: str, zone: str, full: bool) -> tuple[Cell, ...]:
    phone, id_number = _personal(member.phone, member.id_number, full)
    return (
        member.volunteer_number or "",
        member.name,
        member.id_type.value if member.id_type else "",
        id_number,
        phone,
        member.region,
        _local(member.registered_at, zone).date(),
        org_name,
        member.membership.value,
        _local(member.joined_at, zone).date(),
        member.status.value,
        member.confirmed_hours,
    )


def sheet_of(export: Export, t: Callable[..., str]) -> Sheet:
    """The export in the reader's language: headers, code values by their labels, the totals' label."""
    labels: dict[tuple[str, Any], str] = {}

    def label(code: str, value: Any) -> Cell:
        if not value:
            return value
        key = (code, value)
        if key not in labels:
            labels[key] = t(f"{code}{value}")
        return labels[key]

    coded = [(i, c.code) for i, c in enumerate(export.columns) if c.code]
    rows: list[tuple[Cell, ...]] = []
    for row in export.rows:
        cells = list(row)
        for i, code in coded:
            cells[i] = label(code, cells[i])
        rows.append(tuple(cells))
    totals = list(export.totals)
    totals[0] = t(export.totals_key, count=export.counted)
    return Sheet(
        title=t(f"export.title.{export.kind.value}", org=export.org_name),
        headers=tuple(t(key) for key in export.headers),
        rows=rows,
        totals=tuple(totals),
    )
