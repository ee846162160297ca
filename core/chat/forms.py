"""Forms answered one question at a time (an activity plan, a need, a registration, an org's
application): a table of steps, each saying whether it is asked, how, and how its answer is read. A
wrong answer is refused with the reason and the same question is asked again (or, where the form says
so, only refused); the answers so far live in the dialog state. A step answered by pressing a button
names its choices, so that the same answer can also be written out (a template).

The kinds of step the forms share: typed text (``taking``), one code of a table (``choosing_code``),
yes or no (``yes_no``), a location (``location``) and several codes of a table (``choosing_many``).
``staff_only`` guards the organizer's tools."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from core.chat.messages import Button, Choice, Input, Location, Text
from core.chat.turn import NUMBERED_CHANNELS, Turn
from core.domain.actions import Menu
from core.domain.activity import check_coordinates
from core.domain.identity_numbers import ascii_form
from core.errors import DomainError, InvalidInput

Data = dict[str, Any]
Options = Callable[[Turn, Data], Awaitable[list[Choice]]]
Ask = Callable[[Turn, Data], Awaitable[None]]
Take = Callable[[Turn, Input, Data], Awaitable[Data]]
# What is said when a step's answer is refused.
Retry = Callable[[Turn, "Step", Data, DomainError], Awaitable[None]]
SUMMARY = "summary"
PICK_BUTTON = "chat.reg.pick_button"
# The button 继续填写 under /help inside a form: the open question, asked again (core.chat.routes).


@dataclass(frozen=True)
class Step:
    name: str
    needed: Callable[[Data], bool]
    ask: Ask
    take: Take
    options: Options | None = None  # the buttons of a step answered by pressing one
    retry: Retry | None = None  # after a refusal; None: as the form does


async def refuse_and_ask(turn: Turn, step: Step, data: Data, error: DomainError) -> None:
    """The reason, then the same question again."""
    refuse_answer(turn, error)
    await step.ask(turn, data)


async def refuse_only(turn: Turn, step: Step, data: Data, error: DomainError) -> None:
    """The reason alone: its text says how to answer (or is the question itself)."""
    refuse_answer(turn, error)


def refuse_answer(turn: Turn, error: DomainError) -> None:
    """Why an answer is refused. A choice not picked, on a channel of numbered options, names the
    numbers that answer; a location not sent is followed by how this channel sends one."""
    if error.key == PICK_BUTTON and turn.channel in NUMBERED_CHANNELS and turn.state.offered:
        pick_number(turn, len(turn.state.offered))
        return
    turn.refuse(error)
    if isinstance(error, NotALocation):
        say_how_to_send_location(turn)


def pick_number(turn: Turn, count: int) -> None:
    """On a channel of numbered options: the numbers that pick one of the ``count`` options shown."""
    if count == 1:
        turn.say("chat.pick_number.one")
    else:
        turn.say("chat.pick_number", count=count)


def say_how_to_send_location(turn: Turn) -> None:
    """What a location is and how this channel sends one: Telegram's button, WeChat's "+" → 位置,
    the console's "@lat,lon"."""
    turn.say(f"badinput.location.{turn.channel.value}")


def choosing(
    name: str,
    needed: Callable[[Data], bool],
    key: str,
    options: Options,
    take: Take,
    columns: int = 1,
) -> Step:
    """A step asked with the buttons its options name (payload "f.<value>")."""

    async def ask(turn: Turn, data: Data) -> None:
        turn.say(key, *await options(turn, data), columns=columns)

    return Step(name, needed, ask, take, options)


def written(options: Sequence[Choice], text: str) -> Button | None:
    """The button a written answer names by its label or its code; None when it names none."""
    wanted = plain(text)
    for choice in options:
        value = choice.payload.removeprefix("f.")
        # Row ids (orgs, bases) are never shown, so a number is not read as one.
        if plain(choice.label) == wanted or (not value.isdigit() and value.casefold() == wanted):
            return Button(choice.payload)
    return None


def plain(text: str) -> str:
    """A name as compared: no spaces, any case."""
    return "".join(text.split()).casefold()


def always(data: Data) -> bool:
    return True


# ---- reading an answer --------------------------------------------------------------------------


def button_value(given: Input) -> str | None:
    """The value of a form's button (payload "f.<value>"); None for anything else."""
    if isinstance(given, Button) and given.payload.startswith("f."):
        return given.payload[2:]
    return None


def pressed(given: Input, refusal: str = PICK_BUTTON) -> str:
    """The value of a form's button (payload "f.<value>"), or a refusal asking to press one."""
    value = button_value(given)
    if value is None:
        raise InvalidInput(refusal)
    return value


def code(given: Input, table: type[StrEnum], refusal: str = PICK_BUTTON) -> str:
    """The code of a table a button names, or a refusal asking to press one."""
    value = pressed(given, refusal)
    if value not in table._value2member_map_:
        raise InvalidInput(refusal)
    return value


def typed(given: Input, refusal: str) -> str:
    """The text typed, as typed, or a refusal asking to type it."""
    if isinstance(given, Text):
        return given.text
    raise InvalidInput(refusal)


def cancel(turn: Turn) -> Choice:
    """The button under a question that leaves the form."""
    return turn.choice("chat.button.cancel", Menu())


def end_form(turn: Turn, key: str, **params: Any) -> None:
    """The form is over (sent, or left): what became of it, with the button back to the menu."""
    turn.state.clear()
    turn.say(key, turn.choice("chat.button.menu", Menu()), **params)


def agreeing(turn: Turn, agree: str, disagree: str) -> tuple[Choice, Choice]:
    """同意 / 不同意, answered ``f.<agree>`` / ``f.<disagree>``: a consent asked before data is kept."""
    return turn.choice("chat.button.agree", f"f.{agree}"), turn.choice(
        "chat.button.disagree", f"f.{disagree}"
    )


@dataclass(frozen=True)
class Summary:
    """A form's last step: the answers as they will be sent (``key``, given ``fields(turn, data)``),
    with the buttons to submit them (labelled ``submit``) or leave (said ``cancelled``)."""

    key: str
    submit: str
    cancelled: str
    fields: Callable[[Turn, Data], dict[str, Any]]

    def show(self, turn: Turn, data: Data) -> None:
        submit, leave = turn.choice(self.submit, "f.submit"), turn.choice("chat.button.cancel", "f.cancel")
        turn.say(self.key, submit, leave, columns=2, **self.fields(turn, data))

    def submitted(self, turn: Turn, given: Input, data: Data) -> bool:
        """Whether the answer submits the form. 取消 closes it; anything else is refused, and the
        summary is shown again."""
        answer = button_value(given)
        if answer == "submit":
            return True
        if answer == "cancel":
            end_form(turn, self.cancelled)
        else:
            refuse_answer(turn, InvalidInput(PICK_BUTTON))
            self.show(turn, data)
        return False


def asking(key: str, *, with_cancel: bool = False, **params: Any) -> Ask:
    """A question said as it is, optionally with the button that leaves the form."""

    async def ask(turn: Turn, data: Data) -> None:
        turn.say(key, *([cancel(turn)] if with_cancel else []), **params)

    return ask


def taking(field: str, read: Callable[[Input], Any]) -> Take:
    """A step whose answer is read from the input alone."""

    async def take(turn: Turn, given: Input, data: Data) -> Data:
        return {field: read(given)}

    return take


# ---- the kinds of step --------------------------------------------------------------------------


def choosing_code(
    field: str,
    key: str,
    label: str,
    codes: Callable[[Data], Sequence[StrEnum]],
    columns: int = 2,
    needed: Callable[[Data], bool] = always,
) -> Step:
    """A question answered by picking one code of a table (3-5.2 kinds, 3-5.3 modes, risk levels)."""

    async def options(turn: Turn, data: Data) -> list[Choice]:
        return [Choice(turn.t(f"code.{label}.{c.value}"), f"f.{c.value}") for c in codes(data)]

    async def take(turn: Turn, given: Input, data: Data) -> Data:
        picked = pressed(given)
        if picked not in {c.value for c in codes(data)}:
            raise InvalidInput(PICK_BUTTON)
        return {field: picked}

    return choosing(field, needed, key, options, take, columns)


def yes_no(field: str, key: str, needed: Callable[[Data], bool] = always) -> Step:
    """A question answered 是 or 否, read as True or False."""

    async def options(turn: Turn, data: Data) -> list[Choice]:
        return [turn.choice("chat.button.yes", "f.yes"), turn.choice("chat.button.no", "f.no")]

    async def take(turn: Turn, given: Input, data: Data) -> Data:
        answer = pressed(given)
        if answer not in ("yes", "no"):
            raise InvalidInput(PICK_BUTTON)
        return {field: answer == "yes"}

    return choosing(field, needed, key, options, take, columns=2)


_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*$")


class NotALocation(InvalidInput):
    """No point was sent: a form's retry follows the refusal with how this channel sends one."""


def location(given: Input, refusal: str) -> tuple[float, float]:
    """A point sent, or typed as "latitude, longitude"; checked, WGS-84. Anything else is refused
    (``refusal``), and the form says how a location is sent (``say_how_to_send_location``)."""
    if isinstance(given, Location):
        lat, lon = given.latitude, given.longitude
    elif isinstance(given, Text) and (match := _LATLON.match(given.text)):
        lat, lon = float(match[1]), float(match[2])
    else:
        raise NotALocation(refusal)
    return check_coordinates(lat, lon)


def choosing_many(
    name: str,
    key: str,
    table: type[StrEnum],
    label: str,
    *,
    needed: Callable[[Data], bool] = always,
    refusal: str = PICK_BUTTON,
    empty: str | None = None,
    numbers: bool = False,
    params: Callable[[Data], Data] | None = None,
) -> Step:
    """Several codes of a table, each button toggling its code (✅), then 完成 (``f.done``). The codes
    picked so far are ``<name>_chosen``; the answer, once done, is ``<name>``. ``empty``: the refusal
    of 完成 with none picked (None: none is an answer). ``numbers``: on a channel of numbered options,
    a reply of several numbers toggles each of them."""
    chosen_key = f"{name}_chosen"

    async def ask(turn: Turn, data: Data) -> None:
        chosen = set(data.get(chosen_key, []))
        choices = [
            Choice(("✅ " if c.value in chosen else "") + turn.t(f"code.{label}.{c.value}"), f"f.{c.value}")
            for c in table
        ]
        choices.append(turn.choice("chat.button.done", "f.done"))
        extra = params(data) if params is not None else {}
        turn.say(key, *choices, columns=2, count=len(chosen), **extra)

    async def take(turn: Turn, given: Input, data: Data) -> Data:
        chosen: list[str] = list(data.get(chosen_key, []))
        many = picked_numbers(turn, given, table) if numbers else None
        if many is not None:
            return {chosen_key: _toggled(chosen, many)}
        if button_value(given) == "done":
            if not chosen and empty is not None:
                raise InvalidInput(empty)
            return {name: chosen}
        return {chosen_key: _toggled(chosen, [code(given, table, refusal)])}

    # The list is shown again after a refusal: the codes picked so far are seen there.
    return Step(name, needed, ask, take, retry=refuse_and_ask)


def _toggled(chosen: list[str], picked: list[str]) -> list[str]:
    """Each picked code is toggled, as if its button had been pressed."""
    for value in picked:
        chosen = [c for c in chosen if c != value] if value in chosen else [*chosen, value]
    return chosen


# Several numbers in one reply to a 可多选 list: "1,3", "1 3", "1，3", "1、3".
_MANY = re.compile(r"^\d+(?:\s*[,;、；]\s*\d+|\s+\d+)+$")


def picked_numbers(turn: Turn, given: Input, table: type[StrEnum]) -> list[str] | None:
    """On a channel of numbered options, a reply of several numbers picks each of those options of a
    multi-select list: their codes, in order. None when the reply is no list of numbers; a refusal
    naming a number that picks nothing of the list."""
    if not isinstance(given, Text) or turn.channel not in NUMBERED_CHANNELS:
        return None
    form = ascii_form(given.text.strip()).strip()
    if not _MANY.match(form):
        return None
    offered = turn.state.offered
    picked: list[str] = []
    for number in (int(n) for n in re.findall(r"\d+", form)):
        payload = offered[number - 1] if 1 <= number <= len(offered) else ""
        value = payload[2:] if payload.startswith("f.") else ""
        if value not in table._value2member_map_:
            raise InvalidInput("chat.reg.pick_many.bad", number=number)
        if value not in picked:
            picked.append(value)
    return picked


# ---- the form -----------------------------------------------------------------------------------


def _not_in(data: Data, name: str) -> bool:
    return name not in data


class Form:
    def __init__(
        self,
        flow: str,
        steps: tuple[Step, ...],
        *,
        unanswered: Callable[[Data, str], bool] = _not_in,
        retry: Retry = refuse_and_ask,
    ) -> None:
        self.flow = flow
        self.steps = steps
        self.by_name = {step.name: step for step in steps}
        self.unanswered = unanswered
        self.retry = retry

    def next(self, data: Data, only: tuple[str, ...] | None = None) -> Step | None:
        return next(
            (
                s
                for s in self.steps
                if self.unanswered(data, s.name) and s.needed(data) and (only is None or s.name in only)
            ),
            None,
        )

    def count(self, data: Data) -> int:
        return sum(1 for s in self.steps if s.needed(data))

    async def answer(self, turn: Turn, given: Input) -> Data | None:
        """The answers with this one read in; None when it was refused (and asked again)."""
        data = dict(turn.state.data)
        step = self.by_name[turn.state.step]
        try:
            data.update(await step.take(turn, given, data))
        except DomainError as error:
            await (step.retry or self.retry)(turn, step, data, error)
            return None
        return data

    async def proceed(
        self, turn: Turn, data: Data, *, only: tuple[str, ...] | None = None, flow: str | None = None
    ) -> bool:
        """Asks the next question; True when none is left (the dialog then waits at the summary)."""
        nxt = self.next(data, only)
        turn.state.start(flow or self.flow, nxt.name if nxt else SUMMARY, **data)
        if nxt is None:
            return True
        await nxt.ask(turn, data)
        return False


# ---- who may open a staff tool ------------------------------------------------------------------

P = ParamSpec("P")


def refuse_not_staff(turn: Turn) -> None:
    turn.say("access.not_staff", turn.choice("chat.button.menu", Menu()))


def staff_only(
    handler: Callable[Concatenate[Turn, P], Awaitable[None]],
) -> Callable[Concatenate[Turn, P], Awaitable[None]]:
    """A tool of the organizer's: opening it leaves any question asked before, and anyone who is
    neither staff of an org nor an admin is told so instead."""

    @wraps(handler)
    async def guarded(turn: Turn, *args: P.args, **kwargs: P.kwargs) -> None:
        turn.state.clear()
        if not turn.actor.is_staff:
            refuse_not_staff(turn)
            return
        await handler(turn, *args, **kwargs)

    return guarded


def volunteer_only(
    handler: Callable[Concatenate[Turn, int, P], Awaitable[None]],
) -> Callable[Concatenate[Turn, P], Awaitable[None]]:
    """A volunteer's own tool: opening it leaves any question asked before, and someone not
    registered is told how to register instead; the handler gets the volunteer's id after the turn."""

    @wraps(handler)
    async def guarded(turn: Turn, *args: P.args, **kwargs: P.kwargs) -> None:
        turn.state.clear()
        volunteer_id = turn.registered()
        if volunteer_id is not None:
            await handler(turn, volunteer_id, *args, **kwargs)

    return guarded


# ---- a staff member's typed answer about one item ------------------------------------------------


@dataclass(frozen=True)
class StaffQuestion:
    """A staff member's typed answer about one item: a reply to feedback, the reason of a rejection.
    The dialog keeps the item's number under ``field`` (with ``step``, as stored in open dialogs)."""

    flow: str
    step: str
    field: str
    ask_key: str  # said with the item's ``number`` and the answer's ``max`` length
    limit: int
    back: Callable[[Turn], Choice]  # the button out: the list the item came from
    show: Callable[[Turn, int], Awaitable[None]]  # the item itself, as staff see it

    async def ask(self, turn: Turn, item_id: int, *, still_open: bool) -> None:
        """Asks for the answer, or shows the item again when it was decided meanwhile."""
        turn.state.clear()
        if not still_open:
            await self.show(turn, item_id)
            return
        turn.state.start(self.flow, self.step, **{self.field: item_id})
        self._prompt(turn, item_id)

    def _prompt(self, turn: Turn, item_id: int) -> None:
        turn.say(self.ask_key, self.back(turn), number=item_id, max=self.limit)

    async def answer(self, turn: Turn, given: Input, take: Callable[[int, str], Awaitable[None]]) -> None:
        """The text typed, given to ``take`` with the item's number. After another button the question
        has expired: the item is shown again. An answer refused as it stands (empty, too long) is said
        why and asked again; any other refusal (decided meanwhile by someone else, no longer allowed)
        ends the question, with the button back. A refused answer writes nothing."""
        item_id = int(turn.state.data.get(self.field, 0))
        back = self.back(turn)
        if not turn.still_asked(back.payload):
            await self.show(turn, item_id)
            return
        try:
            await take(item_id, given.text if isinstance(given, Text) else "")
        except InvalidInput as error:
            turn.refuse(error)
            self._prompt(turn, item_id)
            return
        except DomainError as error:
            turn.state.clear()
            turn.refuse(error, back)
            return
        turn.state.clear()


# ---- questions scored 1–n, then a comment (a survey, an evaluation) ----------------------------------


def score_given(given: Input, check: Callable[[str], int], refusal: InvalidInput) -> int:
    """A score: the payload of its button (``f.<n>``) or the number typed."""
    if isinstance(given, Button) and given.payload.startswith("f."):
        return check(given.payload[2:])
    if isinstance(given, Text):
        return check(given.text)
    raise refusal


def comment_given(given: Input, check: Callable[[str], str | None], refusal_key: str) -> str | None:
    """A comment typed, or None for 跳过 (``f.skip``)."""
    if isinstance(given, Button) and given.payload == "f.skip":
        return None
    if isinstance(given, Text):
        return check(given.text)
    raise InvalidInput(refusal_key)


def keep_score(turn: Turn, field: str, questions: Sequence[str], value: int) -> bool:
    """The score answers the next of ``questions``; the scores so far live in ``state.data[field]``.
    True while questions remain; once all are answered the step becomes ``comment``."""
    scores = dict(turn.state.data.get(field, {}))
    scores[questions[len(scores)]] = value
    more = len(scores) < len(questions)
    turn.state.go(turn.state.step if more else "comment", **{field: scores})
    return more
