"""Forms answered one question at a time (an activity plan, a need): a table of steps, each saying
whether it is asked, how, and how its answer is read. A wrong answer is refused with the reason and
the same question is asked again; the answers so far live in the dialog state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.chat.messages import Button, Input
from core.chat.turn import Turn
from core.errors import DomainError, InvalidInput

Data = dict[str, Any]
SUMMARY = "summary"


@dataclass(frozen=True)
class Step:
    name: str
    needed: Callable[[Data], bool]
    ask: Callable[[Turn, Data], Awaitable[None]]
    take: Callable[[Turn, Input, Data], Awaitable[Data]]


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
