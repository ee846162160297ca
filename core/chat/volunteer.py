"""Volunteer registration (2-7.1), the menu, help, profile and consents."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from core.chat.forms import (
    PICK_BUTTON,
    Data,
    Form,
    Step,
    agreeing,
    always,
    asking,
    button_value,
    choosing_many,
    pressed,
    refuse_and_ask,
    refuse_only,
    taking,
)
from core.chat.messages import Choice, Contact, Input, Text, typed_id
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    Action,
    CheckinMenu,
    ChooseLanguage,
    Consents,
    EditProfile,
    ExplainConsent,
    Feedback,
    Find,
    FoundOrg,
    GrantConsent,
    Help,
    LinkAccount,
    Menu,
    MessageSettings,
    MyActivities,
    MyData,
    MyHours,
    NewNeed,
    OrganizerMenu,
    Profile,
    Register,
    ResumeForm,
    WithdrawConsent,
    parse,
)
from core.domain.codes import ProfessionalField, ServiceContent
from core.domain.identity_numbers import age_on, normalise_mobile
from core.domain.organization import OrgStatus
from core.domain.people import ConsentKind
from core.domain.volunteer import plausible_region
from core.errors import DomainError, InvalidInput
from core.services.access import load_actor
from core.services.users import set_language
from core.services.volunteers import (
    RegistrationForm,
    check_birth_date,
    give_consent,
    plausible_name,
    register_volunteer,
    request_membership,
    update_profile,
    withdraw_consent,
)

router = Router()

REGISTRATION = "register"
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


async def show_menu(turn: Turn, _: str = "") -> None:
    choices = [
        turn.choice("chat.menu.find", Find()),
        turn.choice("chat.menu.mine", MyActivities()),
    ]
    if turn.actor.volunteer_id is None:
        choices.insert(0, turn.choice("chat.menu.register", Register()))
    else:
        choices.append(turn.choice("chat.menu.checkin", CheckinMenu()))
        choices.append(turn.choice("chat.menu.hours", MyHours()))
        choices.append(turn.choice("chat.menu.profile", Profile()))
        choices.append(turn.choice("chat.menu.found_org", FoundOrg()))
    choices.append(turn.choice("chat.menu.need", NewNeed()))
    choices.append(turn.choice("chat.menu.feedback", Feedback()))
    if turn.actor.staff_of or turn.actor.admin:
        choices.append(turn.choice("chat.menu.organizer", OrganizerMenu()))
    choices.append(turn.choice("chat.menu.help", Help()))
    turn.say("chat.menu.title", *choices, columns=2)


async def show_help(turn: Turn, *, form_open: bool = False) -> None:
    """The help text (/help, 帮助). Inside a form (``form_open``) it says the form is still open, and
    offers 继续填写 (the question asked again) beside 主菜单 (which leaves the form)."""
    menu = turn.choice("chat.button.menu", Menu())
    if not form_open:
        turn.say("chat.help", menu)
        return
    turn.say("chat.help")
    turn.say("chat.help.form_open", turn.choice("chat.button.ask_again", ResumeForm()), menu, columns=2)


# ---- registration -------------------------------------------------------------------------------


async def start_registration(turn: Turn, after: Action | None = None) -> None:
    """``after``: the button pressed before registering, offered again once registered."""
    if turn.actor.volunteer_id is not None:
        turn.say("volunteer.already_registered")
        await show_menu(turn)
        return
    await FORM.proceed(turn, {"after": after.pack() if after is not None else ""})


@router.button(Register)
async def register(turn: Turn, action: Register) -> None:
    await start_registration(turn, action.after)


async def _ask_language(turn: Turn, data: Data) -> None:
    turn.say("chat.reg.language", Choice("中文", "f.zh_CN"), Choice("English", "f.en"), columns=2)


async def _take_language(turn: Turn, given: Input, data: Data) -> Data:
    language = pressed(given)
    if language not in ("zh_CN", "en"):
        raise InvalidInput(PICK_BUTTON)
    await set_language(turn.uow, turn.user_id, language)
    turn.use_language(language)
    return {"lang": language}


async def _ask_privacy(turn: Turn, data: Data) -> None:
    turn.say("chat.reg.privacy", *agreeing(turn, "yes", "no"), columns=2)


async def _take_privacy(turn: Turn, given: Input, data: Data) -> Data:
    answer = pressed(given)
    if answer == "no":
        return {"declined": "chat.reg.privacy_declined"}
    if answer != "yes":
        raise InvalidInput(PICK_BUTTON)
    # 2-7.1: the consent is recorded before any personal data is asked for.
    await give_consent(turn.uow, turn.clock, turn.user_id, ConsentKind.PRIVACY_NOTICE, policy=turn.policy)
    return {"privacy": True}


def _parse_date(text: str) -> date:
    match = _DATE.match(text) or re.match(r"^\s*(\d{4})(\d{2})(\d{2})\s*$", text)
    if not match:
        raise InvalidInput("chat.reg.birth.format")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # written right, but no such day (2000-02-30)
        raise InvalidInput("chat.reg.birth.no_such_day", date=text.strip()) from None


def _typed(given: Input) -> str:
    return given.text.strip() if isinstance(given, Text) else ""


async def _take_birth(turn: Turn, given: Input, data: Data) -> Data:
    born = _parse_date(_typed(given))
    today = turn.clock.now().astimezone(ZoneInfo(turn.policy.default_timezone)).date()
    check_birth_date(born, today)
    return {"birth": born.isoformat(), "minor": age_on(born, today) < turn.policy.guardian_consent_age}


def _minor(data: Data) -> bool:
    return bool(data.get("minor"))


async def _ask_guardian_name(turn: Turn, data: Data) -> None:
    turn.say("chat.reg.guardian_name", age=turn.policy.guardian_consent_age)


async def _take_guardian_name(turn: Turn, given: Input, data: Data) -> Data:
    text = " ".join(_typed(given).split())
    if not text or len(text) > 40:
        raise InvalidInput("chat.reg.guardian_name", age=turn.policy.guardian_consent_age)
    if not plausible_name(text):
        raise InvalidInput("badinput.name_characters")
    return {"guardian_name": text}


async def _ask_guardian_ok(turn: Turn, data: Data) -> None:
    turn.say(
        "chat.reg.guardian_confirm",
        turn.choice("chat.button.guardian_agrees", "f.yes"),
        turn.choice("chat.button.cancel", "f.no"),
        name=data["guardian_name"],
    )


async def _take_guardian_ok(turn: Turn, given: Input, data: Data) -> Data:
    if button_value(given) != "yes":
        return {"declined": "chat.reg.guardian_declined"}
    # PIPL art. 31: the guardian's consent is on record before the child's data is stored.
    await give_consent(
        turn.uow,
        turn.clock,
        turn.user_id,
        ConsentKind.GUARDIAN,
        policy=turn.policy,
        details={"guardian_name": data["guardian_name"], "guardian_phone": data["guardian_phone"]},
    )
    return {"guardian_ok": True}


async def _take_name(turn: Turn, given: Input, data: Data) -> Data:
    text = _typed(given)
    if not text or len(text) > 40 or text.startswith("/"):
        raise InvalidInput("chat.reg.name")
    if not plausible_name(" ".join(text.split())):
        raise InvalidInput("badinput.name_characters")
    return {"name": " ".join(text.split())}


async def _ask_phone(turn: Turn, data: Data) -> None:
    turn.ask_contact("chat.reg.phone")


def _phone_given(given: Input) -> str:
    """The phone shared as a contact (the sender's own only), or typed."""
    if isinstance(given, Contact):
        if not given.own:
            raise InvalidInput("chat.reg.phone_not_own")
        return given.phone
    return _typed(given)


async def _phone_again(turn: Turn, step: Step, data: Data, error: DomainError) -> None:
    """Someone else's contact is answered by asking for one's own; any other reason is said first."""
    if error.key == "chat.reg.phone_not_own":
        turn.ask_contact(error.key)
        return
    turn.refuse(error)
    await step.ask(turn, data)


async def _take_phone(turn: Turn, given: Input, data: Data) -> Data:
    phone = normalise_mobile(_phone_given(given))
    turn.say("chat.reg.phone_ok", clear_keyboard=True)
    return {"phone": phone}


async def _take_region(turn: Turn, given: Input, data: Data) -> Data:
    region = plausible_region(_typed(given))
    if region is None:
        raise InvalidInput("volunteer.region")
    return {"region": region}


async def _ask_org(turn: Turn, data: Data) -> None:
    orgs = [o for o in await turn.uow.orgs.list(OrgStatus.APPROVED)][:20]
    choices = [Choice(o.name, f"f.{o.id}") for o in orgs]
    choices.append(turn.choice("chat.reg.no_org", "f.none"))
    turn.say("chat.reg.org", *choices)


async def _take_org(turn: Turn, given: Input, data: Data) -> Data:
    picked = pressed(given)
    org_id = typed_id(picked)
    if picked != "none" and org_id is None:
        raise InvalidInput(PICK_BUTTON)
    return {"org": org_id}


SKILLS = choosing_many(
    "skills", "chat.reg.skills", ProfessionalField, "skill", empty="chat.reg.skills_empty", numbers=True
)
AREAS = choosing_many(
    "areas", "chat.reg.areas", ServiceContent, "service_content", empty="chat.reg.areas_empty", numbers=True
)
FORM = Form(
    REGISTRATION,
    (
        Step("lang", always, _ask_language, _take_language),
        Step("privacy", always, _ask_privacy, _take_privacy),
        Step("birth", always, asking("chat.reg.birth"), _take_birth),
        Step("guardian_name", _minor, _ask_guardian_name, _take_guardian_name),
        Step(
            "guardian_phone",
            _minor,
            asking("chat.reg.guardian_phone"),
            taking("guardian_phone", lambda given: normalise_mobile(_typed(given))),
        ),
        Step("guardian_ok", _minor, _ask_guardian_ok, _take_guardian_ok),
        Step("name", always, asking("chat.reg.name"), _take_name),
        Step("phone", always, _ask_phone, _take_phone, retry=_phone_again),
        SKILLS,
        AREAS,
        Step("region", always, asking("chat.reg.region"), _take_region),
        Step("org", always, _ask_org, _take_org, retry=refuse_and_ask),
    ),
    # A wrong answer is said why; the text says how to answer, or is the question itself.
    retry=refuse_only,
)


@router.flow(REGISTRATION)
async def registration_step(turn: Turn, given: Input) -> None:
    data = await FORM.answer(turn, given)
    if data is None:
        return
    if declined := data.get("declined"):
        turn.state.clear()
        turn.say(declined)
        await show_menu(turn)
        return
    if FORM.next(data) is not None:
        await FORM.proceed(turn, data)
        return
    try:
        await _finish_registration(turn, data)
    except DomainError as error:
        # A wrong answer: say why; the flow stays where it was.
        turn.refuse(error)


async def _finish_registration(turn: Turn, data: Data) -> None:
    org_id = data["org"]
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
    after = parse(data.get("after") or "")
    turn.state.clear()
    turn.say("chat.reg.done", name=volunteer.name, number=volunteer.volunteer_number or "")
    if org_id is not None:
        membership = await request_membership(turn.uow, turn.clock, turn.actor, org_id)
        org = await turn.uow.orgs.get(org_id)
        turn.say(f"chat.reg.membership.{membership.status.value}", org=org.name if org else "")
    if after is not None:
        turn.say("chat.reg.continue", turn.choice("chat.button.continue", after))
    else:
        await show_menu(turn)


# ---- profile and consents -----------------------------------------------------------------------


@router.command("profile", button=Profile)
async def show_profile(turn: Turn, _: str = "") -> None:
    volunteer = await turn.uow.volunteers.by_user(turn.user_id)
    if volunteer is None:
        turn.say("volunteer.not_registered", turn.choice("chat.menu.register", Register()))
        return
    orgs = []
    for membership in await turn.uow.memberships.for_volunteer(volunteer.id or 0):
        org = await turn.uow.orgs.get(membership.org_id)
        if org is not None:
            status = turn.t(f"code.membership_status.{membership.status.value}")
            orgs.append(turn.t("chat.profile.org_item", org=org.name, status=status))
    turn.say(
        "chat.profile",
        turn.choice("chat.profile.edit", EditProfile()),
        turn.choice("chat.profile.language", ChooseLanguage()),
        turn.choice("chat.profile.consents", Consents()),
        turn.choice("chat.link.button", LinkAccount()),
        turn.choice("chat.settings.button", MessageSettings()),
        turn.choice("privacy.button.mydata", MyData()),
        turn.choice("chat.button.menu", Menu()),
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
# The profile's names of the lists the form calls otherwise.
_SAVED_AS = {"areas": "service_areas"}


async def _take_contact(turn: Turn, given: Input, data: Data) -> Data:
    return {"phone": _phone_given(given)}


# Each answer is checked when it is saved, as the profile's rules say (core/services/volunteers.py).
PROFILE_FORM = Form(
    PROFILE_EDIT,
    (
        Step("name", always, asking("chat.reg.name"), taking("name", _typed)),
        Step("phone", always, _ask_phone, _take_contact, retry=_phone_again),
        Step("region", always, asking("chat.reg.region"), taking("region", _typed)),
        SKILLS,
        AREAS,
    ),
    retry=refuse_only,
)


@router.button(EditProfile)
async def edit_profile(turn: Turn, action: EditProfile) -> None:
    """Pick a field, answer the same question as at registration, saved at once."""
    volunteer = await turn.uow.volunteers.by_user(turn.user_id)
    if volunteer is None:
        turn.say("volunteer.not_registered", turn.choice("chat.menu.register", Register()))
        return
    field = action.field or ""
    if field in PROFILE_FORM.by_name:
        current = {"skills": volunteer.skills, "areas": volunteer.service_areas}
        data = {f"{field}_chosen": list(current[field])} if field in current else {}
        await PROFILE_FORM.proceed(turn, data, only=(field,))
        return
    choices = [turn.choice(f"chat.profile.field.{f}", EditProfile(f)) for f in PROFILE_FORM.by_name]
    turn.say("chat.profile.edit_pick", *choices, turn.choice("chat.menu.profile", Profile()), columns=2)


@router.flow(PROFILE_EDIT)
async def profile_edit_step(turn: Turn, given: Input) -> None:
    field = turn.state.step
    data = await PROFILE_FORM.answer(turn, given)
    if data is None:
        return
    if field not in data:  # a list, still being picked
        await PROFILE_FORM.proceed(turn, data, only=(field,))
        return
    try:
        await update_profile(turn.uow, turn.clock, turn.actor, {_SAVED_AS.get(field, field): data[field]})
    except DomainError as error:
        turn.refuse(error)
        return
    turn.state.clear()
    turn.say("chat.profile.saved", clear_keyboard=True)
    await show_profile(turn)


@router.button(ChooseLanguage, command="language")
async def choose_language(turn: Turn, action: ChooseLanguage) -> None:
    language = action.language
    if language in ("zh_CN", "en"):
        await set_language(turn.uow, turn.user_id, language)
        turn.use_language(language)
        turn.say("chat.language.set")
        await show_menu(turn)
        return
    turn.say(
        "chat.reg.language",
        Choice("中文", ChooseLanguage("zh_CN").pack()),
        Choice("English", ChooseLanguage("en").pack()),
        columns=2,
    )


# Consents a volunteer may give later from the consents screen, each after reading what it allows.
GRANTABLE = (ConsentKind.LOCATION,)


@router.command(button=Consents)
async def show_consents(turn: Turn, _: str = "") -> None:
    choices = []
    active = set()
    for consent in await turn.uow.consents.for_user(turn.user_id):
        if consent.active:
            active.add(consent.kind)
            label = turn.t("chat.consent.withdraw", kind=turn.t(f"code.consent.{consent.kind.value}"))
            choices.append(Choice(label, WithdrawConsent(consent.kind).pack()))
    key = "chat.consent.list" if choices else "chat.consent.none"
    for kind in GRANTABLE:
        if kind not in active:
            label = turn.t("chat.consent.grant", kind=turn.t(f"code.consent.{kind.value}"))
            choices.append(Choice(label, ExplainConsent(kind).pack()))
    choices.append(turn.choice("chat.button.menu", Menu()))
    turn.say(key, *choices)


@router.button(ExplainConsent)
async def explain_consent(turn: Turn, action: ExplainConsent) -> None:
    """PIPL art. 14: the consent is informed — what is kept, for how long, and that it can be withdrawn."""
    kind = action.kind
    if not await _grantable(turn, kind):
        return
    turn.say(
        f"chat.consent.explain.{kind.value}",
        turn.choice("chat.consent.agree", GrantConsent(kind)),
        turn.choice("chat.consent.back", Consents()),
        days=turn.policy.location_retention_days,
    )


@router.button(GrantConsent)
async def grant(turn: Turn, action: GrantConsent) -> None:
    kind = action.kind
    if not await _grantable(turn, kind):
        return
    if await turn.uow.consents.active(turn.user_id, kind) is None:
        await give_consent(turn.uow, turn.clock, turn.user_id, kind, policy=turn.policy)
    turn.say("chat.consent.granted", kind=turn.t(f"code.consent.{kind.value}"))
    await show_consents(turn)


async def _grantable(turn: Turn, kind: ConsentKind) -> bool:
    """Only the GRANTABLE consents are given from the consents screen; a button for another (one
    from an older screen) shows the screen again."""
    if kind in GRANTABLE:
        return True
    await show_consents(turn)
    return False


@router.button(WithdrawConsent)
async def withdraw(turn: Turn, action: WithdrawConsent) -> None:
    await withdraw_consent(turn.uow, turn.clock, turn.user_id, action.kind)
    turn.say("chat.consent.withdrawn", kind=turn.t(f"code.consent.{action.kind.value}"))
    await show_consents(turn)


# ---- message settings (2-7.2) --------------------------------------------------------------------


@router.button(MessageSettings, command="settings")
async def message_settings(turn: Turn, action: MessageSettings) -> None:
    """/settings: recruitment calls on or off. Notices about one's own sign-ups are not affected."""
    turn.state.clear()
    user = await turn.uow.users.get(turn.user_id)
    assert user is not None
    if action.switch in ("on", "off"):
        user.recruitment_off = action.switch == "off"
        turn.say("chat.settings.saved_off" if user.recruitment_off else "chat.settings.saved_on")
    state = "chat.settings.off" if user.recruitment_off else "chat.settings.on"
    toggle = (
        turn.choice("chat.settings.turn_on", MessageSettings("on"))
        if user.recruitment_off
        else turn.choice("chat.settings.turn_off", MessageSettings("off"))
    )
    turn.say(
        "chat.settings.show",
        toggle,
        turn.choice("chat.button.menu", Menu()),
        state=turn.t(state),
    )
