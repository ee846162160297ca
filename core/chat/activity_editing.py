"""Editing an activity in chat: the publishing form's questions (activity_form.py), for the part being
changed; the change is audited and the volunteers signed up are told (services.activities)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.chat.activity_form import FORM, NOT_TRAINING, training_of
from core.chat.messages import Input
from core.chat.router import Router
from core.chat.staff_activities import refuse_after_end, staff_activity, staff_card, viewed_activity
from core.chat.turn import Turn
from core.domain.actions import (
    AskEditActivity,
    EditActivity,
    StaffCard,
)
from core.domain.activity import Activity, ActivityStatus
from core.domain.codes import (
    ActivityMode,
    RiskLevel,
)
from core.services.activities import (
    EndedActivity,
    check_editable,
    update_activity,
)

router = Router()

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


def _still_editable(turn: Turn, activity: Activity) -> bool:
    """A card shown before the end offers 修改 still: once ended, the refusal, before any question."""
    try:
        check_editable(activity, turn.clock.now())
    except EndedActivity as error:
        refuse_after_end(turn, error, activity)
        return False
    return True


@router.button(AskEditActivity)
async def ask_edit(turn: Turn, action: AskEditActivity) -> None:
    activity = await viewed_activity(turn, action.activity_id)
    if not _still_editable(turn, activity):
        return
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


@router.button(EditActivity)
async def start_edit(turn: Turn, action: EditActivity) -> None:
    activity = await staff_activity(turn, action.activity_id)
    if not _still_editable(turn, activity):
        return
    if action.group not in EDIT_GROUPS:
        await ask_edit(turn, AskEditActivity(action.activity_id))
        return
    asked, _ = EDIT_GROUPS[action.group]
    data = {k: v for k, v in _form_of(activity).items() if k not in asked}
    data.update(activity=activity.id, edit=action.group)
    await FORM.proceed(turn, data, only=asked, flow=EDIT_ACTIVITY)


@router.flow(EDIT_ACTIVITY)
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
    try:
        activity = await update_activity(turn.uow, turn.clock, turn.actor, activity_id, changes)
    except EndedActivity as error:  # it ended while the question was asked
        refuse_after_end(turn, error, await staff_activity(turn, activity_id))
        return
    turn.state.clear()
    turn.say("chat.org.edit.done", title=activity.title)
    await staff_card(turn, StaffCard(activity_id))
