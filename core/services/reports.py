"""The activity record (活动记录, 3-6.3): filed by staff of the organizing org within 7 days after the
activity, corrected with an audit trail (1-6.5), reminded before the deadline and listed when overdue —
for the org and for the orgs above it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.actions import OpenReport
from core.domain.activity import Activity, ActivityStatus
from core.domain.people import Actor
from core.domain.report import QUALITY_SCALE, REPORT_WITHIN, ActivityReport, report_due
from core.errors import Conflict, InvalidInput, NotEligible, NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork, Unreported
from core.services.access import audit, require_staff
from core.services.notices import local, tell_staff

BENEFICIARIES_MAX = 200
CONTENT_MAX = 1000
NAME_MAX = 100  # leader and recorder: the column's width
SUMMARY_MAX = 2000
BENEFICIARY_COUNT_MAX = 1_000_000
DUE_SOON = timedelta(days=2)  # listed as due soon when the deadline is this close
REMIND_AFTER = timedelta(days=5)  # 3-6.3: the organizer is reminded on day 5, before the deadline
# The job alerts only recent activities: those ended long before (history kept before this feature, or a
# long outage) are listed as overdue, not announced all at once.
ALERT_LOOKBACK = timedelta(days=30)
LIST_LIMIT = 50


@dataclass(frozen=True)
class ReportForm:
    """What staff fill in; name, date and place come from the activity."""

    beneficiaries: str
    beneficiary_count: int
    content: str
    served_from: datetime
    served_until: datetime
    quality: int
    leader: str
    recorder: str
    summary: str = ""


# ---- checks, one per field, so a conversation can refuse an answer as it is given ----------------


def check_text(value: str, max_length: int, key: str, *, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > max_length:
        raise InvalidInput(key, max=max_length)
    return value


def check_beneficiaries(value: str) -> str:
    return check_text(value, BENEFICIARIES_MAX, "report.invalid.beneficiaries")


def check_content(value: str) -> str:
    return check_text(value, CONTENT_MAX, "report.invalid.content")


def check_name(value: str, key: str) -> str:
    return check_text(value, NAME_MAX, key)


def check_summary(value: str) -> str:
    return check_text(value, SUMMARY_MAX, "report.invalid.summary", required=False)


def check_count(value: int) -> int:
    if not 0 <= value <= BENEFICIARY_COUNT_MAX:
        raise InvalidInput("report.invalid.count", max=BENEFICIARY_COUNT_MAX)
    return value


def check_quality(value: int) -> int:
    if value not in QUALITY_SCALE:
        raise InvalidInput("report.invalid.quality", low=QUALITY_SCALE[0], high=QUALITY_SCALE[-1])
    return value


def served_example(activity: Activity) -> str:
    """The planned time as a service time is typed (2026-12-01 09:00 - 11:30): an example that holds
    whenever a record can be filed, the activity having ended."""
    start, end = local(activity.starts_at, activity.timezone), local(activity.ends_at, activity.timezone)
    return f"{start} - {end[11:] if end[:10] == start[:10] else end}"


def overnight_example(activity: Activity) -> str:
    """A time over midnight as it is typed: from 22:00 the night before the planned day, to 01:00."""
    day = activity.starts_at.astimezone(ZoneInfo(activity.timezone)).date()
    return f"{day - timedelta(days=1)} 22:00 - {day} 01:00"


def check_service_time(
    served_from: datetime, served_until: datetime, now: datetime, activity: Activity
) -> None:
    if served_until <= served_from:
        raise InvalidInput("report.invalid.time", example=served_example(activity))
    if served_until > now:
        raise InvalidInput("report.invalid.time_future", now=local(now, activity.timezone))


def checked(form: ReportForm, now: datetime, activity: Activity) -> ReportForm:
    check_service_time(form.served_from, form.served_until, now, activity)
    return replace(
        form,
        beneficiaries=check_beneficiaries(form.beneficiaries),
        beneficiary_count=check_count(form.beneficiary_count),
        content=check_content(form.content),
        quality=check_quality(form.quality),
        leader=check_name(form.leader, "report.invalid.leader"),
        recorder=check_name(form.recorder, "report.invalid.recorder"),
        summary=check_summary(form.summary),
    )


def check_fileable(activity: Activity, now: datetime) -> None:
    """Only an activity that was held and has ended has a record: not a draft, not a cancelled one."""
    if activity.status is ActivityStatus.CANCELLED:
        raise NotEligible("report.cancelled", title=activity.title)
    if activity.status is ActivityStatus.DRAFT:
        raise NotEligible("report.draft", title=activity.title)
    if activity.ends_at > now:
        raise NotEligible(
            "report.not_ended", title=activity.title, end=local(activity.ends_at, activity.timezone)
        )


# ---- filing and correcting -----------------------------------------------------------------------


async def file_report(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, form: ReportForm
) -> ActivityReport:
    """3-6.3: staff of the organizing org file the record once the activity has ended; the activity is
    then recorded (已归档). A record filed after the 7 days is accepted and marked late in the audit."""
    activity = await uow.activities.get_for_update(activity_id)
    if activity is None or activity.id is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    if actor.user_id is None:
        raise PermissionDenied("access.not_staff")
    now = clock.now()
    check_fileable(activity, now)
    if await uow.reports.for_activity(activity.id) is not None:
        raise Conflict("report.exists", title=activity.title)
    form = checked(form, now, activity)
    report = ActivityReport(
        activity_id=activity.id,
        org_id=activity.org_id,
        beneficiaries=form.beneficiaries,
        beneficiary_count=form.beneficiary_count,
        content=form.content,
        served_from=form.served_from,
        served_until=form.served_until,
        quality=form.quality,
        leader=form.leader,
        recorder=form.recorder,
        summary=form.summary,
        filed_by=actor.user_id,
        filed_at=now,
    )
    await uow.reports.add(report)
    activity.status = ActivityStatus.RECORDED
    await audit(
        uow,
        clock,
        actor,
        "report.file",
        "activity_report",
        report.id,
        activity_id=activity.id,
        late=now > report_due(activity),
    )
    # A reminder still waiting would tell staff to file what is filed.
    for notice in await uow.notices.pending_with_prefix(f"report-due:{activity.id}:"):
        notice.withdraw(now)
    return report


async def revise_report(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, form: ReportForm
) -> ActivityReport:
    """Staff of the organizing org correct the record; what it said before is kept in the audit (1-6.5)."""
    found = await uow.reports.for_activity(activity_id)
    report = await uow.reports.get_for_update(found.id) if found is not None and found.id else None
    if report is None:
        raise NotFound("report.not_found")
    await require_staff(uow, actor, report.org_id)
    activity = await uow.activities.read(activity_id)
    if activity is None:
        raise NotFound("activity.not_found")
    now = clock.now()
    form = checked(form, now, activity)
    changed = {
        f.name: getattr(report, f.name)
        for f in fields(ReportForm)
        if getattr(report, f.name) != getattr(form, f.name)
    }
    if not changed:
        raise InvalidInput("report.unchanged")
    for name in changed:
        setattr(report, name, getattr(form, name))
    report.revised_at = now
    await audit(
        uow,
        clock,
        actor,
        "report.revise",
        "activity_report",
        report.id,
        fields=sorted(changed),
        **{f"before_{name}": value for name, value in changed.items()},
    )
    return report


# ---- what is due, for the org and the orgs above it -----------------------------------------------


@dataclass(frozen=True)
class ReportDue:
    """An activity whose record is missing: overdue, or due within DUE_SOON."""

    activity: Unreported
    due_at: datetime
    overdue: bool
    org_name: str


async def report_scope(uow: UnitOfWork, actor: Actor) -> list[int] | None:
    """The orgs whose records the actor sees: their own and every one below (1-6.1); all for an admin."""
    if actor.admin:
        return None
    scope: set[int] = set()
    for org_id in actor.staff_of:
        scope.add(org_id)
        scope.update(await uow.orgs.descendant_ids(org_id))
    return sorted(scope)


async def missing_reports(
    uow: UnitOfWork, clock: Clock, org_ids: Sequence[int] | None, *, limit: int = LIST_LIMIT
) -> list[ReportDue]:
    """Overdue records (ended more than 7 days ago) first, the longest overdue first; then those due
    within 2 days. Ended activities still inside their first 5 days are not listed."""
    now = clock.now()
    found = await uow.reports.unreported(org_ids, now - (REPORT_WITHIN - DUE_SOON), limit=limit)
    names: dict[int, str] = {}
    listed = []
    for item in found:
        if item.org_id not in names:
            names[item.org_id] = await uow.orgs.name_of(item.org_id) or ""
        due = item.ends_at + REPORT_WITHIN
        listed.append(ReportDue(item, due, due < now, names[item.org_id]))
    return listed


async def remind_reports(uow: UnitOfWork, clock: Clock, limit: int = 500) -> int:
    """3-6.3, run daily: from day 5 after the end the organizing org's staff are reminded, and after day 7
    they and the staff of the org above it are told the record is overdue; each once per activity and
    person. Returns how many notices were queued."""
    now = clock.now()
    queued = 0
    for item in await uow.reports.unreported(
        None, now - REMIND_AFTER, ended_after=now - ALERT_LOOKBACK, limit=limit
    ):
        due = item.ends_at + REPORT_WITHIN
        overdue = due < now
        org = await uow.orgs.get(item.org_id)
        if org is None:
            continue
        orgs = [item.org_id] + ([org.parent_id] if overdue and org.parent_id is not None else [])
        event, message = (
            ("report-overdue", "notice.report_overdue") if overdue else ("report-due", "notice.report_due")
        )
        queued += await tell_staff(
            uow,
            clock,
            orgs,
            f"{event}:{item.activity_id}",
            message,
            choices=[("report.button.open", OpenReport(item.activity_id).pack())],
            title=item.title,
            org=org.name,
            end=local(item.ends_at, item.timezone),
            due=local(due, item.timezone),
        )
    return queued
