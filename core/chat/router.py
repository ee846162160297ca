"""Each chat module registers what it answers where the handler is written, as aiogram's routers do:
the buttons (by the action pressed), the commands and the steps of its questions. ``Routes.gather``
puts the modules' routers together and refuses two handlers for one button, command or step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.chat.conversation import ButtonHandler, FlowStep, Handler
from core.chat.turn import Turn
from core.domain.actions import Action

A = TypeVar("A", bound=Action)
ActionHandler = Callable[[Turn, A], Awaitable[None]]
H = TypeVar("H", bound=Handler)
B = TypeVar("B", bound=ButtonHandler)


class Router:
    def __init__(self) -> None:
        self.on_button: dict[type[Action], ButtonHandler] = {}
        self.on_command: dict[str, Handler] = {}
        self.on_flow: dict[str, FlowStep] = {}

    def button(self, kind: type[A], *, command: str = "") -> Callable[[ActionHandler[A]], ActionHandler[A]]:
        """The handler of a button, given the action pressed. With ``command``, the command does the
        same, its words read as the action's fields (``/overview 3`` as ``ov:3``); words that do not
        read are left out."""

        def register(handler: ActionHandler[A]) -> ActionHandler[A]:
            _add(self.on_button, kind, handler)
            if command:

                async def typed(turn: Turn, arg: str) -> None:
                    await handler(turn, kind.parse(f"{kind.prefix}:{arg}") or kind())

                _add(self.on_command, command, typed)
            return handler

        return register

    def buttons(self, *kinds: type[Action]) -> Callable[[B], B]:
        """One handler for several buttons, given the action pressed: one of ``kinds``."""

        def register(handler: B) -> B:
            for kind in kinds:
                _add(self.on_button, kind, handler)
            return handler

        return register

    def command(self, *names: str, button: type[Action] | None = None) -> Callable[[H], H]:
        """The handler of commands, given the words after the command. With ``button``, a button
        with no fields does the same, given no words."""

        def register(handler: H) -> H:
            for name in names:
                _add(self.on_command, name, handler)
            if button is not None:

                async def pressed(turn: Turn, _: Action) -> None:
                    await handler(turn, "")

                _add(self.on_button, button, pressed)
            return handler

        return register

    def flow(self, name: str) -> Callable[[FlowStep], FlowStep]:
        """The handler of every answer given while the question ``name`` is open."""

        def register(step: FlowStep) -> FlowStep:
            _add(self.on_flow, name, step)
            return step

        return register


K = TypeVar("K")
V = TypeVar("V")


def _add(table: dict[Any, Any], key: object, value: object) -> None:
    if key in table:
        raise ValueError(f"two handlers for {key!r}")
    table[key] = value


def merged(tables: list[dict[K, V]]) -> dict[K, V]:
    """One table of several routers', refusing a key that two of them answer."""
    out: dict[K, V] = {}
    for table in tables:
        for key, value in table.items():
            _add(out, key, value)
    return out
