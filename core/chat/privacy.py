"""PIPL in chat: /mydata sends everything kept about the person as a file (art. 45); /leave erases
them (art. 47) after saying what goes and what stays. Correcting the profile (art. 46) is 修改资料 and
withdrawing a consent is 授权管理, both in the profile."""

from __future__ import annotations

from core.chat.messages import Document
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import AskLeave, Consents, EditProfile, Leave, Menu, MyData
from core.services.privacy import as_json, leave, personal_data

router = Router()


@router.command("mydata", button=MyData)
async def my_data(turn: Turn, _: str = "") -> None:
    data = await personal_data(turn.uow, turn.clock, turn.actor)
    day = turn.local_time(turn.clock.now())[:10]
    caption = turn.t("privacy.mydata.caption", day=day)
    turn.replies.append(
        Document(as_json(data), turn.t("privacy.mydata.filename", day=day), caption, "application/json")
    )
    choices = [turn.choice("privacy.button.leave", AskLeave()), turn.choice("chat.button.menu", Menu())]
    if turn.actor.volunteer_id is not None:
        choices[:0] = [
            turn.choice("chat.profile.edit", EditProfile()),
            turn.choice("chat.profile.consents", Consents()),
        ]
    turn.say("privacy.mydata.done", *choices)


@router.command("leave", button=AskLeave)
async def ask_leave(turn: Turn, _: str = "") -> None:
    records = 0
    if turn.actor.volunteer_id is not None:
        records = len(await turn.uow.records.for_volunteer(turn.actor.volunteer_id))
    turn.say(
        "privacy.leave.question",
        turn.choice("privacy.button.leave_confirm", Leave()),
        turn.choice("privacy.button.mydata_first", MyData()),
        turn.choice("chat.button.menu", Menu()),
        records=records,
    )


@router.command(button=Leave)
async def do_leave(turn: Turn, _: str = "") -> None:
    departure = await leave(turn.uow, turn.clock, turn.actor)
    turn.state.clear()
    turn.say(
        "privacy.leave.done",
        cancelled=departure.cancelled_signups,
        records=departure.records_kept,
    )
