"""3-6.1.3.1 in chat: staff record a volunteer's qualification once they have seen the certificate.
The volunteer gives their volunteer number (shown in their profile); staff type it, see the
volunteer (name, masked phone, what is on record) and add or take off a qualification with a
press. A sign-up that was refused for the missing qualification then goes through."""

from __future__ import annotations

from datetime import timedelta

from core.chat.forms import refuse_not_staff
from core.chat.messages import Choice, Input, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import OrganizerMenu, Qualifications, RecordQualification, WithdrawQualification
from core.domain.codes import Qualification
from core.domain.identity_numbers import mask_phone
from core.domain.volunteer import Volunteer, typed_volunteer_number
from core.services.access import audit
from core.services.volunteers import record_qualification

router = Router()

QUALIFICATION_LOOKUP = "qualification_lookup"
# Each lookup is in the audit log (who looked up which number), and staff make a few an hour: a run of
# them, as if walking through the numbers (they are sequential), is stopped for the hour.
LOOKUP = "qualification.lookup"
LOOKUPS_PER_HOUR = 30


def _is_staff(turn: Turn) -> bool:
    if turn.actor.is_staff:
        return True
    refuse_not_staff(turn)
    return False


@router.command("qualification", button=Qualifications)
async def ask_number(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    if not _is_staff(turn):
        return
    turn.state.start(QUALIFICATION_LOOKUP, "number")
    turn.say("chat.qual.ask_number", turn.choice("chat.org.menu_button", OrganizerMenu()))


@router.flow(QUALIFICATION_LOOKUP)
async def number_step(turn: Turn, given: Input) -> None:
    if not _is_staff(turn):
        turn.state.clear()
        return
    number = typed_volunteer_number(given.text) if isinstance(given, Text) else None
    since = turn.clock.now() - timedelta(hours=1)
    if await turn.uow.audit.count_since("user", turn.user_id, LOOKUP, since) >= LOOKUPS_PER_HOUR:
        turn.state.clear()
        turn.say(
            "chat.qual.too_many", turn.choice("chat.org.menu_button", OrganizerMenu()), count=LOOKUPS_PER_HOUR
        )
        return
    volunteer = await turn.uow.volunteers.by_number(number) if number else None
    await audit(turn.uow, turn.clock, turn.actor, LOOKUP, "user", turn.user_id, number=number)
    if volunteer is None or not volunteer.active:
        # Asked again: a number mistyped is the usual reason, and the question still stands.
        turn.say(
            "chat.qual.not_found", turn.choice("chat.org.menu_button", OrganizerMenu()), number=number or "-"
        )
        return
    turn.state.clear()
    _card(turn, volunteer)


@router.buttons(RecordQualification, WithdrawQualification)
async def toggle(turn: Turn, pressed: RecordQualification | WithdrawQualification) -> None:
    turn.state.clear()
    if not _is_staff(turn):
        return
    held = isinstance(pressed, RecordQualification)
    volunteer = await record_qualification(
        turn.uow, turn.clock, turn.actor, pressed.volunteer_id, pressed.code, held=held
    )
    turn.say(
        "chat.qual.recorded" if held else "chat.qual.withdrawn",
        name=volunteer.name,
        qualification=turn.t(f"code.qualification.{pressed.code}"),
    )
    _card(turn, volunteer)


def _card(turn: Turn, volunteer: Volunteer) -> None:
    held = set(volunteer.qualifications)
    choices = [
        Choice(
            turn.t(
                "chat.qual.button.held" if q.value in held else "chat.qual.button.add",
                qualification=turn.t(f"code.qualification.{q.value}"),
            ),
            (WithdrawQualification if q.value in held else RecordQualification)(
                volunteer.id or 0, q.value
            ).pack(),
        )
        for q in Qualification
    ]
    turn.say(
        "chat.qual.card",
        *choices,
        turn.choice("chat.qual.button.other", Qualifications()),
        turn.choice("chat.org.menu_button", OrganizerMenu()),
        columns=2,
        name=volunteer.name,
        number=volunteer.volunteer_number or "-",
        phone=mask_phone(volunteer.phone),
        qualifications=turn.join(turn.t(f"code.qualification.{q}") for q in volunteer.qualifications) or "-",
    )
