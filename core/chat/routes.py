"""What the bot answers: each chat module registers its buttons, commands and questions beside their
handlers (``core/chat/router.py``); this module gathers them, and answers /start and the deep links.
Deep-link payloads (t.me/bot?start=…, WeChat scene QR codes) use the same words: ``act-12`` opens
activity 12, ``org-3`` the invitation to join org 3, ``need`` / ``need-3`` the need form (addressed
to org 3), ``survey-12`` / ``vsurvey-12`` the surveys."""

from __future__ import annotations

import importlib
import pkgutil

import core.chat
from core.chat import activities, attendance, needs, surveys, volunteer
from core.chat.conversation import Routes
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
        turn.say("chat.welcome")
        await volunteer.start_registration(turn)
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


@router.command("menu", button=actions.Menu)
async def menu(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await volunteer.show_menu(turn)


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
