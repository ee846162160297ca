"""3-8.2, 1-6.1.1: the statistics report in chat (统计报告, /report). Staff pick the org (when they serve
several) and a period: this month, last month, this year, a typed range, or one of the org's recent
activities; the report comes as text, with charts where a picture reads better (hours per month, the
distribution of ratings), and as an XLSX file on request. The answers travel in the buttons' payloads
(``st:o3.tm``, ``st:a12``, ``stx:o3.p20260101.20260331``), so only the typed range waits in the dialog.
Not to be confused with core/chat/reports.py, the activity record of 3-6.3."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.chat.forms import refuse_not_staff, staff_only
from core.chat.messages import Choice, Document, Image, Input, Text, typed_id
from core.chat.router import Router
from core.chat.turn import LABEL_LIMIT, Turn
from core.domain.actions import (
    ActivityStatistics,
    ActivityStatisticsFile,
    Menu,
    OrgStatistics,
    OrgStatisticsFile,
    Statistics,
)
from core.domain.organization import Organization, OrgStatus
from core.domain.survey import RATING_MAX, RATING_MIN, SurveyKind
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.ports import ActivityQuery, BarChart, Cell, Sheet
from core.services.exports import Period, PeriodName
from core.services.statistics import (
    HELD,
    IMPROVE_BELOW,
    ActivityLine,
    Report,
    activity_report,
    parse_range,
    period_report,
)

router = Router()

STATS_RANGE = "statistics_range"
ORG_BUTTONS = 30
RECENT_ACTIVITIES = 10
ACTIVITY_LINES = 10  # listed in the chat text; the XLSX holds them all
NAMED = (PeriodName.THIS_MONTH, PeriodName.LAST_MONTH, PeriodName.THIS_YEAR)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RANGE = re.compile(r"p([0-9]{8})\.([0-9]{8})")  # a period in a payload: p20260101.20260331


def _menu(turn: Turn) -> Choice:
    return turn.choice("chat.button.menu", Menu())


async def report_orgs(turn: Turn) -> list[Organization]:
    """The orgs whose report the actor reads: their own (each with the orgs below it rolled up); the
    top-level ones for an admin."""
    orgs = [o for o in await turn.uow.orgs.list() if o.status in (OrgStatus.APPROVED, OrgStatus.DEACTIVATED)]
    if turn.actor.admin:
        return [o for o in orgs if o.parent_id is None]
    return [o for o in orgs if o.id in turn.actor.staff_of]


@router.command("report")
async def report_command(turn: Turn, arg: str) -> None:
    """/report, or /report act-12 for one activity."""
    kind, _, ident = arg.strip().partition("-")
    activity_id = typed_id(ident) if kind == "act" else None
    if activity_id is not None:
        await show_activity(turn, ActivityStatistics(activity_id))
        return
    await show(turn)


@router.command(button=Statistics)
@staff_only
async def show(turn: Turn, _: str = "") -> None:
    """``st``, /report: which org's report, or the periods of the only one."""
    orgs = await report_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
    elif len(orgs) == 1:
        _ask_period(turn, orgs[0], several=False)
    else:
        _ask_org(turn, orgs)


@router.button(ActivityStatistics)
@staff_only
async def show_activity(turn: Turn, action: ActivityStatistics) -> None:
    report = await activity_report(turn.uow, turn.clock, turn.actor, action.activity_id)
    await _send(turn, report, ActivityStatisticsFile(action.activity_id))


@router.button(OrgStatistics)
@staff_only
async def show_org(turn: Turn, action: OrgStatistics) -> None:
    """``st:o3`` asks for the period; ``st:o3.r`` for a typed range, ``st:o3.a`` for an activity; a
    named period or a range (``st:o3.tm``, ``st:o3.p20260101.20260331``) is the report."""
    orgs = await report_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    org = _picked(orgs, action.org_id)
    if org is None or org.id is None:  # an org not theirs (a forged or old payload)
        raise PermissionDenied("access.not_staff")
    if action.period == "r":
        turn.state.start(STATS_RANGE, "range", org=org.id)
        turn.say("statistics.ask_range", _back(turn, org.id), _menu(turn))
        return
    if action.period == "a":
        await _ask_activity(turn, org)
        return
    period = _period(turn, org, action.period or "")
    if period is None:
        _ask_period(turn, org, several=len(orgs) > 1)
        return
    report = await period_report(turn.uow, turn.clock, turn.actor, org.id, period)
    await _send(turn, report, OrgStatisticsFile(org.id, _code(period)))


def _picked(orgs: list[Organization], org_id: int) -> Organization | None:
    return next((o for o in orgs if o.id == org_id), None)


def _back(turn: Turn, org_id: int) -> Choice:
    """Back to the periods of the org's report."""
    return turn.choice("statistics.button.back", OrgStatistics(org_id))


def _period(turn: Turn, org: Organization, given: str) -> Period | None:
    named = next((name for name in NAMED if name.value == given), None)
    if named is not None:
        today = turn.clock.now().astimezone(ZoneInfo(org.timezone)).date()
        return Period.named(named, today)
    if written := _RANGE.fullmatch(given):
        try:
            start, end = _day(written[1]), _day(written[2])
        except ValueError:
            return None
        return Period(start, end) if start <= end else None
    return None


def _day(digits: str) -> date:
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _code(period: Period) -> str:
    """The period in a payload: ``p20260101.20260331`` (17 characters, within the 64 bytes)."""
    assert period.start is not None and period.end is not None
    return f"p{period.start:%Y%m%d}.{period.end:%Y%m%d}"


def _ask_org(turn: Turn, orgs: list[Organization]) -> None:
    choices = [Choice(o.name[:LABEL_LIMIT], OrgStatistics(o.id or 0).pack()) for o in orgs[:ORG_BUTTONS]]
    turn.say("statistics.ask_org", *choices, _menu(turn))


def _ask_period(turn: Turn, org: Organization, *, several: bool) -> None:
    org_id = org.id or 0
    choices = [
        turn.choice(f"export.period.{name.value}", OrgStatistics(org_id, name.value)) for name in NAMED
    ]
    choices += [
        turn.choice("statistics.button.range", OrgStatistics(org_id, "r")),
        turn.choice("statistics.button.activity", OrgStatistics(org_id, "a")),
    ]
    if several:
        choices.append(turn.choice("statistics.button.other_org", Statistics()))
    turn.say("statistics.ask_period", *choices, _menu(turn), columns=2, org=org.name)


async def _ask_activity(turn: Turn, org: Organization) -> None:
    """The org's (and those below it) latest activities that have started, newest first."""
    assert org.id is not None
    org_ids = (org.id, *await turn.uow.orgs.descendant_ids(org.id))
    held = await turn.uow.activities.search(
        ActivityQuery(statuses=HELD, org_ids=org_ids, starts_before=turn.clock.now(), limit=1000)
    )
    latest = [a for a in reversed(held) if a.training_kind is None][:RECENT_ACTIVITIES]
    back = _back(turn, org.id)
    if not latest:
        turn.say("statistics.no_activities", back, org=org.name)
        return
    choices = [
        Choice(
            turn.label(
                "statistics.activity_item",
                "title",
                date=turn.local_time(a.starts_at, a.timezone)[:10],
                title=a.title,
            ),
            ActivityStatistics(a.id or 0).pack(),
        )
        for a in latest
    ]
    turn.say("statistics.ask_activity", *choices, back, org=org.name)


@router.flow(STATS_RANGE)
async def range_step(turn: Turn, given: Input) -> None:
    org_id = int(turn.state.data.get("org", 0))
    back = _back(turn, org_id)
    if not turn.still_asked(back.payload, Menu().pack()):
        return
    try:
        period = parse_range(given.text if isinstance(given, Text) else "")
    except InvalidInput as error:
        # Why, and the question again with its example; the dialog stays at this step.
        turn.refuse(error)
        turn.say("statistics.ask_range", back, _menu(turn))
        return
    turn.state.clear()
    await show_org(turn, OrgStatistics(org_id, _code(period)))


# ---- the report: text, charts and the spreadsheet ----------------------------------------------


async def _send(turn: Turn, report: Report, file: ActivityStatisticsFile | OrgStatisticsFile) -> None:
    turn.say_text(_text(turn, report), *_after(turn, report, file), columns=2)
    if turn.charts is None:
        return
    if len(report.monthly_hours) > 1 and any(hours for _, hours in report.monthly_hours):
        chart = BarChart(
            title=turn.t("statistics.chart.hours", name=report.name),
            labels=tuple(
                turn.t("statistics.chart.month", year=m.year, month=m.month) for m, _ in report.monthly_hours
            ),
            values=tuple(float(hours) for _, hours in report.monthly_hours),
            y_label=turn.t("statistics.chart.hours_axis"),
        )
        turn.replies.append(Image(turn.charts.bar_chart(chart), "monthly-hours.png", chart.title))
    if any(report.distribution):
        chart = BarChart(
            title=turn.t("statistics.chart.distribution", name=report.name),
            labels=tuple(
                turn.t("statistics.chart.rating", rating=r) for r in range(RATING_MIN, RATING_MAX + 1)
            ),
            values=tuple(float(count) for count in report.distribution),
            y_label=turn.t("statistics.chart.count_axis"),
        )
        turn.replies.append(Image(turn.charts.bar_chart(chart), "rating-distribution.png", chart.title))


def _after(turn: Turn, report: Report, file: ActivityStatisticsFile | OrgStatisticsFile) -> list[Choice]:
    choices = [turn.choice("statistics.button.xlsx", file)]
    if report.activity_id is None:
        choices.append(turn.choice("statistics.button.other_period", OrgStatistics(report.org_id)))
    else:
        choices.append(turn.choice("statistics.button.period", Statistics()))
    choices.append(_menu(turn))
    return choices


def _period_text(turn: Turn, report: Report) -> str:
    period = report.period
    if period is None or period.start is None or period.end is None:
        return ""
    return turn.t("export.period.range", start=period.start, end=period.end)


def _average(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _text(turn: Turn, report: Report) -> str:
    t = turn.t
    if report.activity_id is None:
        lines = [t("statistics.title.period", name=report.name, period=_period_text(turn, report))]
        lines.append(t("statistics.activities", count=len(report.activities)))
        if report.truncated:
            lines.append(t("statistics.truncated", count=len(report.activities)))
    else:
        lines = [t("statistics.title.activity", name=report.name, number=report.activity_id)]
    lines.extend(_attendance(turn, report))
    lines.append(t("statistics.hours", hours=report.hours))
    for kind in SurveyKind:
        questions = [q for q in report.questions if q.kind is kind]
        kind_name = t(f"chat.survey.kind.{kind.value}")
        if not questions:
            lines.append(t("statistics.survey_none", kind=kind_name))
            continue
        lines.append(t("statistics.survey", kind=kind_name, count=report.responses[kind]))
        lines.extend(
            t(
                "statistics.question",
                question=t(f"chat.survey.label.{q.question}"),
                average=_average(q.average),
            )
            for q in questions
        )
    if any(report.distribution):
        lines.append(
            t(
                "statistics.distribution",
                counts=turn.join(
                    t("statistics.distribution_item", rating=rating, count=report.distribution[rating - 1])
                    for rating in range(RATING_MAX, RATING_MIN - 1, -1)
                ),
            )
        )
    c = report.complaints
    lines.append(
        t("statistics.complaints", total=c.total, answered=c.answered, open=c.open, escalated=c.escalated)
        if c.total
        else t("statistics.complaints_none")
    )
    lines.append(t("statistics.improve.title"))
    if not report.answered:
        # 3-8.2: the opinions come from the surveys' statistics; with no answer there is nothing to judge.
        lines.append(
            t("statistics.improve.no_answers", button=t("matching.button.survey"), limit=IMPROVE_BELOW)
        )
    elif report.improvements:
        lines.extend(
            t(
                "statistics.improve.low",
                question=t(f"chat.survey.label.{q.question}"),
                average=_average(q.average),
                limit=IMPROVE_BELOW,
            )
            for q in report.improvements
        )
    else:
        lines.append(t("statistics.improve.none", limit=IMPROVE_BELOW))
    lines.extend(t("statistics.improve.comment", comment=comment) for comment in report.comments)
    if report.activity_id is None and report.activities:
        lines.append(t("statistics.by_activity"))
        lines.extend(_activity_line(turn, a) for a in report.activities[:ACTIVITY_LINES])
        if len(report.activities) > ACTIVITY_LINES:
            lines.append(t("statistics.more_in_file", count=len(report.activities) - ACTIVITY_LINES))
    return "\n".join(lines)


def _rate(rate: float) -> str:
    return f"{rate * 100:.0f}"


def _attendance(turn: Turn, report: Report) -> list[str]:
    """Sign-ups and attendance; the rate over the ended activities only, saying so when some have not."""
    t = turn.t
    rate = report.attendance_rate
    if not report.not_ended:
        return [
            t(
                "statistics.attendance",
                signups=report.signups,
                attended=report.attended,
                rate="-" if rate is None else _rate(rate),
            )
        ]
    counts = t("statistics.attendance_counts", signups=report.signups, attended=report.attended)
    if not report.ended:
        pending = "activity" if report.activity_id is not None else "period"
        return [counts, t(f"statistics.attendance_rate.not_ended.{pending}")]
    basis = t(
        "statistics.attendance_rate.ended",
        rate="-" if rate is None else _rate(rate),
        ended=len(report.ended),
        signups=report.ended_signups,
        attended=report.ended_attended,
        pending=report.not_ended,
    )
    return [counts, basis]


def _activity_line(turn: Turn, line: ActivityLine) -> str:
    date = turn.local_time(line.starts_at, line.timezone)[5:10]
    said = {"number": line.activity_id, "date": date, "title": line.title, "signups": line.signups}
    if not line.ended:  # no attendance yet: its sign-ups are not absences
        return turn.t("statistics.activity_line.not_ended", **said)
    return turn.t(
        "statistics.activity_line",
        **said,
        attended=line.attended,
        hours=line.hours,
        satisfaction=_average(line.satisfaction),
    )


@router.button(ActivityStatisticsFile)
@staff_only
async def send_activity_xlsx(turn: Turn, action: ActivityStatisticsFile) -> None:
    """``stx:a12``: the activity's report as an XLSX file."""
    report = await activity_report(turn.uow, turn.clock, turn.actor, action.activity_id)
    _send_file(turn, report, f"report-activity-{action.activity_id}.xlsx")


@router.button(OrgStatisticsFile)
@staff_only
async def send_org_xlsx(turn: Turn, action: OrgStatisticsFile) -> None:
    """``stx:o3.<period>``: the org's report of the period as an XLSX file."""
    orgs = await report_orgs(turn)
    org = _picked(orgs, action.org_id)
    if org is None or org.id is None:
        raise NotFound("org.not_found")
    period = _period(turn, org, action.period)
    if period is None:
        _ask_period(turn, org, several=len(orgs) > 1)
        return
    report = await period_report(turn.uow, turn.clock, turn.actor, org.id, period)
    _send_file(turn, report, f"report-{org.id}-{period.slug}.xlsx")


def _send_file(turn: Turn, report: Report, filename: str) -> None:
    again = turn.choice("statistics.button.period", Statistics())
    if turn.documents is None:
        turn.say("export.unavailable", again, _menu(turn))
        return
    data = turn.documents.workbook(sheets(turn, report))
    caption = turn.t("statistics.file_caption", name=report.name)
    turn.replies.append(Document(data, filename, caption, XLSX_MIME))
    turn.say("statistics.file_sent", again, _menu(turn))


def _places(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def sheets(turn: Turn, report: Report) -> list[Sheet]:
    """The report's tables in the reader's language: summary, ratings, activities, months."""
    t = turn.t
    c = report.complaints
    rate = report.attendance_rate
    summary: list[tuple[Cell, ...]] = [
        (t("statistics.col.scope"), report.name),
        (t("statistics.col.period"), _period_text(turn, report) or f"#{report.activity_id}"),
        (t("statistics.col.activities"), len(report.activities)),
        (t("statistics.col.signups"), report.signups),
        (t("statistics.col.attended"), report.attended),
        # The rate's basis, as the chat text says it: the activities ended when the report was made.
        (t("statistics.col.ended"), len(report.ended)),
        (t("statistics.col.ended_signups"), report.ended_signups),
        (t("statistics.col.ended_attended"), report.ended_attended),
        (t("statistics.col.rate"), None if rate is None else _places(rate * 100)),
        (t("statistics.col.as_of"), turn.local_time(report.as_of)),
        (t("statistics.col.hours"), report.hours),
        (t("statistics.col.complaints"), c.total),
        (t("statistics.col.answered"), c.answered),
        (t("statistics.col.open"), c.open),
        (t("statistics.col.escalated"), c.escalated),
    ]
    if not report.answered:
        summary.append((t("statistics.col.improve"), t("statistics.improve.no_answers_cell")))
    summary += [
        (t("statistics.col.improve"), t(f"chat.survey.label.{q.question}")) for q in report.improvements
    ]
    summary += [(t("statistics.col.comment"), comment) for comment in report.comments]
    ratings: list[tuple[Cell, ...]] = [
        (
            t(f"chat.survey.kind.{q.kind.value}"),
            t(f"chat.survey.label.{q.question}"),
            q.count,
            _places(q.average),
        )
        for q in report.questions
    ]
    distribution: list[tuple[Cell, ...]] = [
        (rating, report.distribution[rating - 1]) for rating in range(RATING_MIN, RATING_MAX + 1)
    ]
    activities: list[tuple[Cell, ...]] = [
        (
            a.activity_id,
            a.title,
            date.fromisoformat(turn.local_time(a.starts_at, a.timezone)[:10]),
            t("statistics.ended.yes" if a.ended else "statistics.ended.no"),
            a.signups,
            a.attended,
            a.hours,
            _places(a.satisfaction),
            a.responses,
        )
        for a in report.activities
    ]
    tables = [
        Sheet(t("statistics.sheet.summary"), (t("statistics.col.item"), t("statistics.col.value")), summary),
        Sheet(
            t("statistics.sheet.ratings"),
            (
                t("statistics.col.survey"),
                t("statistics.col.question"),
                t("statistics.col.count"),
                t("statistics.col.average"),
            ),
            ratings,
        ),
        Sheet(
            t("statistics.sheet.distribution"),
            (t("statistics.col.rating"), t("statistics.col.count")),
            distribution,
        ),
        Sheet(
            t("statistics.sheet.activities"),
            (
                t("statistics.col.number"),
                t("statistics.col.activity"),
                t("statistics.col.date"),
                t("statistics.col.ended_state"),
                t("statistics.col.signups"),
                t("statistics.col.attended"),
                t("statistics.col.hours"),
                t("statistics.col.satisfaction"),
                t("statistics.col.responses"),
            ),
            activities,
            totals=(
                t("statistics.col.total"),
                None,
                None,
                None,
                report.signups,
                report.attended,
                report.hours,
                None,
                None,
            ),
        ),
    ]
    if report.monthly_hours:
        tables.append(
            Sheet(
                t("statistics.sheet.months"),
                (t("statistics.col.month"), t("statistics.col.hours")),
                [(f"{m:%Y-%m}", hours) for m, hours in report.monthly_hours],
            )
        )
    return tables
