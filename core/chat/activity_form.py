"""Publishing an activity in chat, one question at a time (3-6.1.5): the form the organizer's menu
starts, the activity template fills in (activity_template.py) and a taken need opens prefilled
(needs.py); editing asks the same questions (activity_editing.py)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.chat.deep_links import link_of
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
    taking,
    yes_no,
)
from core.chat.messages import Choice, Input, Text
from core.chat.organizer import organizer_menu
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    NewActivity,
    OrganizerMenu,
    StaffCard,
)
from core.domain.activity import Activity, check_span, check_start, parse_capacity
from core.domain.codes import (
    INSURANCE_REQUIRED_CONTENT,
    ActivityMode,
    RiskLevel,
    ServiceContent,
    ServiceContentGroup,
    TrainingKind,
)
from core.domain.identity_numbers import ascii_form
from core.domain.organization import Organization, OrgStatus
from core.errors import InvalidInput
from core.services.activities import (
    create_activity,
    publish_activity,
)
from core.services.needs import link_activity, tell_requester_scheduled

router = Router()

NEW_ACTIVITY = "new_activity"
_DATETIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
TEXT_MAX = 1000
EXAMPLE_AHEAD = timedelta(days=7)  # the start an example gives: time to recruit, and still to come


async def manageable_orgs(turn: Turn) -> list[Organization]:
    orgs = await turn.uow.orgs.list(OrgStatus.APPROVED)
    return orgs if turn.actor.admin else [o for o in orgs if o.id in turn.actor.staff_of]


# ---- publishing an activity, one question at a time ---------------------------------------------


def typed_text(given: Input, max_length: int = TEXT_MAX) -> str:
    if not isinstance(given, Text) or not given.text.strip() or given.text.strip().startswith("/"):
        raise InvalidInput("chat.org.form.text_required")
    value = given.text.strip()
    if len(value) > max_length:
        raise InvalidInput("chat.org.form.too_long", max=max_length)
    return value


def _take_text(field: str, max_length: int = TEXT_MAX) -> Take:
    return taking(field, lambda given: typed_text(given, max_length))


def has_place(data: Data) -> bool:
    """An activity (or a need) held somewhere, not only online."""
    return data.get("mode") != ActivityMode.ONLINE.value


def form_zone(data: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(data.get("tz") or "Asia/Shanghai")


def _parse_local(text: str, zone: ZoneInfo, example: datetime, day_of: datetime | None = None) -> datetime:
    # As a Chinese keyboard types it: full-width digits and colon (０９：００), or 2026/12/11.
    text = ascii_form(text).replace("/", "-")
    if match := _DATETIME.match(text):
        y, mo, d, h, mi = (int(g) for g in match.groups())
    elif day_of is not None and (match := _TIME.match(text)):
        local_day = day_of.astimezone(zone)
        y, mo, d = local_day.year, local_day.month, local_day.day
        h, mi = int(match[1]), int(match[2])
    else:
        raise InvalidInput("chat.org.form.datetime_format", example=f"{example:%Y-%m-%d %H:%M}")
    try:
        return datetime(y, mo, d, h, mi, tzinfo=zone)
    except ValueError:
        raise InvalidInput("chat.org.form.datetime_format", example=f"{example:%Y-%m-%d %H:%M}") from None


# The examples of a time are times the form accepts when they are shown: from the clock, not fixed dates.
def _start_example(turn: Turn, data: Data) -> datetime:
    """09:00 a week ahead where the activity is held (the template's example too): a start to come."""
    zone = form_zone(data)
    day = turn.clock.now().astimezone(zone).date() + EXAMPLE_AHEAD
    return datetime.combine(day, time(9, 0), zone)


def _end_example(turn: Turn, data: Data) -> datetime:
    """Two hours after the start given (after the start example while none is)."""
    start = datetime.fromisoformat(data["starts_at"]) if data.get("starts_at") else _start_example(turn, data)
    return start.astimezone(form_zone(data)) + timedelta(hours=2)


async def _ask_start(turn: Turn, data: Data) -> None:
    turn.say("chat.org.form.start", example=f"{_start_example(turn, data):%Y-%m-%d %H:%M}")


async def _ask_end(turn: Turn, data: Data) -> None:
    end = _end_example(turn, data)
    start = end - timedelta(hours=2)
    if end.date() == start.date():
        turn.say("chat.org.form.end", example=f"{end:%Y-%m-%d %H:%M}", time=f"{end:%H:%M}")
    else:  # the short form would mean the start's day: not offered
        turn.say("chat.org.form.end_next_day", example=f"{end:%Y-%m-%d %H:%M}")


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
    start = _parse_local(typed_text(given, 40), form_zone(data), _start_example(turn, data))
    check_start(start, turn.clock.now())
    return {"starts_at": start.isoformat()}


async def _take_end(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    start = datetime.fromisoformat(data["starts_at"])
    end = _parse_local(typed_text(given, 40), form_zone(data), _end_example(turn, data), day_of=start)
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
    parts = re.split(r"[，,]", typed_text(given, 300), maxsplit=1)
    name, address = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    return {"place_name": name[:100], "address": address[:200]}


async def _ask_location(turn: Turn, data: dict[str, Any]) -> None:
    turn.ask_location("chat.org.form.location")


async def _take_location(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    lat, lon = location(given, "chat.org.form.location_format")
    return {"lat": lat, "lon": lon}


async def _take_url(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    url = typed_text(given, 500)
    if not re.match(r"^https?://\S+$", url):
        raise InvalidInput("chat.org.form.url_format")
    return {"online_url": url}


async def _take_capacity(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    return {"capacity": parse_capacity(typed_text(given, 10))}


async def _take_training(turn: Turn, given: Input, data: dict[str, Any]) -> dict[str, Any]:
    text = typed_text(given)
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
    Step("starts_at", always, _ask_start, _take_start),
    Step("ends_at", always, _ask_end, _take_end),
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


@router.button(NewActivity)
async def new_activity(turn: Turn, action: NewActivity) -> None:
    await start_new_activity(turn, action.as_kind or "")


@router.command("publish")
async def start_new_activity(turn: Turn, arg: str = "") -> None:
    turn.state.clear()
    orgs = await manageable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    data = org_answers(orgs[0]) if len(orgs) == 1 else {}
    if arg != NewActivity.AS_TRAINING:
        data["training_kind"] = NOT_TRAINING
    turn.say("chat.org.form.intro", count=FORM.count(data))
    await FORM.proceed(turn, data)


@router.flow(NEW_ACTIVITY)
async def new_activity_step(turn: Turn, given: Input) -> None:
    if turn.state.step == SUMMARY:
        await _finish(turn, given, dict(turn.state.data))
        return
    data = await FORM.answer(turn, given)
    if data is not None and await FORM.proceed(turn, data):
        show_summary(turn, data)


def show_summary(turn: Turn, data: dict[str, Any]) -> None:
    """The plan as it will be created, with the choice to publish it, keep it as a draft or drop it."""
    zone = form_zone(data)
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


def activity_from(turn: Turn, data: dict[str, Any]) -> Activity:
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
    activity = await create_activity(turn.uow, turn.clock, turn.actor, activity_from(turn, data))
    assert activity.id is not None
    if data.get("need"):  # planned from a need (core/chat/needs.py): the requester hears once published
        await link_activity(turn.uow, turn.clock, turn.actor, int(data["need"]), activity.id)
    if choice == "publish":
        await publish_activity(turn.uow, turn.clock, turn.actor, activity.id)
        await tell_requester_scheduled(turn.uow, turn.clock, activity)
    turn.state.clear()
    if choice == "publish":
        created = turn.t("chat.org.created_published", title=activity.title) + link_line(turn, activity)
    else:
        created = turn.t("chat.org.created_draft", title=activity.title)
    turn.say_text(
        created,
        turn.choice("chat.org.view", StaffCard(activity.id)),
        turn.choice("chat.org.menu_button", OrganizerMenu()),
    )


def link_line(turn: Turn, activity: Activity) -> str:
    """The recruiting link as a line of its own; none where the channel makes no links (WeChat: a
    bare payload opens nothing there)."""
    link = link_of(turn, f"act-{activity.id}")
    return "\n" + turn.t("chat.org.recruiting_link", link=link) if link else ""
