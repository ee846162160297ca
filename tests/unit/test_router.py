"""Each chat module registers its buttons, commands and questions beside the handlers; the routes put
them together and refuse two handlers for one thing."""

from __future__ import annotations

from typing import Any

import pytest

from core.chat.router import Router, merged
from core.chat.routes import build_routes, routers
from core.domain.actions import Help, Overview


async def test_a_command_with_a_button_gives_the_button_no_words() -> None:
    heard: list[str] = []
    router = Router()

    @router.command("help", button=Help)
    async def show_help(turn: Any, arg: str = "") -> None:
        heard.append(arg)

    await router.on_command["help"](None, "now")
    await router.on_button[Help](None, Help())
    assert heard == ["now", ""]


async def test_a_button_with_a_command_reads_the_words_as_its_fields() -> None:
    pressed: list[Overview] = []
    router = Router()

    @router.button(Overview, command="overview")
    async def overview(turn: Any, action: Overview) -> None:
        pressed.append(action)

    await router.on_command["overview"](None, "3")
    await router.on_command["overview"](None, "three")
    await router.on_button[Overview](None, Overview(5))
    assert pressed == [Overview(3), Overview(), Overview(5)]


def test_two_handlers_for_one_button_command_or_question_are_refused() -> None:
    router = Router()

    async def handler(turn: Any, arg: Any) -> None:
        pass

    router.button(Overview)(handler)
    with pytest.raises(ValueError, match="two handlers"):
        router.buttons(Help, Overview)(handler)
    router.command("help")(handler)
    with pytest.raises(ValueError, match="two handlers"):
        router.command("help")(handler)
    router.flow("form")(handler)
    with pytest.raises(ValueError, match="two handlers"):
        router.flow("form")(handler)
    with pytest.raises(ValueError, match="two handlers"):
        merged([{"help": handler}, {"help": handler}])


def test_every_module_that_answers_is_gathered() -> None:
    found = routers()
    # one router each: the deep-link/menu router and the 25 chat modules that declare one
    assert len(found) == len({id(r) for r in found}) == 26
    routes = build_routes()
    assert sum(len(r.on_command) for r in found) == len(routes.commands)
    assert {"help", "menu", "find", "my", "checkin", "certificate", "overview", "leave"} <= set(
        routes.commands
    )
    assert len(routes.buttons) == sum(len(r.on_button) for r in found)
    assert len(routes.flows) == sum(len(r.on_flow) for r in found) == 24
