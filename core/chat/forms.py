"""Forms answered one question at a time (an activity plan, a need): a table of steps, each saying
whether it is asked, how, and how its answer is read. A wrong answer is refused with the reason and
the same question is asked again; the answers so far live in the dialog state. A step answered by
pressing a button names its choices, so that the same answer can also be written out (a template)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.chat.messages import Button, Choice, Input, Text
from core.chat.turn import Turn
from core.errors import DomainError, InvalidInput

Data = dict[str, Any]
Options = Callable[[Turn, Data], Awaitable[list[Choice]]]
SUMMARY = "summary"


@dataclass(frozen=True)
class Step:
    name: str
    needed: Callable[[Data], bool]
    ask: Callable[[Turn, Data], Awaitable[None]]
    take: Callable[[Turn, Input, Data], Awaitable[Data]]
    options: Options | None = None  # the buttons of a step answered by pressing one


def choosing(
    name: str,
    needed: Callable[[Data], bool],
    key: str,
    options: Options,
    take: Callable[[Turn, Input, Data], Awaitable[Data]],
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


def pressed(given: Input, refusal: str = "chat.reg.pick_button") -> str:
    """The value of a form's button (payload "f.<value>"), or a refusal asking to press one."""
    if isinstance(given, Button) and given.payload.startswith("f."):
        return given.payload[2:]
    raise InvalidInput(refusal)


def _not_in(data: Data, name: str) -> bool:
    return name not in data


class Form:
    def __init__(
        self, flow: str, steps: tuple[Step, ...], *, unanswered: Callable[[Data, str], bool] = _not_in
    ) -> None:
        self.flow = flow
        self.steps = steps
        self.by_name = {step.name: step for step in steps}
        self.unanswered = unanswered

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
            turn.refuse(error)
            await step.ask(turn, data)
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
