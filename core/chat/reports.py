"""The activity record in chat (活动记录, 3-6.3): staff of the organizing org file it after the activity,
one question at a time (each answer checked, the schedule and the plan offered as defaults), check it and
submit it; a filed record is shown and can be corrected. The overdue list shows the records missing in
the orgs the staff member manages and the ones below them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.chat.forms import SUMMARY, Data, Form, Step, always, staff_only, written
from core.chat.messages import Button, Choice, Input, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import MissingReports, OpenReport, OrganizerMenu, ReviseReport, StaffCard
from core.domain.activity import Activity
from core.domain.identity_numbers import ascii_form
from core.domain.report import QUALITY_SCALE, ActivityReport, report_due
from core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from core.services.access import require_staff
from core.services.activities import read_activity
from core.services.reports import (
    BENEFICIARIES_MAX,
    BENEFICIARY_COUNT_MAX,
    CONTENT_MAX,
    NAME_MAX,
    SUMMARY_MAX,
    ReportForm,
    check_beneficiaries,
    check_content,
    check_count,
    check_fileable,
    check_name,
    check_quality,
    check_service_time,
    check_summary,
    file_report,
    missing_reports,
    overnight_example,
    report_scope,
    revise_report,
    served_example,
)

router = Router()

REPORT_FORM = "report_form"
PICK = "pick"  # the summary's 修改: which answer to give again
LIST_SHOWN = 20
_SEPARATOR = r"\s*[-–—~至到]\s*"
_CLOCK = r"(\d{1,2}):(\d{2})"
_DAY = r"(\d{4})-(\d{1,2})-(\d{1,2})\s+"
_FULL_SPAN = re.compile(rf"^{_DAY}{_CLOCK}{_SEPARATOR}(?:{_DAY})?{_CLOCK}$")
_SHORT_SPAN = re.compile(rf"^{_CLOCK}{_SEPARATOR}{_CLOCK}$")


def _zone(data: Data) -> ZoneInfo:
    return ZoneInfo(data.get("tz") or "Asia/Shanghai")


def _span_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """09:00–11:00 on one day; both dates when it runs over midnight."""
    start, end = start.astimezone(zone), end.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def _served(data: Data) -> tuple[datetime, datetime]:
    start, end = data["served"]
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


async def _may_file(turn: Turn, org_id: int) -> bool:
    try:
        await require_staff(turn.uow, turn.actor, org_id)
    except PermissionDenied:
        return False
    return True


async def _my_name(turn: Turn) -> str:
    """How the staff member is called: their volunteer name, else the name their app gave."""
    volunteer = await turn.uow.volunteers.by_user(turn.user_id)
    if volunteer is not None and volunteer.name:
        return volunteer.name
    user = await turn.uow.users.get(turn.user_id)
    return user.display_name.strip() if user is not None else ""


async def _context(turn: Turn, activity: Activity) -> Data:
    """What the questions offer as defaults: the schedule, the plan, the staff member's name."""
    return {
        "activity": activity.id,
        "tz": activity.timezone,
        "plan_from": activity.starts_at.isoformat(),
        "plan_until": activity.ends_at.isoformat(),
        "plan_beneficiaries": activity.beneficiaries[:BENEFICIARIES_MAX],
        "plan_content": activity.content[:CONTENT_MAX],
        "me": (await _my_name(turn))[:NAME_MAX],
    }


# ---- the questions ------------------------------------------------------------------------------


def _typed(given: Input) -> str:
    if not isinstance(given, Text) or not given.text.strip() or given.text.strip().startswith("/"):
        raise InvalidInput("chat.org.form.text_required")
    return given.text.strip()


def _pressed(given: Input) -> str:
    return given.payload[2:] if isinstance(given, Button) and given.payload.startswith("f.") else ""


def _asking(
    key: str, default: str = "", button: str = "", **params: Any
) -> Callable[[Turn, Data], Awaitable[None]]:
    """A question answered by typing, with the default (the plan, the staff member) as an option;
    without one (no name known, nothing in the plan), the question that promises none (``key.typed``)."""

    async def ask(turn: Turn, data: Data) -> None:
        value = data.get(default, "") if default else ""
        if not value:
            turn.say(f"{key}.typed" if default else key, **params)
            return
        turn.say(key, Choice(turn.label(button, "text", text=value), "f.default"), **params)

    return ask


def _taking(
    field: str, check: Callable[[str], str], default: str = ""
) -> Callable[[Turn, Input, Data], Awaitable[Data]]:
    async def take(turn: Turn, given: Input, data: Data) -> Data:
        if default and _pressed(given) == "default" and data.get(default):
            return {field: data[default]}
        return {field: check(_typed(given))}

    return take


async def _take_count(turn: Turn, given: Input, data: Data) -> Data:
    text = ascii_form(_typed(given)).removesuffix("人").removesuffix("名").strip()
    if not text.isdigit():
        raise InvalidInput("report.invalid.count", max=BENEFICIARY_COUNT_MAX)
    return {"beneficiary_count": check_count(int(text))}


async def _ask_served(turn: Turn, data: Data) -> None:
    zone = _zone(data)
    start = datetime.fromisoformat(data["plan_from"]).astimezone(zone)
    end = datetime.fromisoformat(data["plan_until"]).astimezone(zone)
    planned = f"{start:%H:%M}–{end:%H:%M}" if start.date() == end.date() else _span_text(start, end, zone)
    # The example is the plan: a time already past, whatever day the record is filed.
    activity = await read_activity(turn.uow, int(data["activity"]))
    turn.say(
        "report.ask.served",
        turn.choice("report.button.plan_time", "f.plan", time=planned),
        example=served_example(activity),
    )


async def _take_served(turn: Turn, given: Input, data: Data) -> Data:
    zone = _zone(data)
    activity = await read_activity(turn.uow, int(data["activity"]))
    if _pressed(given) == "plan":
        start, end = datetime.fromisoformat(data["plan_from"]), datetime.fromisoformat(data["plan_until"])
    else:
        text = ascii_form(_typed(given))
        try:
            start, end = _parse_span(text, zone, datetime.fromisoformat(data["plan_from"]))
        except ValueError:
            raise InvalidInput(
                "report.form.time_format",
                example=served_example(activity),
                overnight=overnight_example(activity),
            ) from None
    check_service_time(start, end, turn.clock.now(), activity)
    return {"served": [start.isoformat(), end.isoformat()]}


def _parse_span(text: str, zone: ZoneInfo, planned_start: datetime) -> tuple[datetime, datetime]:
    """2026-12-01 09:00 - 11:30, 2026-12-01 22:00 - 2026-12-02 01:00, or 09:00-11:30 on the day it was held;
    ValueError for anything else (another form, a day or hour that does not exist)."""
    if found := _FULL_SPAN.match(text):
        y, mo, d, h1, m1, y2, mo2, d2, h2, m2 = found.groups()
        start = datetime(int(y), int(mo), int(d), int(h1), int(m1), tzinfo=zone)
        day = (int(y2), int(mo2), int(d2)) if y2 else (start.year, start.month, start.day)
        return start, datetime(*day, int(h2), int(m2), tzinfo=zone)
    if found := _SHORT_SPAN.match(text):
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        held = planned_start.astimezone(zone)
        return (
            datetime(held.year, held.month, held.day, h1, m1, tzinfo=zone),
            datetime(held.year, held.month, held.day, h2, m2, tzinfo=zone),
        )
    raise ValueError(text)


async def _ask_quality(turn: Turn, data: Data) -> None:
    # 1 to 5 in order, so that the number of an option is its score on a channel of numbered options.
    choices = [turn.choice(f"report.quality.{n}", f"f.{n}") for n in QUALITY_SCALE]
    turn.say("report.ask.quality", *choices)


async def _take_quality(turn: Turn, given: Input, data: Data) -> Data:
    value = _pressed(given) or (ascii_form(given.text).strip() if isinstance(given, Text) else "")
    if not value.isdigit():
        raise InvalidInput("report.invalid.quality", low=QUALITY_SCALE[0], high=QUALITY_SCALE[-1])
    return {"quality": check_quality(int(value))}


async def _ask_summary(turn: Turn, data: Data) -> None:
    turn.say("report.ask.summary", turn.choice("report.button.none", "f.none"), max=SUMMARY_MAX)


async def _take_summary(turn: Turn, given: Input, data: Data) -> Data:
    if _pressed(given) == "none":
        return {"summary_text": ""}
    return {"summary_text": check_summary(_typed(given))}


STEPS: tuple[Step, ...] = (
    Step(
        "beneficiaries",
        always,
        _asking(
            "report.ask.beneficiaries", "plan_beneficiaries", "report.button.plan_text", max=BENEFICIARIES_MAX
        ),
        _taking("beneficiaries", check_beneficiaries, "plan_beneficiaries"),
    ),
    # No option here: on a channel of numbered options a typed number must stay an answer.
    Step("beneficiary_count", always, _asking("report.ask.count"), _take_count),
    Step(
        "content",
        always,
        _asking("report.ask.content", "plan_content", "report.button.plan_text", max=CONTENT_MAX),
        _taking("content", check_content, "plan_content"),
    ),
    Step("served", always, _ask_served, _take_served),
    Step("quality", always, _ask_quality, _take_quality),
    Step(
        "leader",
        always,
        _asking("report.ask.leader", "me", "report.button.me"),
        _taking("leader", lambda v: check_name(v, "report.invalid.leader"), "me"),
    ),
    Step(
        "recorder",
        always,
        _asking("report.ask.recorder", "me", "report.button.me"),
        _taking("recorder", lambda v: check_name(v, "report.invalid.recorder"), "me"),
    ),
    # Not named "summary": that is the name of the form's last step, the answers to check.
    Step("summary_text", always, _ask_summary, _take_summary),
)
FORM = Form(REPORT_FORM, STEPS)


# ---- filing: open, answer, check, submit ---------------------------------------------------------


@router.button(OpenReport)
async def open_report(turn: Turn, pressed: OpenReport) -> None:
    """活动记录 of an activity: the record when filed; else the form for its staff, and for the staff
    of an org above it, what is missing and by when."""
    activity = await read_activity(turn.uow, pressed.activity_id)
    assert activity.id is not None
    await require_staff(turn.uow, turn.actor, activity.org_id, write=False)
    turn.state.clear()
    report = await turn.uow.reports.for_activity(activity.id)
    if report is not None:
        await _show(turn, activity, report)
        return
    if not await _may_file(turn, activity.org_id):
        turn.say(
            "report.not_filed_yet",
            turn.choice("report.menu.overdue", MissingReports()),
            title=activity.title,
            org=await turn.uow.orgs.name_of(activity.org_id) or "",
            due=turn.local_time(report_due(activity), activity.timezone),
        )
        return
    check_fileable(activity, turn.clock.now())
    overdue = report_due(activity) < turn.clock.now()  # 3-6.3: due 7 days after the end
    turn.say(
        "report.intro_overdue" if overdue else "report.intro",
        count=FORM.count({}),
        title=activity.title,
        due=turn.local_time(report_due(activity), activity.timezone),
    )
    await FORM.proceed(turn, {**await _context(turn, activity), "mode": "file"})


@router.button(ReviseReport)
async def start_revision(turn: Turn, pressed: ReviseReport) -> None:
    """修改 on a filed record: the answers as they stand, then which one to give again."""
    activity = await read_activity(turn.uow, pressed.activity_id)
    assert activity.id is not None
    report = await turn.uow.reports.for_activity(activity.id)
    if report is None:
        raise NotFound("report.not_found")
    await require_staff(turn.uow, turn.actor, report.org_id)
    data = {**await _context(turn, activity), **_answers(report), "mode": "revise"}
    turn.state.start(REPORT_FORM, PICK, **data)
    _ask_pick(turn)


def _answers(report: ActivityReport) -> Data:
    return {
        "beneficiaries": report.beneficiaries,
        "beneficiary_count": report.beneficiary_count,
        "content": report.content,
        "served": [report.served_from.isoformat(), report.served_until.isoformat()],
        "quality": report.quality,
        "leader": report.leader,
        "recorder": report.recorder,
        "summary_text": report.summary,
    }


@router.flow(REPORT_FORM)
async def report_step(turn: Turn, given: Input) -> None:
    data = dict(turn.state.data)
    if turn.state.step == SUMMARY:
        await _finish(turn, given, data)
        return
    if turn.state.step == PICK:
        await _pick(turn, given, data)
        return
    answered = await FORM.answer(turn, given)
    if answered is not None and await FORM.proceed(turn, answered):
        await _summary(turn, answered)


def _body(turn: Turn, activity: Activity, data: Data) -> str:
    zone = ZoneInfo(activity.timezone)
    start, end = _served(data)
    return turn.t(
        "report.body",
        date=turn.local_time(activity.starts_at, activity.timezone)[:10],
        place=activity.place_name or activity.online_url or "-",
        beneficiaries=data["beneficiaries"],
        count=data["beneficiary_count"],
        content=data["content"],
        time=_span_text(start, end, zone),
        quality=turn.t(f"report.quality.{data['quality']}"),
        leader=data["leader"],
        recorder=data["recorder"],
        summary=data["summary_text"] or "-",
    )


def _summary_choices(turn: Turn, data: Data) -> list[Choice]:
    submit = "report.button.submit_revision" if data.get("mode") == "revise" else "report.button.submit"
    return [
        turn.choice(submit, "f.submit"),
        turn.choice("report.button.edit", "f.edit"),
        turn.choice("chat.button.cancel", "f.cancel"),
    ]


async def _summary(turn: Turn, data: Data) -> None:
    activity = await read_activity(turn.uow, int(data["activity"]))
    text = turn.t("report.summary", title=activity.title) + "\n" + _body(turn, activity, data)
    turn.say_text(text, *_summary_choices(turn, data), columns=3)


def _picked(given: Input, options: list[Choice]) -> str:
    """The option's value, pressed or typed out as its label."""
    if isinstance(given, Text):
        given = written(options, given.text) or given
    return _pressed(given)


async def _finish(turn: Turn, given: Input, data: Data) -> None:
    choice = _picked(given, _summary_choices(turn, data))
    activity_id = int(data["activity"])
    if choice == "cancel":
        turn.state.clear()
        turn.say("report.dropped", *_onward(turn, activity_id))
        return
    if choice == "edit":
        turn.state.go(PICK)
        _ask_pick(turn)
        return
    if choice != "submit":
        turn.say("chat.reg.pick_button")
        await _summary(turn, data)
        return
    start, end = _served(data)
    form = ReportForm(
        beneficiaries=data["beneficiaries"],
        beneficiary_count=int(data["beneficiary_count"]),
        content=data["content"],
        served_from=start,
        served_until=end,
        quality=int(data["quality"]),
        leader=data["leader"],
        recorder=data["recorder"],
        summary=data["summary_text"],
    )
    revising = data.get("mode") == "revise"
    try:
        if revising:
            report = await revise_report(turn.uow, turn.clock, turn.actor, activity_id, form)
        else:
            report = await file_report(turn.uow, turn.clock, turn.actor, activity_id, form)
    except InvalidInput as error:
        # Checked before anything is written: the answers stay, to change what was refused.
        turn.refuse(error)
        await _summary(turn, data)
        return
    except DomainError as error:
        # Filed by someone else meanwhile, or no longer allowed: nothing was written.
        turn.state.clear()
        turn.refuse(error, turn.choice("report.button.open", OpenReport(activity_id)))
        return
    turn.state.clear()
    activity = await read_activity(turn.uow, activity_id)
    turn.say("report.revised" if revising else "report.filed", title=activity.title)
    await _show(turn, activity, report)


def _ask_pick(turn: Turn) -> None:
    choices = [turn.choice(f"report.field.{step.name}", f"f.fld.{step.name}") for step in STEPS]
    turn.say("report.edit.pick", *choices, turn.choice("report.button.back", "f.back"), columns=2)


async def _pick(turn: Turn, given: Input, data: Data) -> None:
    options = [turn.choice(f"report.field.{step.name}", f"f.fld.{step.name}") for step in STEPS]
    picked = _picked(given, [*options, turn.choice("report.button.back", "f.back")])
    if picked == "back":
        turn.state.go(SUMMARY)
        await _summary(turn, data)
        return
    name = picked.removeprefix("fld.")
    if not picked.startswith("fld.") or name not in FORM.by_name:
        turn.say("chat.reg.pick_button")
        _ask_pick(turn)
        return
    data.pop(name, None)
    await FORM.proceed(turn, data, only=(name,))


def _onward(turn: Turn, activity_id: int) -> tuple[Choice, Choice]:
    return turn.choice("chat.org.view", StaffCard(activity_id)), turn.choice(
        "chat.org.menu_button", OrganizerMenu()
    )


async def _show(turn: Turn, activity: Activity, report: ActivityReport) -> None:
    revised = (
        turn.t("report.card.revised", at=turn.local_time(report.revised_at, activity.timezone))
        if report.revised_at
        else ""
    )
    text = "\n".join(
        (
            turn.t("report.card", title=activity.title),
            _body(turn, activity, _answers(report)),
            turn.t(
                "report.card.filed", at=turn.local_time(report.filed_at, activity.timezone), revised=revised
            ),
        )
    )
    choices: list[Choice] = []
    if await _may_file(turn, report.org_id):
        choices += [
            turn.choice("report.button.edit", ReviseReport(activity.id or 0)),
            turn.choice("chat.org.view", StaffCard(activity.id or 0)),
        ]
    choices += [
        turn.choice("report.menu.overdue", MissingReports()),
        turn.choice("chat.org.menu_button", OrganizerMenu()),
    ]
    turn.say_text(text, *choices, columns=2)


# ---- the list of missing records ---------------------------------------------------------------


@router.command("records", button=MissingReports)
@staff_only
async def list_missing(turn: Turn, _: str = "") -> None:
    """逾期记录: overdue records and those due within 2 days, in the orgs the staff member manages and
    the ones below them (a parent org sees its teams'), each to open."""
    items = await missing_reports(turn.uow, turn.clock, await report_scope(turn.uow, turn.actor))
    if not items:
        turn.say("report.list.none", turn.choice("chat.org.menu_button", OrganizerMenu()))
        return
    now = turn.clock.now()
    overdue = sum(1 for item in items if item.overdue)
    lines = [turn.t("report.list.title", overdue=overdue, soon=len(items) - overdue)]
    choices = []
    for n, item in enumerate(items[:LIST_SHOWN], 1):
        activity = item.activity
        if item.overdue:
            days = -((item.due_at - now) // timedelta(days=1))  # started days, rounded up
            line = turn.t(
                "report.list.overdue",
                n=n,
                title=activity.title,
                org=item.org_name,
                end=turn.local_time(activity.ends_at, activity.timezone)[:10],
                days=days,
            )
        else:
            line = turn.t(
                "report.list.soon",
                n=n,
                title=activity.title,
                org=item.org_name,
                due=turn.local_time(item.due_at, activity.timezone),
            )
        lines.append(line)
        # The label numbers nothing: a channel of numbered options numbers it; the day tells repeats apart.
        when = turn.local_time(activity.ends_at, activity.timezone)[5:10]
        choices.append(
            Choice(
                turn.label("report.list.item", "title", when=when, title=activity.title),
                OpenReport(activity.activity_id).pack(),
            )
        )
    if len(items) > LIST_SHOWN:
        lines.append(turn.t("report.list.more", count=len(items) - LIST_SHOWN))
    turn.say_text("\n".join(lines), *choices, turn.choice("chat.org.menu_button", OrganizerMenu()))
