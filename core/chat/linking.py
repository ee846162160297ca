"""Linking another chat app to the same volunteer (issue 3): /link gives a one-time code in the app
where the profile is; "/link 123456" (or the code alone, when asked for it) sent from the other app
links that account."""

from __future__ import annotations

from core.chat import volunteer
from core.chat.messages import Input, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import LinkAccount, Menu
from core.domain.linking import CODE_LIFETIME
from core.errors import NotFound
from core.services.access import load_actor
from core.services.links import WrongLinkCode, issue_link_code, redeem_link_code

router = Router()

LINKING = "link"


@router.command("link", button=LinkAccount)
async def link(turn: Turn, arg: str = "") -> None:
    """/link, /link 123456, and the profile's button."""
    code = arg.strip()
    if code:
        await _redeem(turn, code)
        return
    if await turn.uow.volunteers.by_user(turn.user_id) is None:
        # No profile here: this must be the other app, so ask for the code made where the profile is.
        turn.state.start(LINKING, "code")
        turn.say("chat.link.ask_code", turn.choice("chat.button.menu", Menu()))
        return
    turn.state.clear()  # any question asked before is left: the next text is no answer to it
    issued = await issue_link_code(turn.uow, turn.clock, turn.user_id)
    turn.say(
        "chat.link.code",
        turn.choice("chat.button.menu", Menu()),
        code=issued.code,
        minutes=int(CODE_LIFETIME.total_seconds() // 60),
        until=turn.local_time(issued.expires_at)[11:],
    )


@router.flow(LINKING)
async def linking_step(turn: Turn, given: Input) -> None:
    if not isinstance(given, Text) or not given.text.strip():
        turn.say("chat.link.ask_code", turn.choice("chat.button.menu", Menu()))
        return
    await _redeem(turn, given.text)


async def _redeem(turn: Turn, code: str) -> None:
    mine = [i for i in await turn.uow.identities.for_user(turn.user_id) if i.channel == turn.channel]
    if not mine:
        raise NotFound("user.not_found")
    try:
        linked = await redeem_link_code(turn.uow, turn.clock, turn.channel, mine[0].external_id, code)
    except WrongLinkCode as error:
        # Refused without raising further: the turn commits, and with it the wrong try that the limit counts.
        turn.refuse(error, turn.choice("chat.button.menu", Menu()))
        return
    turn.state.clear()
    user = await turn.uow.users.get(linked.user_id)
    if user is None:
        raise NotFound("user.not_found")
    # From here on this turn speaks for the volunteer's user, in their language.
    turn.user_id = linked.user_id
    turn.actor = await load_actor(turn.uow, user.id)
    turn.use_language(user.language)
    turn.say("chat.link.done")
    await volunteer.show_profile(turn)
