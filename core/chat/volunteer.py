"""Volunteer registration (2-7.1), the menu, help, profile and consents."""

from __future__ import annotations

import re
from datetime import date

from core.chat.messages import Button, Choice, Contact, Input, Text
from core.chat.turn import NUMBERED_CHANNELS, Turn
from core.domain.codes import ProfessionalField, ServiceContent
from core.domain.identity_numbers import age_on, ascii_form, normalise_mobile
from core.domain.organization import OrgStatus
from core.domain.people import ConsentKind
from core.errors import DomainError, InvalidInput
from core.services.access import load_actor
from core.services.users import set_language
from core.services.volunteers import (
    RegistrationForm,
    give_consent,
    plausible_name,
    register_volunteer,
    request_membership,
    update_profile,
    withdraw_consent,
)

REGISTRATION = "register"
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


async def show_menu(turn: Turn, _: str = "") -> None:
    choices = [
        turn.choice("chat.menu.find", "find"),
        turn.choice("chat.menu.mine", "my"),
    ]
    if turn.actor.volunteer_id is None:
        choices.insert(0, turn.choice("chat.menu.register", "reg"))
    else:
        choices.append(turn.choice("chat.menu.checkin", "ci"))
        choices.append(turn.choice("chat.menu.hours", "hours"))
        choices.append(turn.choice("chat.menu.profile", "prof"))
        choices.append(turn.choice("chat.menu.found_org", "orgapp"))
    choices.append(turn.choice("chat.menu.need", "need"))
    choices.append(turn.choice("chat.menu.feedback", "fb"))
    if turn.actor.staff_of or turn.actor.admin:
        choices.append(turn.choice("chat.menu.organizer", "org"))
    choices.append(turn.choice("chat.menu.help", "help"))
    turn.say("chat.menu.title", *choices, columns=2)


async def show_help(turn: Turn, _: str = "") -> None:
    turn.say("chat.help", turn.choice("chat.button.menu", "menu"))


# ---- registration -------------------------------------------------------------------------------


async def start_registration(turn: Turn, after: str = "") -> None:
    if turn.actor.volunteer_id is not None:
        turn.say("volunteer.already_registered")
        await show_menu(turn)
        return
    turn.state.start(REGISTRATION, "lang", after=after)
    turn.say("chat.reg.language", Choice("中文", "f.zh_CN"), Choice("English", "f.en"), columns=2)


def _toggle_list(
    turn: Turn, table: type[ProfessionalField] | type[ServiceContent], label: str, field: str
) -> None:
    chosen = set(turn.state.data.get(field, []))
    choices = [
        Choice(
            ("✅ " if code.value in chosen else "") + turn.t(f"code.{label}.{code.value}"), f"f.{code.value}"
        )
        for code in table
    ]
    choices.append(turn.choice("chat.button.done", "f.done"))
    turn.say(f"chat.reg.{field}", *choices, columns=2, count=len(chosen))


# Several numbers in one reply to a 可多选 list: "1,3", "1 3", "1，3", "1、3".
_MANY = re.compile(r"^\d+(?:\s*[,;、；]\s*\d+|\s+\d+)+$")


def _picked_many(
    turn: Turn, text: str | None, table: type[ProfessionalField] | type[ServiceContent]
) -> list[str] | None:
    """On a channel of numbered options, a reply of several numbers picks each of those options of a
    multi-select list: their codes, in order. None when the text is no list of numbers; [] when a
    number picks nothing of the list (the user has been told which, and how to answer)."""
    if not text or turn.channel not in NUMBERED_CHANNELS:
        return None
    form = ascii_form(text).strip()
    if not _MANY.match(form):
        return None
    offered = turn.state.offered
    picked: list[str] = []
    for number in (int(n) for n in re.findall(r"\d+", form)):
        payload = offered[number - 1] if 1 <= number <= len(offered) else ""
        code = payload[2:] if payload.startswith("f.") else ""
        if code not in table._value2member_map_:
            turn.say("chat.reg.pick_many.bad", number=number)
            return []
        if code not in picked:
            picked.append(code)
    return picked


def _toggle_each(chosen: list[str], picked: list[str]) -> list[str]:
    """Each picked code is toggled, as if its button had been pressed."""
    for code in picked:
        chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    return chosen


def _parse_date(text: str) -> date:
    match = _DATE.match(text) or re.match(r"^\s*(\d{4})(\d{2})(\d{2})\s*$", text)
    if not match:
        raise InvalidInput("chat.reg.birth.format")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidInput("chat.reg.birth.format") from None


async def registration_step(turn: Turn, given: Input) -> None:
    state = turn.state
    step = state.step
    pressed = given.payload[2:] if isinstance(given, Button) and given.payload.startswith("f.") else None
    text = given.text.strip() if isinstance(given, Text) else None
    try:
        if step == "lang":
            if pressed not in ("zh_CN", "en"):
                turn.say("chat.reg.pick_button")
                return
            await set_language(turn.uow, turn.user_id, pressed)
            turn.use_language(pressed)
            state.go("privacy")
            turn.say(
                "chat.reg.privacy",
                turn.choice("chat.button.agree", "f.yes"),
                turn.choice("chat.button.disagree", "f.no"),
                columns=2,
            )
        elif step == "privacy":
            if pressed == "no":
                state.clear()
                turn.say("chat.reg.privacy_declined")
                await show_menu(turn)
                return
            if pressed != "yes":
                turn.say("chat.reg.pick_button")
                return
            # 2-7.1: the consent is recorded before any personal data is asked for.
            await give_consent(
                turn.uow, turn.clock, turn.user_id, ConsentKind.PRIVACY_NOTICE, policy=turn.policy
            )
            state.go("birth")
            turn.say("chat.reg.birth")
        elif step == "birth":
            born = _parse_date(text or "")
            today = turn.clock.now().date()
            if not date(1900, 1, 1) <= born <= today:
                raise InvalidInput("volunteer.birth_date.range")
            state.go(
                "guardian_name" if age_on(born, today) < turn.policy.guardian_consent_age else "name",
                birth=born.isoformat(),
            )
            if state.step == "guardian_name":
                turn.say("chat.reg.guardian_name", age=turn.policy.guardian_consent_age)
            else:
                turn.say("chat.reg.name")
        elif step == "guardian_name":
            if not text or len(text) > 40:
                turn.say("chat.reg.guardian_name", age=turn.policy.guardian_consent_age)
                return
            state.go("guardian_phone", guardian_name=text)
            turn.say("chat.reg.guardian_phone")
        elif step == "guardian_phone":
            phone = normalise_mobile(text or "")
            state.go("guardian_ok", guardian_phone=phone)
            turn.say(
                "chat.reg.guardian_confirm",
                turn.choice("chat.button.guardian_agrees", "f.yes"),
                turn.choice("chat.button.cancel", "f.no"),
                name=state.data["guardian_name"],
            )
        elif step == "guardian_ok":
            if pressed != "yes":
                state.clear()
                turn.say("chat.reg.guardian_declined")
                await show_menu(turn)
                return
            # PIPL art. 31: the guardian's consent is on record before the child's data is stored.
            await give_consent(
                turn.uow,
                turn.clock,
                turn.user_id,
                ConsentKind.GUARDIAN,
                policy=turn.policy,
                details={
                    "guardian_name": state.data["guardian_name"],
                    "guardian_phone": state.data["guardian_phone"],
                },
            )
            state.go("name")
            turn.say("chat.reg.name")
        elif step == "name":
            if not text or len(text) > 40 or text.startswith("/"):
                turn.say("chat.reg.name")
                return
            if not plausible_name(" ".join(text.split())):
                turn.say("badinput.name_characters")
                return
            state.go("phone", name=" ".join(text.split()))
            turn.ask_contact("chat.reg.phone")
        elif step == "phone":
            if isinstance(given, Contact):
                if not given.own:
                    turn.ask_contact("chat.reg.phone_not_own")
                    return
                raw = given.phone
            else:
                raw = text or ""
            state.go("skills", phone=normalise_mobile(raw), skills=[])
            turn.say("chat.reg.phone_ok", clear_keyboard=True)
            _toggle_list(turn, ProfessionalField, "skill", "skills")
        elif step in ("skills", "areas"):
            field, table, label = (
                ("skills", ProfessionalField, "skill")
                if step == "skills"
                else ("areas", ServiceContent, "service_content")
            )
            chosen: list[str] = list(state.data.get(field, []))
            if pressed == "done":
                if not chosen:
                    turn.say(f"chat.reg.{field}_empty")
                    _toggle_list(turn, table, label, field)
                    return
                if step == "skills":
                    state.go("areas", areas=[])
                    _toggle_list(turn, ServiceContent, "service_content", "areas")
                else:
                    state.go("region")
                    turn.say("chat.reg.region")
                return
            many = _picked_many(turn, text, table)
            if many is not None:
                if many:
                    state.go(step, **{field: _toggle_each(chosen, many)})
                _toggle_list(turn, table, label, field)
                return
            if pressed is None or pressed not in table._value2member_map_:
                turn.say("chat.reg.pick_button")
                _toggle_list(turn, table, label, field)
                return
            chosen = [c for c in chosen if c != pressed] if pressed in chosen else [*chosen, pressed]
            state.go(step, **{field: chosen})
            _toggle_list(turn, table, label, field)
        elif step == "region":
            if not text or len(text) > 100:
                turn.say("chat.reg.region")
                return
            state.go("org", region=text)
            await _ask_org(turn)
        elif step == "org":
            if pressed is None:
                turn.say("chat.reg.pick_button")
                await _ask_org(turn)
                return
            await _finish_registration(turn, None if pressed == "none" else int(pressed))
    except DomainError as error:
        # A wrong answer: say why and ask the same question again; the flow stays where it was.
        turn.refuse(error)
        if step == "phone":
            turn.ask_contact("chat.reg.phone")


async def _ask_org(turn: Turn) -> None:
    orgs = [o for o in await turn.uow.orgs.list(OrgStatus.APPROVED)][:20]
    choices = [Choice(o.name, f"f.{o.id}") for o in orgs]
    choices.append(turn.choice("chat.reg.no_org", "f.none"))
    turn.say("chat.reg.org", *choices)


async def _finish_registration(turn: Turn, org_id: int | None) -> None:
    data = turn.state.data
    form = RegistrationForm(
        name=data["name"],
        phone=data["phone"],
        region=data["region"],
        skills=tuple(data.get("skills", [])),
        service_areas=tuple(data.get("areas", [])),
        birth_date=date.fromisoformat(data["birth"]) if data.get("birth") else None,
    )
    volunteer = await register_volunteer(turn.uow, turn.clock, turn.user_id, form, policy=turn.policy)
    turn.actor = await load_actor(turn.uow, turn.user_id)
    after = data.get("after", "")
    turn.state.clear()
    turn.say("chat.reg.done", name=volunteer.name, number=volunteer.volunteer_number or "")
    if org_id is not None:
        membership = await request_membership(turn.uow, turn.clock, turn.actor, org_id)
        org = await turn.uow.orgs.get(org_id)
        turn.say(f"chat.reg.membership.{membership.status.value}", org=org.name if org else "")
    if after:
        turn.say("chat.reg.continue", Choice(turn.t("chat.button.continue"), after))
    else:
        await show_menu(turn)


# ---- profile and consents -----------------------------------------------------------------------


async def show_profile(turn: Turn, _: str = "") -> None:
    volunteer = await turn.uow.volunteers.by_user(turn.user_id)
    if volunteer is None:
        turn.say("volunteer.not_registered", turn.choice("chat.menu.register", "reg"))
        return
    orgs = []
    for membership in await turn.uow.memberships.for_volunteer(volunteer.id or 0):
        org = await turn.uow.orgs.get(membership.org_id)
        if org is not None:
            status = turn.t(f"code.membership_status.{membership.status.value}")
            orgs.append(turn.t("chat.profile.org_item", org=org.name, status=status))
    turn.say(
        "chat.profile",
        turn.choice("chat.profile.edit", "prof.ed"),
        turn.choice("chat.profile.language", "prof.lang"),
        turn.choice("chat.profile.consents", "prof.consents"),
        turn.choice("chat.link.button", "prof.link"),
        turn.choice("chat.settings.button", "settings"),
        turn.choice("privacy.button.mydata", "pv.data"),
        turn.choice("chat.button.menu", "menu"),
        name=volunteer.name,
        number=volunteer.volunteer_number or "",
        phone=volunteer.phone,
        region=volunteer.region,
        skills=turn.join(turn.t(f"code.skill.{s}") for s in volunteer.skills) or "-",
        areas=turn.join(turn.t(f"code.service_content.{a}") for a in volunteer.service_areas) or "-",
        qualifications=turn.join(turn.t(f"code.qualification.{q}") for q in volunteer.qualifications) or "-",
        orgs=turn.join(orgs) or "-",
    )


PROFILE_EDIT = "profile_edit"
_TABLES: dict[str, tuple[type[ProfessionalField] | type[ServiceContent], str]] = {
    "skills": (ProfessionalField, "skill"),
    "areas": (ServiceContent, "service_content"),
}


async def edit_profile(turn: Turn, field: str = "") -> None:
    """Pick a field, answer the same question as at registration, saved at once."""
    volunteer = await turn.uow.volunteers.by_user(turn.user_id)
    if volunteer is None:
        turn.say("volunteer.not_registered", turn.choice("chat.menu.register", "reg"))
        return
    if field == "name":
        turn.state.start(PROFILE_EDIT, "name")
        turn.say("chat.reg.name")
    elif field == "phone":
        turn.state.start(PROFILE_EDIT, "phone")
        turn.ask_contact("chat.reg.phone")
    elif field == "region":
        turn.state.start(PROFILE_EDIT, "region")
        turn.say("chat.reg.region")
    elif field in _TABLES:
        turn.state.start(
            PROFILE_EDIT, field, **{field: volunteer.skills if field == "skills" else volunteer.service_areas}
        )
        table, label = _TABLES[field]
        _toggle_list(turn, table, label, field)
    else:
        fields = ("name", "phone", "region", "skills", "areas")
        choices = [turn.choice(f"chat.profile.field.{f}", f"prof.ed:{f}") for f in fields]
        turn.say("chat.profile.edit_pick", *choices, turn.choice("chat.menu.profile", "prof"), columns=2)


async def profile_edit_step(turn: Turn, given: Input) -> None:
    step = turn.state.step
    text = given.text.strip() if isinstance(given, Text) else ""
    try:
        if step in _TABLES:
            table, label = _TABLES[step]
            pressed = (
                given.payload[2:] if isinstance(given, Button) and given.payload.startswith("f.") else None
            )
            chosen: list[str] = list(turn.state.data.get(step, []))
            many = _picked_many(turn, text, table)
            if many is not None:
                if many:
                    turn.state.go(step, **{step: _toggle_each(chosen, many)})
                _toggle_list(turn, table, label, step)
                return
            if pressed == "done" and chosen:
                changes: dict[str, object] = {"skills" if step == "skills" else "service_areas": chosen}
            else:
                if pressed is not None and pressed in table._value2member_map_:
                    chosen = [c for c in chosen if c != pressed] if pressed in chosen else [*chosen, pressed]
                    turn.state.go(step, **{step: chosen})
                else:
                    turn.say(f"chat.reg.{step}_empty" if pressed == "done" else "chat.reg.pick_button")
                _toggle_list(turn, table, label, step)
                return
        elif step == "phone":
            if isinstance(given, Contact) and not given.own:
                turn.ask_contact("chat.reg.phone_not_own")
                return
            changes = {"phone": given.phone if isinstance(given, Contact) else text}
        else:
            changes = {step: text}
        await update_profile(turn.uow, turn.clock, turn.actor, changes)
    except DomainError as error:
        turn.refuse(error)
        return
    turn.state.clear()
    turn.say("chat.profile.saved", clear_keyboard=True)
    await show_profile(turn)


async def choose_language(turn: Turn, arg: str) -> None:
    if arg in ("zh_CN", "en"):
        await set_language(turn.uow, turn.user_id, arg)
        turn.use_language(arg)
        turn.say("chat.language.set")
        await show_menu(turn)
        return
    turn.say(
        "chat.reg.language", Choice("中文", "prof.lang:zh_CN"), Choice("English", "prof.lang:en"), columns=2
    )


# Consents a volunteer may give later from the consents screen, each after reading what it allows.
GRANTABLE = (ConsentKind.LOCATION,)


async def show_consents(turn: Turn, _: str = "") -> None:
    choices = []
    active = set()
    for consent in await turn.uow.consents.for_user(turn.user_id):
        if consent.active:
            active.add(consent.kind)
            label = turn.t("chat.consent.withdraw", kind=turn.t(f"code.consent.{consent.kind.value}"))
            choices.append(Choice(label, f"prof.wd:{consent.kind.value}"))
    key = "chat.consent.list" if choices else "chat.consent.none"
    for kind in GRANTABLE:
        if kind not in active:
            label = turn.t("chat.consent.grant", kind=turn.t(f"code.consent.{kind.value}"))
            choices.append(Choice(label, f"prof.gr:{kind.value}"))
    choices.append(turn.choice("chat.button.menu", "menu"))
    turn.say(key, *choices)


async def explain_consent(turn: Turn, kind: str) -> None:
    """PIPL art. 14: the consent is informed — what is kept, for how long, and that it can be withdrawn."""
    if kind not in GRANTABLE:
        await show_consents(turn)
        return
    turn.say(
        f"chat.consent.explain.{kind}",
        turn.choice("chat.consent.agree", f"prof.gra:{kind}"),
        turn.choice("chat.consent.back", "prof.consents"),
        days=turn.policy.location_retention_days,
    )


async def grant(turn: Turn, kind: str) -> None:
    if kind not in GRANTABLE:
        await show_consents(turn)
        return
    if await turn.uow.consents.active(turn.user_id, ConsentKind(kind)) is None:
        await give_consent(turn.uow, turn.clock, turn.user_id, ConsentKind(kind), policy=turn.policy)
    turn.say("chat.consent.granted", kind=turn.t(f"code.consent.{kind}"))
    await show_consents(turn)


async def withdraw(turn: Turn, kind: str) -> None:
    if kind not in ConsentKind._value2member_map_:
        await show_consents(turn)
        return
    await withdraw_consent(turn.uow, turn.clock, turn.user_id, ConsentKind(kind))
    turn.say("chat.consent.withdrawn", kind=turn.t(f"code.consent.{kind}"))
    await show_consents(turn)


# ---- message settings (2-7.2) --------------------------------------------------------------------


async def message_settings(turn: Turn, arg: str = "") -> None:
    """/settings: recruitment calls on or off. Notices about one's own sign-ups are not affected."""
    turn.state.clear()
    user = await turn.uow.users.get(turn.user_id)
    assert user is not None
    if arg in ("on", "off"):
        user.recruitment_off = arg == "off"
        turn.say("chat.settings.saved_off" if user.recruitment_off else "chat.settings.saved_on")
    state = "chat.settings.off" if user.recruitment_off else "chat.settings.on"
    toggle = (
        ("chat.settings.turn_on", "settings:on")
        if user.recruitment_off
        else ("chat.settings.turn_off", "settings:off")
    )
    turn.say(
        "chat.settings.show",
        turn.choice(*toggle),
        turn.choice("chat.button.menu", "menu"),
        state=turn.t(state),
    )
