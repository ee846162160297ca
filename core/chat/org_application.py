"""Founding an org in chat (1-5.3, 1-5.3.3 c): one question at a time, each answer checked, then a
summary to submit. The application goes to the parent org's staff (归属管理单位) for review (1-5.4)."""

from __future__ import annotations

import unicodedata
from typing import Any

from core.chat.forms import (
    SUMMARY,
    Data,
    Form,
    Step,
    Summary,
    always,
    asking,
    choosing_many,
    end_form,
    pressed,
    taking,
    typed,
)
from core.chat.messages import Choice, Contact, Input
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import FoundOrg, Menu, Register
from core.domain.codes import OrgKind, ServiceContent
from core.domain.identity_numbers import normalise_mobile
from core.domain.organization import NAME_MAX, NAME_MIN, OrgStatus, check_org_name
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.services.organizations import OrgApplication
from core.services.reviews import submit_org_application

router = Router()

ORG_APPLICATION = "org_application"
PARENT_PAGE = 8
FIELD_MAX = 100
REQUIREMENTS_MAX = 500
LEADER_MAX = 40
MEMBERS_MIN, MEMBERS_MAX = 1, 100_000
# Brigades (总队) are registered by a platform admin, not applied for in chat (1-5.2 note 1).
KINDS = (OrgKind.TEAM, OrgKind.ASSOCIATION)
PICK_BUTTON = "chat.orgapp.pick_button"


@router.command("neworg", button=FoundOrg)
async def start_application(turn: Turn, _: str = "") -> None:
    actor = turn.actor
    if actor.volunteer_id is None and not actor.staff_of and not actor.admin:
        turn.say(
            "org.apply.register_first",
            turn.choice("chat.menu.register", Register()),
            turn.choice("chat.button.menu", Menu()),
        )
        return
    turn.say("chat.orgapp.intro")
    await FORM.proceed(turn, {})


# ---- the questions and their answers ------------------------------------------------------------


def _typed(given: Input) -> str:
    """The text typed, its spaces squeezed."""
    return " ".join(typed(given, "chat.orgapp.type_answer").split())


def _checked(given: Input, max_length: int, invalid: str) -> str:
    text = _typed(given)
    if not text or len(text) > max_length:
        raise InvalidInput(invalid, max=max_length)
    return text


def _typed_step(field: str, max_length: int) -> Step:
    """A line of text up to ``max_length`` characters, refused with "chat.orgapp.<field>.invalid"."""

    async def take(turn: Turn, given: Input, data: Data) -> Data:
        return {field: _checked(given, max_length, f"chat.orgapp.{field}.invalid")}

    return Step(field, always, asking(f"chat.orgapp.ask.{field}", with_cancel=True, max=max_length), take)


async def _take_name(turn: Turn, given: Input, data: Data) -> Data:
    # 1-5.2: the forbidden words are named in the refusal; a 总队 is not applied for here.
    name = check_org_name(_typed(given), OrgKind.TEAM)
    if await turn.uow.orgs.by_name(name) is not None:
        raise Conflict("org.name.taken", name=name)
    return {"name": name}


async def _ask_kind(turn: Turn, data: Data) -> None:
    choices = [turn.choice(f"chat.orgapp.kind.{kind.value}", f"f.{kind.value}") for kind in KINDS]
    turn.say("chat.orgapp.ask.kind", *choices, _cancel(turn))


async def _take_kind(turn: Turn, given: Input, data: Data) -> Data:
    kind = pressed(given, PICK_BUTTON)
    if kind not in {kind.value for kind in KINDS}:
        raise InvalidInput(PICK_BUTTON)
    return {"kind": kind, "parent_offset": 0}


async def _ask_parent(turn: Turn, data: Data) -> None:
    offset = int(data.get("parent_offset", 0))
    orgs = await turn.uow.orgs.list(OrgStatus.APPROVED)
    if not orgs:
        turn.state.clear()
        turn.say("chat.orgapp.no_parent", turn.choice("chat.button.menu", Menu()))
        return
    page = orgs[offset : offset + PARENT_PAGE]
    choices = [Choice(org.name, f"f.{org.id}") for org in page]
    if offset + PARENT_PAGE < len(orgs):
        choices.append(turn.choice("chat.button.next_page", f"f.more:{offset + PARENT_PAGE}"))
    if offset:
        choices.append(turn.choice("chat.orgapp.first_page", "f.more:0"))
    turn.say("chat.orgapp.ask.parent", *choices, _cancel(turn))


async def _take_parent(turn: Turn, given: Input, data: Data) -> Data:
    picked = pressed(given, PICK_BUTTON)
    if picked.startswith("more:") and picked[5:].isdigit():
        return {"parent_offset": int(picked[5:])}  # another page: the same question
    parent = await turn.uow.orgs.get(int(picked)) if picked.isdigit() else None
    if parent is None or not parent.active:
        raise NotFound("org.parent.not_found")
    return {"parent": parent.id, "parent_name": parent.name}


def _contact(given: Input) -> str:
    return normalise_mobile(given.phone if isinstance(given, Contact) else _typed(given))


def _member_count(given: Input) -> int:
    digits = unicodedata.normalize("NFKC", _typed(given)).strip().removesuffix("人").strip()
    if not (digits.isascii() and digits.isdigit()) or not MEMBERS_MIN <= int(digits) <= MEMBERS_MAX:
        raise InvalidInput("chat.orgapp.members.invalid", min=MEMBERS_MIN, max=MEMBERS_MAX)
    return int(digits)


def _cancel(turn: Turn) -> Choice:
    return turn.choice("chat.button.cancel", Menu())


FORM = Form(
    ORG_APPLICATION,
    (
        Step(
            "name",
            always,
            asking("chat.orgapp.ask.name", with_cancel=True, min=NAME_MIN, max=NAME_MAX),
            _take_name,
        ),
        Step("kind", always, _ask_kind, _take_kind),
        Step("parent", always, _ask_parent, _take_parent),
        _typed_step("field", FIELD_MAX),
        choosing_many(
            "items",
            "chat.orgapp.ask.items",
            ServiceContent,
            "service_content",
            refusal=PICK_BUTTON,
            empty="chat.orgapp.items.empty",
        ),
        _typed_step("requirements", REQUIREMENTS_MAX),
        _typed_step("leader_name", LEADER_MAX),
        Step(
            "leader_contact",
            always,
            asking("chat.orgapp.ask.leader_contact", with_cancel=True),
            taking("leader_contact", _contact),
        ),
        # No button here: on a channel of numbered options, a typed number must stay an answer.
        Step(
            "members",
            always,
            asking("chat.orgapp.ask.members", min=MEMBERS_MIN, max=MEMBERS_MAX),
            taking("members", _member_count),
        ),
    ),
)


@router.flow(ORG_APPLICATION)
async def application_step(turn: Turn, given: Input) -> None:
    if turn.state.step == SUMMARY:
        await _confirm(turn, given)
        return
    data = await FORM.answer(turn, given)
    if data is not None and await FORM.proceed(turn, data):
        CONFIRM.show(turn, data)


# ---- the summary --------------------------------------------------------------------------------


def _summary_fields(turn: Turn, data: Data) -> dict[str, Any]:
    return {
        "name": data["name"],
        "kind": turn.t(f"chat.orgapp.kind.{data['kind']}"),
        "parent": data["parent_name"],
        "field": data["field"],
        "items": turn.join(turn.t(f"code.service_content.{i}") for i in data["items"]),
        "requirements": data["requirements"] or "-",
        "leader": data["leader_name"],
        "contact": data["leader_contact"],
        "members": data["members"],
    }


# The answers as they will be sent, to submit or leave.
CONFIRM = Summary("chat.orgapp.summary", "chat.orgapp.submit", "chat.orgapp.cancelled", _summary_fields)


async def _confirm(turn: Turn, given: Input) -> None:
    data = dict(turn.state.data)
    if not CONFIRM.submitted(turn, given, data):
        return
    form = OrgApplication(
        name=data["name"],
        kind=OrgKind(data["kind"]),
        parent_id=int(data["parent"]),
        service_field=data["field"],
        service_items=tuple(data["items"]),
        requirements=data["requirements"],
        leader_name=data["leader_name"],
        leader_contact=data["leader_contact"],
        member_count=int(data["members"]),
    )
    try:
        org = await submit_org_application(turn.uow, turn.clock, turn.actor, form)
    except DomainError as error:
        # Checked before anything is written; a name taken meanwhile is asked again, and the
        # questions after it, else the summary.
        turn.refuse(error)
        if error.key.startswith("org.name."):
            await FORM.proceed(turn, {})
        else:
            CONFIRM.show(turn, data)
        return
    end_form(turn, "chat.orgapp.submitted", name=org.name, parent=data["parent_name"])
