"""The organizer's side in chat: publish an activity step by step (3-6.1.5) or from a filled-in
template (activity_template.py), see sign-ups and the waitlist, mark attendance by hand (2-7.5.2),
export the list, cancel with a reason (volunteers are told)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.chat.deep_links import link_of, may_share
from core.chat.forms import (
    SUMMARY,
    Data,
    Form,
    Step,
    Take,
    always,
    asking,
    button_value,
    choosing,
    choosing_code,
    location,
    pressed,
    refuse_not_staff,
    staff_only,
    taking,
    yes_no,
)
from core.chat.messages import Choice, Document, Input, Text
from core.chat.turn import Turn
from core.domain.actions import (
    ActivityTemplate,
    AskCancelActivity,
    AskEditActivity,
    BroadcastPreview,
    CheckinCode,
    EditActivity,
    EvaluateAttendees,
    Export,
    ExportSignups,
    FeedbackList,
    MatchActivity,
    Menu,
    MissingReports,
    Needs,
    NewActivity,
    OpenMakeups,
    OpenReport,
    OrganizerMenu,
    Overview,
    Publish,
    Qualifications,
    ReviewRecords,
    Reviews,
    Roster,
    SignupList,
    StaffActivities,
    StaffCard,
    Statistics,
    SurveyLinks,
    SurveyQr,
    SurveyStats,
)
from core.domain.activity import Activity, ActivityStatus, check_span, check_start, parse_capacity
from core.domain.codes import (
    INSURANCE_REQUIRED_CONTENT,
    ActivityMode,
    RiskLevel,
    ServiceContent,
    ServiceContentGroup,
    TrainingKind,
)
from core.domain.identity_numbers import mask_phone
from core.domain.organization import Organization, OrgStatus
from core.domain.signup import SignupStatus
from core.errors import DomainError, InvalidInput
from core.ports import ActivityQuery
from core.services.access import may_see_private_data, require_staff
from core.services.activities import (
    cancel_activity,
    create_activity,
    get_activity,
    publish_activity,
    update_activity,
)
from core.services.needs import link_activity, tell_requester_scheduled
from core.services.presence import turnout

NEW_ACTIVITY = "new_activity"
CANCEL_ACTIVITY = "cancel_activity"
_DATETIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_ALL_STATUSES = frozenset(ActivityStatus)
TEXT_MAX = 1000


async def manageable_orgs(turn: Turn) -> list[Organization]:
    orgs = await turn.uow.orgs.list(OrgStatus.APPROVED)
    return orgs if turn.actor.admin else [o for o in orgs if o.id in turn.actor.staff_of]


@staff_only
async def organizer_menu(turn: Turn, _: str = "") -> None:
    turn.say(
        "chat.org.menu",
        turn.choice("chat.org.new", NewActivity()),
        turn.choice("trainings.org.new", NewActivity(AS_TRAINING)),
        turn.choice("chat.org.template", ActivityTemplate()),
        turn.choice("chat.org.list", StaffActivities(0)),
        turn.choice("chat.org.reviews", Reviews()),
        turn.choice("chat.org.needs", Needs()),
        turn.choice("chat.org.feedback", FeedbackList()),
        turn.choice("chat.org.qualifications", Qualifications()),
        turn.choice("makeup.staff.list_button", OpenMakeups()),
        turn.choice("report.menu.overdue", MissingReports()),
        turn.choice("export.menu_button", Export()),
        turn.choice("statistics.menu_button", Statistics()),
        turn.choice("chat.org.overview", Overview()),
        turn.choice("chat.button.menu", Menu()),
        columns=2,
    )


# ---- publishing an activity, one question at a time ---------------------------------------------


def _text(given: Input, max_length: int = TEXT_MAX) -> str:
    if not isinstance(given, Text) or not given.text.strip() or given.text.strip().startswith("/"):
        raise InvalidInput("chat.org.form.text_required")
    value = given.text.strip()
    if len(value) > max_length:
        raise InvalidInput("chat.org.form.too_long", max=max_length)
    return value


def _take_text(field: str, max_length: int = TEXT_MAX) -> Take:
    return taking(field, lambda given: _text(given, max_length))


def has_place(data: Data) -> bool:
    """An activity (or a need) held somewhere, not only online."""
    return data.get("mode") != ActivityMode.ONLINE.value


def _zone(data: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(data.get("tz") or "Asia/Shanghai")


def _parse_local(text: str, zone: ZoneInfo, day_of: datetime | None = None) -> datetime:
    if match := _DATETIME.match(text):
        y, mo, d, h, mi = (int(g) for g in match.groups())
    elif day_of is not None and (match := _TIME.match(text)):
        local_day = day_of.astimezone(zone)
        y, mo, d = local_day.year, local_day.month, local_day.day
        h, mi = int(match[1]), int(match[2])
    else:
        raise InvalidInput("chat.org.form.datetime_format")
    try:
        return datetime(y, mo, d, h, mi, tzinfo=zone)
    except ValueError:
        raise InvalidInput("chat.org.form.datetime_format") from None


async def _org_options(turn: Turn, data: Data) -> list[Choice]:
    return [Choice(o.name, f"f.{o.id}") for o in await manageable_orgs(turn)]


async def _take_org(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    picked = pressed(given)
    org = next((o for o in await manageable_orgs(turn) if str(o.id) == picked), None)
    if org is None:
        raise InvalidInput("chat.reg.pick_button")
    return org_answers(org)


def org_answers(org: Organization) -> Data:
    """The answers to "which organization", for a form started by someone who manages only one."""
    return {"org": org.id, "tz": org.timezone, "org_name": org.name}


def _kinds_of_group(data: dict[str, Any]) -> list[StrEnum]:
    return [c for c in ServiceContent if c.group.value == data["group"]]


async def _take_start(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    start = _parse_local(_text(given, 40), _zone(data))
    check_start(start, turn.clock.now())
    return {"starts_at": start.isoformat()}


async def _take_end(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    start = datetime.fromisoformat(data["starts_at"])
    end = _parse_local(_text(given, 40), _zone(data), day_of=start)
    check_span(start, end)
    return {"ends_at": end.isoformat()}


async def _base_options(turn: Turn, data: Data) -> list[Choice]:
    bases = [
        b for b in await turn.uow.bases.list() if b.org_id in (None, data["org"]) and b.latitude is not None
    ]
    choices = [Choice(b.name[:60], f"f.{b.id}") for b in bases[:12]]
    return [*choices, turn.choice("chat.org.form.other_place", "f.other")]


async def _take_base(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    picked = pressed(given)
    if picked == "other":
        return {"base": None}
    base = await turn.uow.bases.get(int(picked)) if picked.isdigit() else None
    if base is None:
        raise InvalidInput("chat.reg.pick_button")
    return {
        "base": base.id,
        "place_name": base.name,
        "address": base.address,
        "lat": base.latitude,
        "lon": base.longitude,
    }


def _own_place(data: dict[str, Any]) -> bool:
    return has_place(data) and data.get("base") is None


async def _take_place(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    parts = re.split(r"[，,]", _text(given, 300), maxsplit=1)
    name, address = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    return {"place_name": name[:100], "address": address[:200]}


async def _ask_location(turn: Turn, data: dict[str, Any]) -> None:
    turn.ask_location("chat.org.form.location")


async def _take_location(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    lat, lon = location(given, "chat.org.form.location_format")
    return {"lat": lat, "lon": lon}


async def _take_url(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    url = _text(given, 500)
    if not re.match(r"^https?://\S+$", url):
        raise InvalidInput("chat.org.form.url_format")
    return {"online_url": url}


async def _take_capacity(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    return {"capacity": parse_capacity(_text(given, 10))}


async def _take_training(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    text = _text(given)
    return {"required_training": "" if text in ("无", "none", "None", "-") else text}


def _needs_plan(data: dict[str, Any]) -> bool:
    """4-5.1.1: risky or insured activities carry an emergency plan."""
    return (
        data.get("risk_level") == RiskLevel.HIGH.value
        or data.get("field_work") is True
        or data.get("service_content") in INSURANCE_REQUIRED_CONTENT
    )


# 2-7.4, 3-6.2.1: "是否为培训". Asked when a training is published ("oa.new:trn") or edited; any other
# form starts with it answered "none", so a service activity is published as it always was.
AS_TRAINING = "trn"
NOT_TRAINING = "none"


async def _training_options(turn: Turn, data: Data) -> list[Choice]:
    kinds = [Choice(turn.t(f"code.training_kind.{k.value}"), f"f.{k.value}") for k in TrainingKind]
    return [turn.choice("trainings.form.none", f"f.{NOT_TRAINING}"), *kinds]


async def _take_training_kind(turn: Turn, given: Input, data: Data) -> Data:
    picked = pressed(given)
    if picked != NOT_TRAINING and picked not in TrainingKind._value2member_map_:
        raise InvalidInput("chat.reg.pick_button")
    return {"training_kind": picked}


def _training_asked(data: Data) -> bool:
    """Not counted among the questions of a form that starts with it answered "none"."""
    return data.get("training_kind") != NOT_TRAINING


def training_of(data: Data) -> TrainingKind | None:
    kind = data.get("training_kind")
    return TrainingKind(kind) if kind and kind != NOT_TRAINING else None


STEPS: tuple[Step, ...] = (
    choosing("org", always, "chat.org.form.org", _org_options, _take_org),
    Step("title", always, asking("chat.org.form.title"), _take_text("title", 100)),
    choosing_code("group", "chat.org.form.group", "service_group", lambda d: list(ServiceContentGroup)),
    choosing_code("service_content", "chat.org.form.content", "service_content", _kinds_of_group),
    choosing_code("mode", "chat.org.form.mode", "mode", lambda d: list(ActivityMode), columns=1),
    Step("starts_at", always, asking("chat.org.form.start"), _take_start),
    Step("ends_at", always, asking("chat.org.form.end"), _take_end),
    choosing("base", has_place, "chat.org.form.base", _base_options, _take_base),
    Step("place_name", _own_place, asking("chat.org.form.place"), _take_place),
    Step("lat", _own_place, _ask_location, _take_location),
    Step(
        "online_url",
        lambda d: d.get("mode") != ActivityMode.OFFLINE.value,
        asking("chat.org.form.url"),
        _take_url,
    ),
    Step("capacity", always, asking("chat.org.form.capacity"), _take_capacity),
    Step("purpose", always, asking("chat.org.form.purpose"), _take_text("purpose")),
    Step("content", always, asking("chat.org.form.content_text"), _take_text("content")),
    Step("beneficiaries", always, asking("chat.org.form.beneficiaries"), _take_text("beneficiaries")),
    Step("guarantees", always, asking("chat.org.form.guarantees"), _take_text("guarantees")),
    Step("required_training", always, asking("chat.org.form.training"), _take_training),
    choosing("training_kind", _training_asked, "trainings.form.ask", _training_options, _take_training_kind),
    choosing_code("risk_level", "chat.org.form.risk", "risk", lambda d: list(RiskLevel), 3),
    Step(
        "risks",
        lambda d: d.get("risk_level") != RiskLevel.LOW.value,
        asking("chat.org.form.risks"),
        _take_text("risks"),
    ),
    yes_no(
        "field_work",
        "chat.org.form.field_work",
        lambda d: d.get("service_content") not in INSURANCE_REQUIRED_CONTENT,
    ),
    Step("emergency_plan", _needs_plan, asking("chat.org.form.emergency_plan"), _take_text("emergency_plan")),
)
FORM = Form(NEW_ACTIVITY, STEPS)


async def start_new_activity(turn: Turn, arg: str = "") -> None:
    turn.state.clear()
    orgs = await manageable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    data = org_answers(orgs[0]) if len(orgs) == 1 else {}
    if arg != AS_TRAINING:
        data["training_kind"] = NOT_TRAINING
    turn.say("chat.org.form.intro", count=FORM.count(data))
    await FORM.proceed(turn, data)


async def new_activity_step(turn: Turn, given: Input) -> None:
    if turn.state.step == SUMMARY:
        await _finish(turn, given, dict(turn.state.data))
        return
    data = await FORM.answer(turn, given)
    if data is not None and await FORM.proceed(turn, data):
        show_summary(turn, data)


def show_summary(turn: Turn, data: dict[str, Any]) -> None:
    """The plan as it will be created, with the choice to publish it, keep it as a draft or drop it."""
    zone = _zone(data)
    start = datetime.fromisoformat(data["starts_at"]).astimezone(zone)
    end = datetime.fromisoformat(data["ends_at"]).astimezone(zone)
    summary = turn.t(
        "chat.org.form.summary",
        title=data["title"],
        org=data.get("org_name", ""),
        kind=turn.t(f"code.service_content.{data['service_content']}"),
        mode=turn.t(f"code.mode.{data['mode']}"),
        time=f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}",  # noqa: E501
        place=(data.get("place_name", "") + " " + data.get("address", "")).strip()
        or data.get("online_url", ""),
        capacity=data["capacity"],
        risk=turn.t(f"code.risk.{data['risk_level']}"),
    )
    turn.say_text(
        summary + training_line(turn, training_of(data)),
        turn.choice("chat.org.form.publish", "f.publish"),
        turn.choice("chat.org.form.draft", "f.draft"),
        turn.choice("chat.button.cancel", "f.cancel"),
    )


def training_line(turn: Turn, kind: TrainingKind | None) -> str:
    """The line "培训：岗位培训" under a card or summary; nothing for a service activity."""
    if kind is None:
        return ""
    return "\n" + turn.t("trainings.card.kind", kind=turn.t(f"code.training_kind.{kind.value}"))


def _activity_from(turn: Turn, data: dict[str, Any]) -> Activity:
    return Activity(
        org_id=data["org"],
        title=data["title"],
        service_content=ServiceContent(data["service_content"]),
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        created_at=turn.clock.now(),
        mode=ActivityMode(data["mode"]),
        timezone=data.get("tz") or turn.policy.default_timezone,
        purpose=data["purpose"],
        organizing_unit=data.get("org_name", ""),
        content=data["content"],
        beneficiaries=data["beneficiaries"],
        guarantees=data["guarantees"],
        emergency_plan=data.get("emergency_plan", ""),
        place_name=data.get("place_name", ""),
        address=data.get("address", ""),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        checkin_radius_m=turn.policy.default_checkin_radius_m,
        online_url=data.get("online_url", ""),
        capacity=data["capacity"],
        required_training=data.get("required_training", ""),
        field_work=bool(data.get("field_work")),
        risk_level=RiskLevel(data["risk_level"]),
        risks=data.get("risks", ""),
        base_id=data.get("base"),
        training_kind=training_of(data),
        required_skills=list(data.get("required_skills", [])),  # a need's expertise (3-6.1.2)
    )


async def _finish(turn: Turn, given: Input, data: dict[str, Any]) -> None:
    choice = button_value(given)
    if choice == "cancel":
        turn.state.clear()
        turn.say("chat.cancelled")
        await organizer_menu(turn)
        return
    if choice not in ("publish", "draft"):
        turn.say("chat.reg.pick_button")
        show_summary(turn, data)
        return
    activity = await create_activity(turn.uow, turn.clock, turn.actor, _activity_from(turn, data))
    assert activity.id is not None
    if data.get("need"):  # planned from a need (core/chat/needs.py): the requester hears once published
        await link_activity(turn.uow, turn.clock, turn.actor, int(data["need"]), activity.id)
    if choice == "publish":
        await publish_activity(turn.uow, turn.clock, turn.actor, activity.id)
        await tell_requester_scheduled(turn.uow, turn.clock, activity)
    turn.state.clear()
    if choice == "publish":
        created = turn.t("chat.org.created_published", title=activity.title) + _link_line(turn, activity)
    else:
        created = turn.t("chat.org.created_draft", title=activity.title)
    turn.say_text(
        created,
        turn.choice("chat.org.view", StaffCard(activity.id)),
        turn.choice("chat.org.menu_button", OrganizerMenu()),
    )


def _link_line(turn: Turn, activity: Activity) -> str:
    """The recruiting link as a line of its own; none where the channel makes no links (WeChat: a
    bare payload opens nothing there)."""
    link = link_of(turn, f"act-{activity.id}")
    return "\n" + turn.t("chat.org.recruiting_link", link=link) if link else ""


# ---- editing: the same questions, for the part being changed ------------------------------------

EDIT_ACTIVITY = "edit_activity"
# What the organizer picks to change: the questions asked again, and the activity fields they set.
EDIT_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "title": (("title",), ("title",)),
    "time": (("starts_at", "ends_at"), ("starts_at", "ends_at")),
    "place": (("base", "place_name", "lat"), ("base_id", "place_name", "address", "latitude", "longitude")),
    "online_url": (("online_url",), ("online_url",)),
    "capacity": (("capacity",), ("capacity",)),
    "purpose": (("purpose",), ("purpose",)),
    "content": (("content",), ("content",)),
    "beneficiaries": (("beneficiaries",), ("beneficiaries",)),
    "guarantees": (("guarantees",), ("guarantees",)),
    "required_training": (("required_training",), ("required_training",)),
    "risk": (("risk_level", "risks", "emergency_plan"), ("risk_level", "risks", "emergency_plan")),
    "training": (("training_kind",), ("training_kind",)),
}
# Form answers that are named differently on the activity.
_FORM_TO_FIELD = {"org": "org_id", "base": "base_id", "lat": "latitude", "lon": "longitude"}


def _form_of(activity: Activity) -> dict[str, Any]:
    """The activity as the form's answers, so that the questions' conditions see the current plan."""
    data: dict[str, Any] = {
        "org": activity.org_id,
        "tz": activity.timezone,
        "title": activity.title,
        "group": activity.service_content.group.value,
        "service_content": activity.service_content.value,
        "mode": activity.mode.value,
        "starts_at": activity.starts_at.isoformat(),
        "ends_at": activity.ends_at.isoformat(),
        "base": activity.base_id,
        "place_name": activity.place_name,
        "address": activity.address,
        "lat": activity.latitude,
        "lon": activity.longitude,
        "online_url": activity.online_url,
        "capacity": activity.capacity,
        "risk_level": activity.risk_level.value,
        "field_work": activity.field_work,
        "training_kind": activity.training_kind.value if activity.training_kind else NOT_TRAINING,
    }
    for name in (
        "purpose",
        "content",
        "beneficiaries",
        "guarantees",
        "required_training",
        "risks",
        "emergency_plan",
    ):
        data[name] = getattr(activity, name)
    return data


def _field_value(data: dict[str, Any], field: str) -> Any:
    form = {v: k for k, v in _FORM_TO_FIELD.items()}.get(field, field)
    if field in ("starts_at", "ends_at"):
        return datetime.fromisoformat(data[form])
    if field == "risk_level":
        return RiskLevel(data[form])
    if field == "training_kind":
        return training_of(data)
    value = data.get(form)
    return "" if value is None and field in ("risks", "emergency_plan", "place_name", "address") else value


async def ask_edit(turn: Turn, action: AskEditActivity) -> None:
    activity = await _viewed(turn, action.activity_id)
    choices = [
        turn.choice(f"chat.org.edit.field.{group}", EditActivity(action.activity_id, group))
        for group in EDIT_GROUPS
        if group != "place" or activity.has_place
        if group != "online_url" or activity.mode is not ActivityMode.OFFLINE
        # 2-7.4: what volunteers signed up for stays a training or a service once published.
        if group != "training" or activity.training_kind or activity.status is ActivityStatus.DRAFT
    ]
    choices.append(turn.choice("chat.org.view", StaffCard(action.activity_id)))
    turn.say("chat.org.edit.pick", *choices, columns=2, title=activity.title)


async def start_edit(turn: Turn, action: EditActivity) -> None:
    activity = await _staff_activity(turn, action.activity_id)
    if action.group not in EDIT_GROUPS:
        await ask_edit(turn, AskEditActivity(action.activity_id))
        return
    asked, _ = EDIT_GROUPS[action.group]
    data = {k: v for k, v in _form_of(activity).items() if k not in asked}
    data.update(activity=activity.id, edit=action.group)
    await FORM.proceed(turn, data, only=asked, flow=EDIT_ACTIVITY)


async def edit_step(turn: Turn, given: Input) -> None:
    step = FORM.by_name[turn.state.step]
    asking = await step.options(turn, dict(turn.state.data)) if step.options else []
    card = StaffCard(int(turn.state.data["activity"]))  # read before still_asked clears the state
    if not turn.still_asked(*(c.payload for c in asking)):
        await staff_card(turn, card)
        return
    data = await FORM.answer(turn, given)
    if data is None:
        return
    asked, fields = EDIT_GROUPS[data["edit"]]
    if not await FORM.proceed(turn, data, only=asked, flow=EDIT_ACTIVITY):
        return
    changes = {field: _field_value(data, field) for field in fields}
    activity_id = int(data["activity"])
    activity = await update_activity(turn.uow, turn.clock, turn.actor, activity_id, changes)
    turn.state.clear()
    turn.say("chat.org.edit.done", title=activity.title)
    await staff_card(turn, StaffCard(activity_id))


# ---- the organizer's view of their activities ---------------------------------------------------


async def list_activities(turn: Turn, action: StaffActivities) -> None:
    turn.state.clear()
    orgs = await manageable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    offset = action.offset
    query = ActivityQuery(
        statuses=_ALL_STATUSES,
        org_ids=tuple(o.id for o in orgs if o.id is not None),
        starts_after=turn.clock.now() - timedelta(days=30),
        limit=9,
        offset=offset,
    )
    found = await turn.uow.activities.search(query)
    if not found:
        turn.say(
            "chat.org.list.none",
            turn.choice("chat.org.new", NewActivity()),
            turn.choice("chat.org.menu_button", OrganizerMenu()),
        )
        return
    choices = [
        Choice(
            turn.label(
                "chat.org.list.item",
                "title",
                date=turn.local_time(a.starts_at, a.timezone)[5:],
                title=a.title,
                status=turn.t(f"code.activity_status.{a.status.value}"),
            ),
            StaffCard(a.id or 0).pack(),
        )
        for a in found[:8]
    ]
    if len(found) > 8:
        choices.append(turn.choice("chat.button.next_page", StaffActivities(offset + 8)))
    choices.append(turn.choice("chat.org.menu_button", OrganizerMenu()))
    turn.say("chat.org.list.title", *choices)


async def _staff_activity(turn: Turn, activity_id: int) -> Activity:
    activity = await get_activity(turn.uow, activity_id)
    await require_staff(turn.uow, turn.actor, activity.org_id)
    return activity


async def _viewed(turn: Turn, activity_id: int) -> Activity:
    """The activity a view of the organizer's opens. Opening it leaves any question waiting for typed
    text (a cancel reason, a new value), so that the next text is not taken as its answer."""
    activity = await _staff_activity(turn, activity_id)
    turn.state.clear()
    return activity


async def staff_card(turn: Turn, action: StaffCard) -> None:
    activity = await _viewed(turn, action.activity_id)
    assert activity.id is not None
    counts = {s: await turn.uow.signups.count(activity.id, frozenset({s})) for s in SignupStatus}
    choices: list[Choice] = []
    if activity.status is ActivityStatus.DRAFT:
        choices.append(turn.choice("chat.org.publish", Publish(activity.id)))
    choices.append(turn.choice("chat.org.signups", SignupList(activity.id)))
    if activity.status is ActivityStatus.PUBLISHED and activity.starts_at > turn.clock.now():
        choices.append(turn.choice("chat.org.broadcast", BroadcastPreview(activity.id)))
    choices += [
        turn.choice("chat.org.attendance", Roster(activity.id)),
        turn.choice("checkin.button.code", CheckinCode(activity.id)),
        turn.choice("records.button.review", ReviewRecords(activity.id)),
        turn.choice("chat.org.export", ExportSignups(activity.id)),
        turn.choice("chat.org.stats", SurveyStats(activity.id)),
    ]
    # 3-6.3: the record, once the activity has been held and has ended
    held = activity.status not in (ActivityStatus.DRAFT, ActivityStatus.CANCELLED)
    if held and activity.ends_at <= turn.clock.now():
        choices.append(turn.choice("report.button.open", OpenReport(activity.id)))
        choices.append(turn.choice("evaluation.button.open", EvaluateAttendees(activity.id)))  # 2-10.1
    if may_share(turn, activity.org_id):
        choices.append(turn.choice("chat.org.survey_qr", SurveyQr(activity.id)))
    choices.append(turn.choice("matching.button.survey", SurveyLinks(activity.id)))  # 3-8.1.2.1
    if activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        choices.append(turn.choice("matching.button.match", MatchActivity(activity.id)))  # 3-6.1.2
    if activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, ActivityStatus.ONGOING):
        choices.append(turn.choice("chat.org.edit", AskEditActivity(activity.id)))
        choices.append(turn.choice("chat.org.cancel", AskCancelActivity(activity.id)))
    choices.append(turn.choice("chat.org.list", StaffActivities(0)))
    card = turn.t(
        "chat.org.card",
        title=activity.title,
        status=turn.t(f"code.activity_status.{activity.status.value}"),
        time=turn.local_time(activity.starts_at, activity.timezone),
        place=activity.place_name or activity.online_url or "-",
        capacity=activity.capacity,
        confirmed=counts[SignupStatus.CONFIRMED]
        + counts[SignupStatus.ATTENDED]
        + counts[SignupStatus.ABSENT],
        waitlisted=counts[SignupStatus.WAITLISTED],
        applied=counts[SignupStatus.APPLIED],
        attended=counts[SignupStatus.ATTENDED],
    )
    turn.say_text(
        card + training_line(turn, activity.training_kind) + _link_line(turn, activity), *choices, columns=2
    )


async def publish(turn: Turn, action: Publish) -> None:
    activity = await _viewed(turn, action.activity_id)
    await publish_activity(turn.uow, turn.clock, turn.actor, action.activity_id)
    await tell_requester_scheduled(turn.uow, turn.clock, activity)
    turn.say("chat.org.published", title=activity.title)
    await staff_card(turn, StaffCard(action.activity_id))


async def _roster(turn: Turn, activity: Activity) -> list[tuple[int, str, str, SignupStatus]]:
    """(signup id, name, phone as this actor may see it, status), in sign-up order."""
    assert activity.id is not None
    rows = []
    for signup in await turn.uow.signups.for_activity(activity.id):
        volunteer = await turn.uow.volunteers.get(signup.volunteer_id)
        if volunteer is None or volunteer.id is None or signup.id is None:
            continue
        full = await may_see_private_data(turn.uow, turn.actor, volunteer.id)
        rows.append(
            (
                signup.id,
                volunteer.name,
                volunteer.phone if full else mask_phone(volunteer.phone),
                signup.status,
            )
        )
    return rows


async def signup_list(turn: Turn, action: SignupList) -> None:
    activity = await _viewed(turn, action.activity_id)
    rows = [r for r in await _roster(turn, activity) if r[3] is not SignupStatus.CANCELLED]
    if not rows:
        turn.say("chat.org.signups.none", turn.choice("chat.org.view", StaffCard(action.activity_id)))
        return
    assert activity.id is not None
    answered = {s.id for s in await turn.uow.signups.for_activity(activity.id) if s.presence_confirmed_at}
    ahead = activity.starts_at > turn.clock.now()
    lines = [
        turn.t(
            "chat.org.signups.line",
            n=i,
            name=name,
            phone=phone,
            status=turn.t(f"code.signup_status.{status.value}"),
        )
        + (_presence_mark(turn, status, signup_id in answered) if ahead else "")
        for i, (signup_id, name, phone, status) in enumerate(rows, 1)
    ]
    # 3-6.1.3.2: before the start, who answered the briefing; after it, attendance tells the rest.
    head = [turn.t("chat.org.signups.title", title=activity.title)]
    if ahead:
        head.append(turn.t("chat.org.turnout", **vars(await turnout(turn.uow, activity.id))))
    turn.say_text(
        "\n".join(head + lines),
        turn.choice("chat.org.view", StaffCard(action.activity_id)),
    )


def _presence_mark(turn: Turn, status: SignupStatus, answered: bool) -> str:
    """3-6.1.3.2: who answered the briefing, among those holding a place before the start."""
    if status is not SignupStatus.CONFIRMED:
        return ""
    return " " + turn.t("chat.org.presence.yes" if answered else "chat.org.presence.waiting")


async def export(turn: Turn, action: ExportSignups) -> None:
    """The list as a spreadsheet (CSV with a BOM so that Excel opens the Chinese correctly)."""
    activity = await _viewed(turn, action.activity_id)
    rows = await _roster(turn, activity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([turn.t(f"chat.org.export.col.{c}") for c in ("n", "name", "phone", "status")])
    for i, (_, name, phone, status) in enumerate(rows, 1):
        writer.writerow([i, name, phone, turn.t(f"code.signup_status.{status.value}")])
    turn.replies.append(
        Document(
            data=("\ufeff" + buffer.getvalue()).encode("utf-8"),
            filename=f"signups-{activity.id}.csv",
            caption=turn.t("chat.org.export.caption", title=activity.title, count=len(rows)),
            mime="text/csv",
        )
    )


async def ask_cancel(turn: Turn, action: AskCancelActivity) -> None:
    activity = await _staff_activity(turn, action.activity_id)
    turn.state.start(CANCEL_ACTIVITY, "reason", activity=action.activity_id)
    _ask_reason(turn, activity, StaffCard(action.activity_id))


def _ask_reason(turn: Turn, activity: Activity, card: StaffCard) -> None:
    turn.say("chat.org.cancel.reason", turn.choice("chat.org.view", card), title=activity.title)


async def cancel_step(turn: Turn, given: Input) -> None:
    card = StaffCard(int(turn.state.data["activity"]))
    if not turn.still_asked(card.pack()):
        await staff_card(turn, card)
        return
    try:
        reason = _text(given, 500)
    except DomainError as error:
        turn.refuse(error)
        _ask_reason(turn, await _staff_activity(turn, card.activity_id), card)
        return
    activity = await cancel_activity(turn.uow, turn.clock, turn.actor, card.activity_id, reason)
    turn.state.clear()
    turn.say(
        "chat.org.cancel.done", turn.choice("chat.org.menu_button", OrganizerMenu()), title=activity.title
    )
