"""Needs in chat (3-6.1.1). Anyone — registered or not — sends a need one question at a time, each
answer checked; staff of the addressed org (any org's staff when none is) review it, approve or
reject it with a reason, and an org takes it to arrange the service. The requester is told each step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from core.chat import activity_form
from core.chat.forms import (
    SUMMARY,
    Data,
    Form,
    StaffQuestion,
    Step,
    Summary,
    agreeing,
    always,
    button_value,
    cancel,
    choosing_many,
    code,
    end_form,
    pressed,
    staff_only,
)
from core.chat.messages import Choice, Contact, Input, Say, Text, typed_id
from core.chat.router import Router
from core.chat.turn import NUMBERED_CHANNELS, Turn
from core.domain.actions import (
    ApproveNeed,
    CloseNeed,
    MatchNeed,
    Menu,
    Needs,
    NewNeed,
    PlanNeed,
    RejectNeed,
    ShowNeed,
    StaffCard,
    TakeNeed,
)
from core.domain.codes import (
    ActivityMode,
    ProfessionalField,
    ServiceContent,
    ServiceContentGroup,
    ServiceObject,
)
from core.domain.identity_numbers import mask_phone
from core.domain.need import (
    DESCRIPTION_MAX,
    PLACE_MAX,
    REASON_MAX,
    REQUESTER_MAX,
    TIME_MAX,
    VOLUNTEERS_MAX,
    VOLUNTEERS_MIN,
    Need,
    NeedStatus,
    check_text,
    normalise_contact_phone,
    parse_volunteers,
)
from core.domain.people import ConsentKind
from core.errors import DomainError, InvalidInput
from core.services.needs import (
    NeedForm,
    activity_of_need,
    addressable_org,
    close_need,
    decide_need,
    may_review,
    may_see_contact,
    need_for_staff,
    open_needs,
    orgs_that_may_take,
    plannable_need,
    submit_need,
    take_need,
)
from core.services.volunteers import give_consent

router = Router()

NEED_FORM = "need_form"
NEED_REASON = "need_reason"
EDIT_PICK = "edit"  # at the summary: which answer to change

# ---- reading answers ----------------------------------------------------------------------------


def _text(given: Input, max_length: int, invalid: str) -> str:
    if not isinstance(given, Text):
        raise InvalidInput("chat.need.type_answer")
    return check_text(given.text, max_length, invalid)


PICK_BUTTON = "chat.need.pick_button"


def _number(name: str, data: Data) -> int:
    """The question's place among those asked of this requester (online needs skip the place)."""
    asked = [s.name for s in STEPS if s.needed(data) or s.name in data]
    return asked.index(name) + 1 if name in asked else len(asked)


def _ask_text(key: str, **params: Any) -> Callable[[Turn, Data], Awaitable[None]]:
    async def ask(turn: Turn, data: Data) -> None:
        turn.say(key, cancel(turn), step=_number(_STEP_OF_KEY[key], data), **params)

    return ask


def _take_text(field: str, max_length: int, invalid: str) -> Callable[[Turn, Input, Data], Awaitable[Data]]:
    async def take(turn: Turn, given: Input, data: Data) -> Data:
        return {field: _text(given, max_length, invalid)}

    return take


async def _ask_consent(turn: Turn, data: Data) -> None:
    turn.say(
        "chat.need.ask.consent",
        *agreeing(turn, "agree", "disagree"),
        columns=2,
        step=_number("consent", data),
    )


async def _take_consent(turn: Turn, given: Input, data: Data) -> Data:
    answer = pressed(given, PICK_BUTTON)
    if answer == "disagree":
        return {"declined": True}
    if answer != "agree":
        raise InvalidInput(PICK_BUTTON)
    # PIPL art. 14: the consent is on record before the contact is asked for, let alone stored.
    await give_consent(turn.uow, turn.clock, turn.user_id, ConsentKind.PRIVACY_NOTICE, policy=turn.policy)
    return {"consent": True}


async def _take_phone(turn: Turn, given: Input, data: Data) -> Data:
    # A mobile or a landline: a neighbourhood committee or a village office often has only a desk phone.
    if isinstance(given, Contact):
        return {"phone": normalise_contact_phone(given.phone)}
    if not isinstance(given, Text):
        raise InvalidInput("chat.need.type_answer")
    return {"phone": normalise_contact_phone(given.text)}


async def _ask_group(turn: Turn, data: Data) -> None:
    groups = [Choice(turn.t(f"code.service_group.{g.value}"), f"f.{g.value}") for g in ServiceContentGroup]
    turn.say("chat.need.ask.group", *groups, cancel(turn), columns=2, step=_number("group", data))


async def _take_group(turn: Turn, given: Input, data: Data) -> Data:
    return {"group": code(given, ServiceContentGroup, PICK_BUTTON)}


async def _ask_content(turn: Turn, data: Data) -> None:
    kinds = [c for c in ServiceContent if c.group.value == data["group"]]
    choices = [Choice(turn.t(f"code.service_content.{c.value}"), f"f.{c.value}") for c in kinds]
    choices += [turn.choice("chat.button.back", "f.back"), cancel(turn)]
    turn.say("chat.need.ask.content", *choices, columns=2, step=_number("content", data))


async def _take_content(turn: Turn, given: Input, data: Data) -> Data:
    if pressed(given, PICK_BUTTON) == "back":
        return {"group": None}
    content = code(given, ServiceContent, PICK_BUTTON)
    if ServiceContent(content).group.value != data["group"]:
        raise InvalidInput(PICK_BUTTON)
    return {"content": content}


async def _ask_objects(turn: Turn, data: Data) -> None:
    choices = [Choice(turn.t(f"code.service_object.{o.value}"), f"f.{o.value}") for o in ServiceObject]
    turn.say("chat.need.ask.objects", *choices, cancel(turn), step=_number("objects", data))


async def _take_objects(turn: Turn, given: Input, data: Data) -> Data:
    return {"objects": [code(given, ServiceObject, PICK_BUTTON)]}


async def _ask_volunteers(turn: Turn, data: Data) -> None:
    # 取消 as a button only where buttons are pressed: on a channel of numbered options a typed number
    # must stay an answer ("1" would pick option 1), so there the text says to send 取消 instead.
    leave = [] if turn.channel in NUMBERED_CHANNELS else [cancel(turn)]
    turn.say(
        "chat.need.ask.volunteers",
        *leave,
        step=_number("volunteers", data),
        min=VOLUNTEERS_MIN,
        max=VOLUNTEERS_MAX,
    )


async def _take_volunteers(turn: Turn, given: Input, data: Data) -> Data:
    if not isinstance(given, Text):
        raise InvalidInput("chat.need.type_answer")
    return {"volunteers": parse_volunteers(given.text)}


async def _ask_mode(turn: Turn, data: Data) -> None:
    choices = [Choice(turn.t(f"code.mode.{m.value}"), f"f.{m.value}") for m in ActivityMode]
    turn.say("chat.need.ask.mode", *choices, cancel(turn), step=_number("mode", data))


async def _take_mode(turn: Turn, given: Input, data: Data) -> Data:
    mode = code(given, ActivityMode, PICK_BUTTON)
    # Changed to online at the summary: the place given before is no longer part of the need.
    return {"mode": mode, "place": None} if mode == ActivityMode.ONLINE else {"mode": mode}


# None chosen: no particular expertise asked for. On a channel of numbered options, "1,3" picks both.
_EXPERTISE = choosing_many(
    "expertise",
    "chat.need.ask.expertise",
    ProfessionalField,
    "skill",
    refusal=PICK_BUTTON,
    numbers=True,
    params=lambda data: {"step": _number("expertise", data)},
)


async def _ask_expertise(turn: Turn, data: Data) -> None:
    """The list as the forms ask it, with 取消 after 完成, as under the other questions."""
    await _EXPERTISE.ask(turn, data)
    asked = turn.replies[-1]
    assert isinstance(asked, Say)
    turn.replies[-1] = replace(asked, choices=(*asked.choices, cancel(turn)))


STEPS: tuple[Step, ...] = (
    Step(
        "requester",
        always,
        _ask_text("chat.need.ask.requester", max=REQUESTER_MAX),
        _take_text("requester", REQUESTER_MAX, "need.requester.invalid"),
    ),
    Step("consent", lambda d: not d.get("consented"), _ask_consent, _take_consent),
    Step("phone", always, _ask_text("chat.need.ask.phone"), _take_phone),
    Step(
        "description",
        always,
        _ask_text("chat.need.ask.description", max=DESCRIPTION_MAX),
        _take_text("description", DESCRIPTION_MAX, "need.description.invalid"),
    ),
    Step("group", always, _ask_group, _take_group),
    Step("content", always, _ask_content, _take_content),
    Step("objects", always, _ask_objects, _take_objects),
    Step("volunteers", always, _ask_volunteers, _take_volunteers),
    Step("expertise", _EXPERTISE.needed, _ask_expertise, _EXPERTISE.take, retry=_EXPERTISE.retry),
    Step("mode", always, _ask_mode, _take_mode),
    Step(
        "time",
        always,
        _ask_text("chat.need.ask.time", max=TIME_MAX),
        _take_text("time", TIME_MAX, "need.time.invalid"),
    ),
    Step(
        "place",
        activity_form.has_place,
        _ask_text("chat.need.ask.place", max=PLACE_MAX),
        _take_text("place", PLACE_MAX, "need.place.invalid"),
    ),
)
FORM = Form(NEED_FORM, STEPS, unanswered=lambda data, name: data.get(name) is None)
_STEP_OF_KEY = {
    "chat.need.ask.requester": "requester",
    "chat.need.ask.phone": "phone",
    "chat.need.ask.description": "description",
    "chat.need.ask.time": "time",
    "chat.need.ask.place": "place",
}


# ---- the requester's form -----------------------------------------------------------------------


@router.command("need", button=NewNeed)
async def start_need(turn: Turn, arg: str = "") -> None:
    """/need, the menu button, or a deep link need / need-<org id> addressing one org."""
    data: Data = {}
    org_id = typed_id(arg.strip())
    if org_id is not None:
        org = await addressable_org(turn.uow, org_id)
        data = {"org": org.id, "org_name": org.name}
    if await turn.uow.consents.active(turn.user_id, ConsentKind.PRIVACY_NOTICE) is not None:
        data["consented"] = True
    total = FORM.count(data)
    if "org_name" in data:
        turn.say("chat.need.intro_org", count=total, org=data["org_name"])
    else:
        turn.say("chat.need.intro", count=total)
    await FORM.proceed(turn, data)


@router.flow(NEED_FORM)
async def need_step(turn: Turn, given: Input) -> None:
    if turn.state.step == SUMMARY:
        await _finish(turn, given, dict(turn.state.data))
    elif turn.state.step == EDIT_PICK:
        await _pick(turn, given, dict(turn.state.data))
    else:
        await _answer(turn, given)


async def _answer(turn: Turn, given: Input) -> None:
    data = await FORM.answer(turn, given)
    if data is None:
        return
    if data.pop("declined", False):
        end_form(turn, "chat.need.declined")
        return
    if await FORM.proceed(turn, data):
        CONFIRM.show(turn, data)


def _summary_fields(turn: Turn, data: Data) -> dict[str, Any]:
    expertise = turn.join(turn.t(f"code.skill.{e}") for e in data["expertise"])
    return {
        "requester": data["requester"],
        "phone": data["phone"],
        "description": data["description"],
        "content": turn.t(f"code.service_content.{data['content']}"),
        "objects": turn.join(turn.t(f"code.service_object.{o}") for o in data["objects"]),
        "volunteers": data["volunteers"],
        "expertise": expertise or turn.t("chat.need.any_expertise"),
        "mode": turn.t(f"code.mode.{data['mode']}"),
        "time": data["time"],
        "place": data.get("place") or "-",
        "org": data.get("org_name") or turn.t("chat.need.any_org"),
    }


class _Confirm(Summary):
    """The form's Summary with 修改 between 提交需求 and 取消: one answer is changed without the other
    eleven being asked again."""

    def show(self, turn: Turn, data: Data) -> None:
        turn.say(
            self.key,
            turn.choice(self.submit, "f.submit"),
            turn.choice("chat.need.button.edit", "f.edit"),
            turn.choice("chat.button.cancel", "f.cancel"),
            columns=3,
            **self.fields(turn, data),
        )

    def submitted(self, turn: Turn, given: Input, data: Data) -> bool:
        if button_value(given) == "edit":
            turn.state.go(EDIT_PICK)
            _ask_pick(turn, data)
            return False
        return super().submitted(turn, given, data)


CONFIRM = _Confirm("chat.need.summary", "chat.need.button.submit", "chat.need.cancelled", _summary_fields)

# The answers the summary lets the requester change, each with the steps asked again: the service
# content is picked within its area, so both are; the place only where the service has one.
EDITABLE: dict[str, tuple[str, ...]] = {
    "requester": ("requester",),
    "phone": ("phone",),
    "description": ("description",),
    "content": ("group", "content"),
    "objects": ("objects",),
    "volunteers": ("volunteers",),
    "expertise": ("expertise",),
    "mode": ("mode",),
    "time": ("time",),
    "place": ("place",),
}


def _editable(data: Data) -> list[str]:
    return [name for name in EDITABLE if name != "place" or activity_form.has_place(data)]


def _ask_pick(turn: Turn, data: Data) -> None:
    choices = [turn.choice(f"chat.need.field.{name}", f"f.fld.{name}") for name in _editable(data)]
    back = turn.choice("chat.need.button.back_to_summary", "f.back")
    turn.say("chat.need.edit.pick", *choices, back, columns=2)


async def _pick(turn: Turn, given: Input, data: Data) -> None:
    """The answer to change: its question is asked again (a changed mode may add the place), then
    the summary comes back; 返回 goes back to the summary unchanged."""
    picked = button_value(given) or ""
    if picked == "back":
        turn.state.go(SUMMARY)
        CONFIRM.show(turn, data)
        return
    name = picked.removeprefix("fld.")
    if not picked.startswith("fld.") or name not in _editable(data):
        turn.say(PICK_BUTTON)
        _ask_pick(turn, data)
        return
    for step in EDITABLE[name]:
        data.pop(step, None)  # the ticks of the expertise picked before stay, to be changed
    if await FORM.proceed(turn, data):
        CONFIRM.show(turn, data)


async def _finish(turn: Turn, given: Input, data: Data) -> None:
    if not CONFIRM.submitted(turn, given, data):
        return
    form = NeedForm(
        requester=data["requester"],
        phone=data["phone"],
        description=data["description"],
        service_content=data["content"],
        service_objects=tuple(data["objects"]),
        volunteers_needed=int(data["volunteers"]),
        mode=data["mode"],
        preferred_time=data["time"],
        place=data.get("place") or "",
        expertise=tuple(data["expertise"]),
        org_id=data.get("org"),
    )
    try:
        need = await submit_need(turn.uow, turn.clock, turn.user_id, form)
    except DomainError as error:
        # Checked before anything is written (the org may have closed meanwhile): say why.
        turn.refuse(error)
        CONFIRM.show(turn, data)
        return
    end_form(turn, "chat.need.submitted", number=need.id)


# ---- staff: review, take, close -----------------------------------------------------------------


@router.command("needs", button=Needs)
@staff_only
async def list_needs(turn: Turn, _: str = "") -> None:
    items = await open_needs(turn.uow, turn.actor)
    if not items:
        turn.say("chat.need.list.none", turn.choice("chat.button.menu", Menu()))
        return
    choices = [
        Choice(
            turn.label(
                "chat.need.list.item",
                "content",
                number=n.id,
                status=turn.t(f"code.need_status.{n.status.value}"),
                requester=n.requester,
                content=turn.t(f"code.service_content.{n.service_content.value}"),
            ),
            ShowNeed(n.id or 0).pack(),
        )
        for n in items
    ]
    turn.say("chat.need.list.title", *choices, turn.choice("chat.button.menu", Menu()), count=len(items))


def _back(turn: Turn) -> Choice:
    return turn.choice("chat.need.button.list", Needs())


@router.button(ShowNeed)
async def show_need(turn: Turn, action: ShowNeed) -> None:
    turn.state.clear()  # opening a need leaves any question asked before (a rejection's reason)
    need = await need_for_staff(turn.uow, turn.actor, action.need_id)
    turn.say(_card(turn, need), *await _actions(turn, need), _back(turn), **await _card_params(turn, need))


def _card(turn: Turn, need: Need) -> str:
    return "chat.need.card_rejected" if need.status is NeedStatus.REJECTED else "chat.need.card"


async def _card_params(turn: Turn, need: Need) -> Data:
    org = await turn.uow.orgs.get(need.org_id) if need.org_id is not None else None
    taker = await turn.uow.orgs.get(need.taken_by_org) if need.taken_by_org is not None else None
    return {
        "number": need.id,
        "status": turn.t(f"code.need_status.{need.status.value}"),
        "requester": need.requester,
        # The contact only for those arranging the service (3-6.1.1 privacy line).
        "phone": need.phone if may_see_contact(turn.actor, need) else mask_phone(need.phone),
        "description": need.description,
        "content": turn.t(f"code.service_content.{need.service_content.value}"),
        "objects": turn.join(turn.t(f"code.service_object.{o}") for o in need.service_objects),
        "volunteers": need.volunteers_needed,
        "expertise": turn.join(turn.t(f"code.skill.{e}") for e in need.expertise)
        or turn.t("chat.need.any_expertise"),
        "mode": turn.t(f"code.mode.{need.mode.value}"),
        "time": need.preferred_time,
        "place": need.place or "-",
        "org": org.name if org else turn.t("chat.need.any_org"),
        "taker": taker.name if taker else "-",
        "sent": turn.local_time(need.created_at),
        "reason": need.status_reason or "",
    }


async def _actions(turn: Turn, need: Need) -> list[Choice]:
    need_id = need.id or 0
    if need.status is NeedStatus.SUBMITTED and may_review(turn.actor, need):
        return [
            turn.choice("chat.need.button.approve", ApproveNeed(need_id)),
            turn.choice("chat.need.button.reject", RejectNeed(need_id)),
        ]
    if need.status is NeedStatus.APPROVED:
        choices = []
        for org_id in orgs_that_may_take(turn.actor, need):
            org = await turn.uow.orgs.get(org_id)
            if org is not None and org.active:
                label = turn.label("chat.need.button.take", "org", org=org.name)
                choices.append(Choice(label, TakeNeed(need_id, org_id).pack()))
        return choices
    if need.status is NeedStatus.TAKEN and may_see_contact(turn.actor, need):
        planned = await activity_of_need(turn.uow, need_id)
        return [
            turn.choice("matching.button.match", MatchNeed(need_id)),
            turn.choice("matching.button.view_activity", StaffCard(planned))
            if planned is not None
            else turn.choice("matching.button.plan", PlanNeed(need_id)),
            turn.choice("chat.need.button.close", CloseNeed(need_id)),
        ]
    return []


@router.button(ApproveNeed)
async def approve(turn: Turn, action: ApproveNeed) -> None:
    need = await decide_need(turn.uow, turn.clock, turn.actor, action.need_id, approve=True)
    turn.say("chat.need.approved", number=need.id)
    await show_need(turn, ShowNeed(action.need_id))


@router.button(RejectNeed)
async def ask_reject(turn: Turn, action: RejectNeed) -> None:
    need = await need_for_staff(turn.uow, turn.actor, action.need_id)
    await REASON.ask(turn, action.need_id, still_open=need.status is NeedStatus.SUBMITTED)


@router.flow(NEED_REASON)
async def reason_step(turn: Turn, given: Input) -> None:
    async def reject(need_id: int, reason: str) -> None:
        check_text(reason, REASON_MAX, "need.reason.invalid")
        need = await decide_need(turn.uow, turn.clock, turn.actor, need_id, approve=False, reason=reason)
        turn.say("chat.need.rejected", _back(turn), number=need.id, reason=need.status_reason)

    await REASON.answer(turn, given, reject)


async def _show(turn: Turn, need_id: int) -> None:
    await show_need(turn, ShowNeed(need_id))


REASON = StaffQuestion(
    NEED_REASON, "reason", "need_id", "chat.need.ask_reason", REASON_MAX, back=_back, show=_show
)


@router.button(TakeNeed)
async def take(turn: Turn, action: TakeNeed) -> None:
    need = await take_need(turn.uow, turn.clock, turn.actor, action.need_id, action.org_id)
    turn.say("chat.need.taken", number=need.id)
    await show_need(turn, ShowNeed(action.need_id))  # the card with the full contact, to arrange the service
    await plan(turn, PlanNeed(action.need_id))


@router.button(PlanNeed)
async def plan(turn: Turn, action: PlanNeed) -> None:
    """3-6.1.2: the taken need becomes an activity plan, prefilled from it; the organizer answers what
    the need does not say (the exact time, the check-in point, the risks) and publishes it."""
    turn.state.clear()
    need = await plannable_need(turn.uow, turn.actor, action.need_id)
    assert need.taken_by_org is not None
    org = await addressable_org(turn.uow, need.taken_by_org)
    content = ServiceContent(need.service_content)
    data = activity_form.org_answers(org)
    data.update(
        need=need.id,
        title=turn.t(
            "matching.draft_title",
            content=turn.t(f"code.service_content.{content.value}"),
            requester=need.requester,
        )[:100],
        group=content.group.value,
        service_content=content.value,
        mode=need.mode.value,
        capacity=need.volunteers_needed,
        content=need.description,
        beneficiaries=need.requester,
        required_skills=list(need.expertise),
        training_kind=activity_form.NOT_TRAINING,
    )
    if need.mode is not ActivityMode.ONLINE and need.place:
        data.update(base=None, place_name=need.place[:100], address="")
    turn.say(
        "matching.plan_intro",
        number=need.id,
        time=need.preferred_time,
        count=sum(1 for s in activity_form.FORM.steps if s.needed(data) and s.name not in data),
    )
    await activity_form.FORM.proceed(turn, data)


@router.button(CloseNeed)
async def close(turn: Turn, action: CloseNeed) -> None:
    need = await close_need(turn.uow, turn.clock, turn.actor, action.need_id)
    turn.say("chat.need.closed", _back(turn), number=need.id)
