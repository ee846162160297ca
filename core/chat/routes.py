"""What the bot answers: each chat module registers its buttons, commands and questions beside their
handlers (``core/chat/router.py``); this module gathers them, and answers /start and the deep links.
Deep-link payloads (t.me/bot?start=…, WeChat scene QR codes) use the same words: ``act-12`` opens
activity 12, ``org-3`` the invitation to join org 3, ``need`` / ``need-3`` the need form (addressed
to org 3), ``survey-12`` / ``vsurvey-12`` the surveys."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import core.chat
from core.chat import (
    activities,
    activity_form,
    attendance,
    feedback,
    needs,
    org_application,
    reports,
    surveys,
    volunteer,
)
from core.chat.conversation import Handler, Routes
from core.chat.forms import SUMMARY, Data, Form
from core.chat.router import Router, merged
from core.chat.turn import Turn
from core.domain import actions
from core.errors import NotFound
from core.services.volunteers import request_membership

router = Router()


async def start(turn: Turn, payload: str) -> None:
    kind, _, ident = payload.partition("-")
    if kind == "act" and ident.isdigit():
        await activities.show_card(turn, actions.ActivityCard(int(ident)))
        return
    if kind == "org" and ident.isdigit():
        await join_org(turn, ident)
        return
    if kind == "need" and (ident.isdigit() or not ident):
        await needs.start_need(turn, ident)
        return
    if kind == "survey" and ident.isdigit():
        await surveys.beneficiary_survey(turn, int(ident))
        return
    if kind == "vsurvey" and ident.isdigit():
        await surveys.volunteer_survey(turn, actions.VolunteerSurvey(int(ident)))
        return
    if turn.actor.volunteer_id is None:
        # A beneficiary asks for a service without registering (3-6.1.1); a volunteer registers (2-7.1).
        choices = [
            turn.choice("chat.menu.register", actions.Register()),
            turn.choice("chat.menu.need", actions.NewNeed()),
        ]
        if turn.actor.staff_of or turn.actor.admin:
            choices.append(turn.choice("chat.menu.organizer", actions.OrganizerMenu()))
        turn.say("chat.welcome", *choices)
        return
    turn.say("chat.welcome_back")
    await volunteer.show_menu(turn)


async def join_org(turn: Turn, arg: str) -> None:
    if turn.actor.volunteer_id is None:
        await volunteer.start_registration(turn)
        return
    org = await turn.uow.orgs.get(int(arg)) if arg.isdigit() else None
    if org is None:
        raise NotFound("org.not_found")
    membership = await request_membership(turn.uow, turn.clock, turn.actor, org.id or 0)
    turn.say(f"chat.reg.membership.{membership.status.value}", org=org.name)


@dataclass(frozen=True)
class OpenForm:
    """A form that can be left half-filled: the command that starts it again, and how its open
    question is asked again (继续填写 after /help)."""

    command: str
    form: Form | None = None  # each of its steps, asked again as the form asks it
    summary: Callable[[Turn, Data], None] | None = None  # its last step: the answers, to send or not
    again: Handler | None = None  # a form of one question: asked again from its start

    def asks_again(self, step: str) -> bool:
        if self.form is not None and step in self.form.by_name:
            return True
        return (step == SUMMARY and self.summary is not None) or self.again is not None


FORMS: dict[str, OpenForm] = {
    volunteer.REGISTRATION: OpenForm("start", volunteer.FORM),
    volunteer.PROFILE_EDIT: OpenForm("profile", volunteer.PROFILE_FORM),
    activity_form.NEW_ACTIVITY: OpenForm("publish", activity_form.FORM, activity_form.show_summary),
    needs.NEED_FORM: OpenForm("need", needs.FORM, needs.CONFIRM.show),
    org_application.ORG_APPLICATION: OpenForm("neworg", org_application.FORM, org_application.CONFIRM.show),
    reports.REPORT_FORM: OpenForm("records", reports.FORM),
    feedback.FEEDBACK: OpenForm("feedback", again=feedback.ask_feedback),
}


@router.command("menu", button=actions.Menu)
async def menu(turn: Turn, _: str = "") -> None:
    """The main menu; a form left open is left, and the user is told so (its answers are not kept)."""
    left = FORMS.get(turn.state.flow)
    turn.state.clear()
    if left is not None:
        turn.say("chat.form.left", command=left.command)
    await volunteer.show_menu(turn)


@router.command("help", button=actions.Help)
async def show_help(turn: Turn, _: str = "") -> None:
    """Help; inside a form whose question can be asked again, with 继续填写 beside 主菜单."""
    form = FORMS.get(turn.state.flow)
    await volunteer.show_help(turn, form_open=form is not None and form.asks_again(turn.state.step))


@router.button(actions.ResumeForm)
async def resume_form(turn: Turn, _: actions.ResumeForm) -> None:
    """继续填写: the open question of a form, asked again as it was; where there is none (the form
    was left meanwhile), the button has expired."""
    form = FORMS.get(turn.state.flow)
    step, data = turn.state.step, dict(turn.state.data)
    if form is None or not form.asks_again(step):
        turn.say("chat.button_expired")
        await menu(turn)
    elif form.form is not None and step in form.form.by_name:
        await form.form.by_name[step].ask(turn, data)
    elif step == SUMMARY and form.summary is not None:
        form.summary(turn, data)
    elif form.again is not None:
        await form.again(turn, "")


@router.command("find", button=actions.Find)
async def find(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await activities.show_filters(turn)


def routers() -> list[Router]:
    """Every chat module's router, in the order of their names: a module that answers a button,
    a command or a question declares ``router``."""
    found = [router]
    for module in sorted(info.name for info in pkgutil.iter_modules(core.chat.__path__)):
        declared = getattr(importlib.import_module(f"core.chat.{module}"), "router", None)
        if isinstance(declared, Router) and declared is not router:
            found.append(declared)
    return found


def build_routes() -> Routes:
    found = routers()
    return Routes(
        buttons=merged([r.on_button for r in found]),
        commands=merged([r.on_command for r in found]),
        flows=merged([r.on_flow for r in found]),
        menu=menu,
        start=start,
        location=attendance.location_anywhere,
    )
