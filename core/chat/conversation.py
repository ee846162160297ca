"""The entry point of every channel: one Incoming in, the replies for that user out."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.chat.forms import pick_number
from core.chat.messages import (
    Button,
    Command,
    Contact,
    Incoming,
    Input,
    Location,
    Outgoing,
    Photo,
    Reply,
    Say,
    Text,
    Unreadable,
)
from core.chat.turn import NUMBERED_CHANNELS, Translators, Turn
from core.chat.unsent import keep_unsent
from core.domain.actions import Action, Help, Menu, known_prefix, parse
from core.domain.codes import Channel
from core.domain.dialog import DialogState
from core.domain.identity_numbers import ascii_form
from core.domain.people import Actor
from core.errors import DomainError, NotFound, RaceLost
from core.policy import Policy
from core.ports import Charts, Clock, Documents, Links, UnitOfWork, UnitOfWorkFactory
from core.services.access import actor_with, load_actor
from core.services.users import ensure_user

log = logging.getLogger(__name__)

Handler = Callable[[Turn, str], Awaitable[None]]
# A button's handler, given the action pressed (an instance of the class it is routed by).
ButtonHandler = Callable[[Turn, Any], Awaitable[None]]
# Told how each turn ended, "ok", "refused", "duplicate" or "error": the channels' logs and metrics.
TurnObserver = Callable[[Incoming, str | None, str], None]
FlowStep = Callable[[Turn, Input], Awaitable[None]]


@dataclass(frozen=True)
class Routes:
    """Buttons and commands that work from any step, and the steps of multi-step flows."""

    buttons: Mapping[type[Action], ButtonHandler]
    commands: Mapping[str, Handler]
    flows: Mapping[str, FlowStep]
    menu: Handler
    start: Handler
    # A location sent outside any question; True when it was taken (a check-in), else the usual answer.
    location: Callable[[Turn, Location], Awaitable[bool]] | None = None


class Conversation:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        translators: Translators,
        routes: Routes,
        links: Links | None = None,
        documents: Documents | None = None,
        observe: TurnObserver | None = None,
        charts: Charts | None = None,
    ) -> None:
        self.links = links
        self.charts = charts
        self.observe = observe
        self.documents = documents
        self.uows = uows
        self.clock = clock
        self.policy = policy
        self.translators = translators
        self.routes = routes

    async def handle(
        self,
        incoming: Incoming,
        delivery_key: str | None = None,
        on_turn: Callable[[UnitOfWork], Awaitable[None]] | None = None,
    ) -> Outgoing | None:
        """None when this delivery was handled before (a platform's retry). ``on_turn`` is the
        channel's own bookkeeping for a first delivery (WeChat's reply window), in the same
        transaction, and kept even when the turn itself is refused. A turn that lost a race for a
        new row (``RaceLost``) is run once more, in a new transaction that sees the winner's row."""
        try:
            try:
                return await self._turn(incoming, delivery_key, on_turn)
            except RaceLost:
                return await self._turn(incoming, delivery_key, on_turn)
        except Exception:
            self._observed(incoming, delivery_key, "error")
            raise

    async def keep_unsent(
        self, channel: Channel, external_id: str, language: str, replies: Sequence[Reply]
    ) -> int:
        """Replies of a handled turn that the channel could not send: to the outbox (core.chat.unsent)."""
        return await keep_unsent(
            self.uows, self.clock, self.translators, channel, external_id, language, replies
        )

    def _observed(self, incoming: Incoming, delivery_key: str | None, outcome: str) -> None:
        if self.observe is not None:
            self.observe(incoming, delivery_key, outcome)

    async def _turn(
        self,
        incoming: Incoming,
        delivery_key: str | None,
        on_turn: Callable[[UnitOfWork], Awaitable[None]] | None,
    ) -> Outgoing | None:
        async with self.uows() as uow:
            now = self.clock.now()
            if delivery_key is not None and not await uow.deliveries.first_time(
                incoming.channel, delivery_key, now
            ):
                self._observed(incoming, delivery_key, "duplicate")
                return None
            if on_turn is not None:
                await on_turn(uow)
            user_id, language, state, actor = await self._caller(uow, incoming, now)
            turn = Turn(
                uow,
                self.clock,
                self.policy,
                incoming.channel,
                user_id,
                language,
                actor,
                state,
                self.translators,
                self.links,
                self.documents,
                charts=self.charts,
            )
            before = (state.flow, state.step, copy.deepcopy(state.data), list(state.offered))
            try:
                given = incoming.input
                numbered = incoming.channel in NUMBERED_CHANNELS
                if numbered:
                    given = _numbered(given, state.offered)
                if numbered and _out_of_range(given, state):
                    # Nothing else a number can mean outside a flow: say which numbers answer.
                    pick_number(turn, len(state.offered))
                else:
                    await self._route(turn, given)
                offered = _offered(turn.replies)
                # A reply without options (a refusal, "please choose") at the same step leaves the
                # options shown before answerable: only new options, or a new step, replace them.
                if offered or (state.flow, state.step) != before[:2]:
                    state.offered = offered
                if (state.flow, state.step, state.data, state.offered) != before:
                    state.updated_at = self.clock.now()
                    await uow.dialogs.save(state)
                await uow.commit()
                self._observed(incoming, delivery_key, "ok")
            except DomainError as error:
                # Nothing half-written: the turn's changes go, the user is told why.
                await uow.rollback()
                if on_turn is not None:
                    await on_turn(uow)
                turn.replies.clear()
                turn.refuse(error, turn.choice("chat.button.menu", Menu()))
                # The dialog as it was, but a number now answers the options of the refusal.
                flow, step, data, _ = before
                kept = DialogState(user_id, now, flow, step, data, _offered(turn.replies))
                await uow.dialogs.save(kept)
                await uow.commit()
                self._observed(incoming, delivery_key, "refused")
            return Outgoing(tuple(turn.replies), language=turn.language)

    async def _caller(
        self, uow: UnitOfWork, incoming: Incoming, now: datetime
    ) -> tuple[int, str, DialogState, Actor]:
        """The user, their language, their dialog and what they may do: one read on every turn but
        the first."""
        caller = await uow.users.caller(incoming.channel, incoming.external_id.strip())
        if caller is not None:
            if caller.unreachable:  # they unblocked the bot or followed again: notices reach them again
                await uow.identities.set_unreachable(incoming.channel, incoming.external_id.strip(), None)
            grants = await uow.grants.active_for_user(caller.user_id) if caller.has_roles else []
            actor = actor_with(caller.user_id, grants, caller.volunteer_id, caller.volunteer_status)
            return caller.user_id, caller.language, caller.dialog, actor
        user = await ensure_user(
            uow, self.clock, incoming.channel, incoming.external_id, language=_hint(incoming)
        )
        assert user.id is not None
        state = await uow.dialogs.for_user(user.id, now)
        return user.id, user.language, state, await load_actor(uow, user.id)

    async def _route(self, turn: Turn, given: Input) -> None:
        routes = self.routes
        if isinstance(given, Text):
            name = TYPED_COMMANDS.get(" ".join(given.text.split()).lower())
            if name is not None and (name in _ANY_STEP or not turn.state.flow):
                given = Command(name, "")
        if isinstance(given, Command):
            name = given.name.lower()
            if name == "cancel":
                turn.state.clear()
                turn.say("chat.cancelled")
                await routes.menu(turn, "")
                return
            if name == "start":
                payload = given.args.strip()
                await routes.start(turn, "" if _forged(payload) else payload)
                return
            handler = routes.commands.get(name)
            if handler is None:
                turn.say("chat.unknown_command", turn.choice("chat.button.help", Help()), command=name)
                return
            await handler(turn, given.args.strip())
            return
        if isinstance(given, Button) and _forged(given.payload):
            turn.say("chat.button_expired")
            await routes.menu(turn, "")
            return
        if isinstance(given, Button) and not given.payload.startswith("f."):
            action = parse(given.payload)
            handler = routes.buttons.get(type(action)) if action is not None else None
            if handler is not None:
                await handler(turn, action)
                return
            if action is None and known_prefix(given.payload):
                raise NotFound("chat.button_expired")  # one of ours with fields that do not read
        step = routes.flows.get(turn.state.flow)
        if step is not None:
            await step(turn, given)
            return
        if isinstance(given, Button):
            turn.say("chat.button_expired")
            await routes.menu(turn, "")
            return
        if isinstance(given, Location) and given.update:
            return  # a live location moving on: its first point was answered
        if isinstance(given, Location) and routes.location is not None and await routes.location(turn, given):
            return
        if isinstance(given, Location | Contact):
            turn.say("chat.unexpected_attachment")
        elif isinstance(given, Photo):
            turn.say("badinput.photo_not_needed")
        elif isinstance(given, Unreadable):
            turn.say("badinput.unreadable")
        else:
            turn.say("chat.not_understood")
        await routes.menu(turn, "")


def _forged(payload: str) -> bool:
    """Not a payload of ours: every one we make is ASCII, and its ids fit the databases' integer
    columns. One made up by hand (a crafted callback, a typed /start) with other digits ("²") or an
    id of ten digits or more is answered as a stale button, never parsed."""
    return not payload.isascii() or _LONG_NUMBER.search(payload) is not None


_LONG_NUMBER = re.compile(r"\d{10,}")

# Words typed for the main tools, read as the command they name: the names the README and WeChat's
# menu use, in Chinese and English, spaces squeezed, any case. Cancel, menu and help leave any question
# (never taken as an answer); the others open their tool only where no question waits, so that a form's
# answer ("签到" as a title, "导出" in a feedback) is taken as written.
TYPED_COMMANDS: Mapping[str, str] = {
    "取消": "cancel",
    "退出": "cancel",
    "cancel": "cancel",
    "菜单": "menu",
    "主菜单": "menu",
    "menu": "menu",
    "帮助": "help",
    "help": "help",
    "?": "help",
    "？": "help",
    "注册": "start",
    "注册志愿者": "start",
    "register": "start",
    "找活动": "find",
    "find": "find",
    "我的活动": "my",
    "我的报名": "my",
    "签到": "checkin",
    "签退": "checkin",
    "check in": "checkin",
    "checkin": "checkin",
    "我的时长": "hours",
    "hours": "hours",
    "服务证明": "certificate",
    "certificate": "certificate",
    "个人资料": "profile",
    "profile": "profile",
    "意见反馈": "feedback",
    "feedback": "feedback",
    "提出需求": "need",
    "组织者": "organizer",
    "organizer": "organizer",
    "发布活动": "publish",
    "publish": "publish",
    "导出": "export",
    "export": "export",
    "逾期记录": "records",
    "活动记录": "records",
    "records": "records",
    "承接": "needs",
    "承接需求": "needs",
    "needs": "needs",
}
_ANY_STEP = frozenset({"cancel", "menu", "help"})


def _offered(replies: list[Reply]) -> list[str]:
    return [c.payload for r in replies if isinstance(r, Say) for c in r.choices]


def _out_of_range(given: Input, state: DialogState) -> bool:
    """A bare number that picks none of the options shown, where no question waits for a number."""
    if not isinstance(given, Text) or state.flow or not state.offered:
        return False
    text = ascii_form(given.text).strip()
    return text.isascii() and text.isdigit() and len(text) <= 3


def _numbered(given: Input, offered: list[str]) -> Input:
    """A reply of a number picks the choice offered under that number."""
    if isinstance(given, Text):
        text = ascii_form(given.text).strip()
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(offered):
            return Button(offered[int(text) - 1])
    return given


def _hint(incoming: Incoming) -> str:
    return incoming.language_hint or "zh_CN"
