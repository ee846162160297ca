"""Founding an org in chat (1-5.3, 1-5.3.3 c): one question at a time, each answer checked, then a
summary to submit. The application goes to the parent org's staff (归属管理单位) for review (1-5.4)."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable

from core.chat.messages import Button, Choice, Contact, Input, Text
from core.chat.turn import Turn
from core.domain.codes import OrgKind, ServiceContent
from core.domain.identity_numbers import normalise_mobile
from core.domain.organization import NAME_MAX, NAME_MIN, OrgStatus, check_org_name
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.services.organizations import OrgApplication
from core.services.reviews import submit_org_application

ORG_APPLICATION = "org_application"
PARENT_PAGE = 8
FIELD_MAX = 100
REQUIREMENTS_MAX = 500
LEADER_MAX = 40
MEMBERS_MIN, MEMBERS_MAX = 1, 100_000
# Brigades (总队) are registered by a platform admin, not applied for in chat (1-5.2 note 1).
KINDS = (OrgKind.TEAM, OrgKind.ASSOCIATION)
_TYPED = ("name", "field", "requirements", "leader_name", "leader_contact", "members")


async def start_application(turn: Turn, _: str = "") -> None:
    actor = turn.actor
    if actor.volunteer_id is None and not actor.staff_of and not actor.admin:
        turn.say(
            "org.apply.register_first",
            turn.choice("chat.menu.register", "reg"),
            turn.choice("chat.button.menu", "menu"),
        )
        return
    turn.state.start(ORG_APPLICATION, "name")
    turn.say("chat.orgapp.intro")
    await _ask(turn)


# ---- the questions ------------------------------------------------------------------------------


def _cancel(turn: Turn) -> Choice:
    return turn.choice("chat.button.cancel", "menu")


async def _ask_name(turn: Turn) -> None:
    turn.say("chat.orgapp.ask.name", _cancel(turn), min=NAME_MIN, max=NAME_MAX)


async def _ask_kind(turn: Turn) -> None:
    choices = [turn.choice(f"chat.orgapp.kind.{kind.value}", f"f.{kind.value}") for kind in KINDS]
    turn.say("chat.orgapp.ask.kind", *choices, _cancel(turn))


async def _ask_parent(turn: Turn) -> None:
    offset = int(turn.state.data.get("parent_offset", 0))
    orgs = await turn.uow.orgs.list(OrgStatus.APPROVED)
    if not orgs:
        turn.state.clear()
        turn.say("chat.orgapp.no_parent", turn.choice("chat.button.menu", "menu"))
        return
    page = orgs[offset : offset + PARENT_PAGE]
    choices = [Choice(org.name, f"f.{org.id}") for org in page]
    if offset + PARENT_PAGE < len(orgs):
        choices.append(turn.choice("chat.button.next_page", f"f.more:{offset + PARENT_PAGE}"))
    if offset:
        choices.append(turn.choice("chat.orgapp.first_page", "f.more:0"))
    turn.say("chat.orgapp.ask.parent", *choices, _cancel(turn))


async def _ask_field(turn: Turn) -> None:
    turn.say("chat.orgapp.ask.field", _cancel(turn), max=FIELD_MAX)


async def _ask_items(turn: Turn) -> None:
    chosen = set(turn.state.data.get("items", []))
    choices = [
        Choice(
            ("✅ " if code.value in chosen else "") + turn.t(f"code.service_content.{code.value}"),
            f"f.{code.value}",
        )
        for code in ServiceContent
    ]
    choices.append(turn.choice("chat.button.done", "f.done"))
    turn.say("chat.orgapp.ask.items", *choices, columns=2, count=len(chosen))


async def _ask_requirements(turn: Turn) -> None:
    turn.say("chat.orgapp.ask.requirements", _cancel(turn), max=REQUIREMENTS_MAX)


async def _ask_leader_name(turn: Turn) -> None:
    turn.say("chat.orgapp.ask.leader_name", _cancel(turn))


async def _ask_leader_contact(turn: Turn) -> None:
    turn.say("chat.orgapp.ask.leader_contact", _cancel(turn))


async def _ask_members(turn: Turn) -> None:
    # No button here: on a channel of numbered options, a typed number must stay an answer.
    turn.say("chat.orgapp.ask.members", min=MEMBERS_MIN, max=MEMBERS_MAX)


async def _ask_confirm(turn: Turn) -> None:
    data = turn.state.data
    turn.say(
        "chat.orgapp.summary",
        turn.choice("chat.orgapp.submit", "f.submit"),
        turn.choice("chat.button.cancel", "f.cancel"),
        columns=2,
        name=data["name"],
        kind=turn.t(f"chat.orgapp.kind.{data['kind']}"),
        parent=data["parent_name"],
        field=data["field"],
        items=turn.join(turn.t(f"code.service_content.{i}") for i in data["items"]),
        requirements=data["requirements"] or "-",
        leader=data["leader_name"],
        contact=data["leader_contact"],
        members=data["members"],
    )


_ASK: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "name": _ask_name,
    "kind": _ask_kind,
    "parent": _ask_parent,
    "field": _ask_field,
    "items": _ask_items,
    "requirements": _ask_requirements,
    "leader_name": _ask_leader_name,
    "leader_contact": _ask_leader_contact,
    "members": _ask_members,
    "confirm": _ask_confirm,
}


async def _ask(turn: Turn) -> None:
    await _ASK[turn.state.step](turn)


# ---- reading the answers ------------------------------------------------------------------------


async def application_step(turn: Turn, given: Input) -> None:
    state = turn.state
    step = state.step
    pressed = given.payload[2:] if isinstance(given, Button) and given.payload.startswith("f.") else None
    text = " ".join(given.text.split()) if isinstance(given, Text) else None
    try:
        if step in _TYPED and text is None and not (step == "leader_contact" and isinstance(given, Contact)):
            turn.say("chat.orgapp.type_answer")
        elif step in ("kind", "parent", "items", "confirm") and pressed is None:
            turn.say("chat.orgapp.pick_button")
        elif step == "confirm":
            await _confirm(turn, pressed or "")
            return
        elif step == "items":
            _toggle_item(turn, pressed or "")
        else:
            await _answer(turn, step, pressed, text, given)
    except DomainError as error:
        # A wrong answer: say why and ask the same question again; the flow stays where it was.
        turn.refuse(error)
    if state.flow == ORG_APPLICATION:
        await _ask(turn)


async def _answer(turn: Turn, step: str, pressed: str | None, text: str | None, given: Input) -> None:
    state = turn.state
    if step == "name":
        # 1-5.2: the forbidden words are named in the refusal; a 总队 is not applied for here.
        name = check_org_name(text or "", OrgKind.TEAM)
        if await turn.uow.orgs.by_name(name) is not None:
            raise Conflict("org.name.taken", name=name)
        state.go("kind", name=name)
    elif step == "kind":
        if pressed not in {kind.value for kind in KINDS}:
            raise InvalidInput("chat.orgapp.pick_button")
        state.go("parent", kind=pressed, parent_offset=0)
    elif step == "parent":
        if pressed and pressed.startswith("more:") and pressed[5:].isdigit():
            state.go("parent", parent_offset=int(pressed[5:]))
            return
        parent = await turn.uow.orgs.get(int(pressed)) if pressed and pressed.isdigit() else None
        if parent is None or not parent.active:
            raise NotFound("org.parent.not_found")
        state.go("field", parent_id=parent.id, parent_name=parent.name)
    elif step == "field":
        if not text or len(text) > FIELD_MAX:
            raise InvalidInput("chat.orgapp.field.invalid", max=FIELD_MAX)
        state.go("items", field=text, items=[])
    elif step == "requirements":
        if not text or len(text) > REQUIREMENTS_MAX:
            raise InvalidInput("chat.orgapp.requirements.invalid", max=REQUIREMENTS_MAX)
        state.go("leader_name", requirements=text)
    elif step == "leader_name":
        if not text or len(text) > LEADER_MAX:
            raise InvalidInput("chat.orgapp.leader_name.invalid", max=LEADER_MAX)
        state.go("leader_contact", leader_name=text)
    elif step == "leader_contact":
        raw = given.phone if isinstance(given, Contact) else text or ""
        state.go("members", leader_contact=normalise_mobile(raw))
    elif step == "members":
        state.go("confirm", members=_member_count(text or ""))


def _member_count(text: str) -> int:
    digits = unicodedata.normalize("NFKC", text).strip().removesuffix("人").strip()
    if not (digits.isascii() and digits.isdigit()) or not MEMBERS_MIN <= int(digits) <= MEMBERS_MAX:
        raise InvalidInput("chat.orgapp.members.invalid", min=MEMBERS_MIN, max=MEMBERS_MAX)
    return int(digits)


def _toggle_item(turn: Turn, pressed: str) -> None:
    chosen: list[str] = list(turn.state.data.get("items", []))
    if pressed == "done":
        if not chosen:
            raise InvalidInput("chat.orgapp.items.empty")
        turn.state.go("requirements")
        return
    if pressed not in ServiceContent._value2member_map_:
        raise InvalidInput("chat.orgapp.pick_button")
    chosen = [c for c in chosen if c != pressed] if pressed in chosen else [*chosen, pressed]
    turn.state.go("items", items=chosen)


async def _confirm(turn: Turn, pressed: str) -> None:
    state = turn.state
    if pressed == "cancel":
        state.clear()
        turn.say("chat.orgapp.cancelled", turn.choice("chat.button.menu", "menu"))
        return
    if pressed != "submit":
        turn.say("chat.orgapp.pick_button")
        await _ask_confirm(turn)
        return
    data = state.data
    form = OrgApplication(
        name=data["name"],
        kind=OrgKind(data["kind"]),
        parent_id=int(data["parent_id"]),
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
        # Checked before anything is written; a name taken meanwhile is asked again, else the summary.
        turn.refuse(error)
        if error.key.startswith("org.name."):
            state.go("name")
        await _ask(turn)
        return
    state.clear()
    turn.say(
        "chat.orgapp.submitted",
        turn.choice("chat.button.menu", "menu"),
        name=org.name,
        parent=data["parent_name"],
    )
