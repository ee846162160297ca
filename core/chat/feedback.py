"""2-8.2, 5-5.4.1: a volunteer (or anyone) sends an opinion at any time; staff of the org it concerns
see the open ones, answer in chat, and the answer closes it and reaches the author. Opening an item
or the list leaves the question for a reply: the next text is then no reply."""

from __future__ import annotations

from typing import Any

from core.chat.messages import Choice, Input, Text
from core.chat.turn import Turn
from core.domain.dialog import Feedback
from core.errors import DomainError, InvalidInput
from core.services.feedback import REPLY_MAX, excerpt, feedback_for_staff, open_feedback, reply_to_feedback

FEEDBACK = "feedback"
FEEDBACK_REPLY = "feedback_reply"
MAX_LENGTH = 2000
LIST_LIMIT = 10


async def ask_feedback(turn: Turn, _: str = "") -> None:
    turn.state.start(FEEDBACK, "text")
    turn.say("chat.feedback.ask", turn.choice("chat.button.cancel", "menu"))


async def feedback_step(turn: Turn, given: Input) -> None:
    if not isinstance(given, Text) or not given.text.strip():
        turn.say("chat.feedback.ask", turn.choice("chat.button.cancel", "menu"))
        return
    text = given.text.strip()
    if len(text) > MAX_LENGTH:
        turn.say("chat.feedback.too_long", max=MAX_LENGTH)
        return
    org_id = None
    if turn.actor.volunteer_id is not None:
        memberships = await turn.uow.memberships.for_volunteer(turn.actor.volunteer_id)
        org_id = memberships[0].org_id if memberships else None
    item = await turn.uow.feedback.add(
        Feedback(user_id=turn.user_id, text=text, created_at=turn.clock.now(), org_id=org_id)
    )
    turn.state.clear()
    turn.say("chat.feedback.thanks", turn.choice("chat.button.menu", "menu"), number=item.id)


# ---- staff: open feedback and replies -----------------------------------------------------------


def _back(turn: Turn) -> Choice:
    return turn.choice("chat.fbreply.button.list", "fbl")


async def list_feedback(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    if not turn.actor.is_staff:
        turn.say("access.not_staff", turn.choice("chat.button.menu", "menu"))
        return
    items = await open_feedback(turn.uow, turn.actor, LIST_LIMIT)
    if not items:
        turn.say("chat.fbreply.none", turn.choice("chat.button.menu", "menu"))
        return
    choices = [
        Choice(
            turn.t(
                "chat.fbreply.item",
                number=item.id,
                date=turn.local_time(item.created_at)[5:10],
                text=excerpt(item.text, 24),
            )[:60],
            f"fbl.o:{item.id}",
        )
        for item in items
    ]
    turn.say("chat.fbreply.title", *choices, turn.choice("chat.button.menu", "menu"), count=len(items))


async def show_item(turn: Turn, arg: str) -> None:
    turn.state.clear()
    if not arg.isdigit():
        await list_feedback(turn)
        return
    item = await feedback_for_staff(turn.uow, turn.actor, int(arg))
    org = await turn.uow.orgs.get(item.org_id) if item.org_id is not None else None
    volunteer = await turn.uow.volunteers.by_user(item.user_id)
    params: dict[str, Any] = {
        "number": item.id,
        "sent": turn.local_time(item.created_at),
        "author": volunteer.name if volunteer else turn.t("chat.fbreply.anonymous"),
        "org": org.name if org else "-",
        "text": item.text,
    }
    if not item.open:
        replied = turn.local_time(item.replied_at) if item.replied_at else ""
        turn.say("chat.fbreply.card_closed", _back(turn), reply=item.reply or "", replied=replied, **params)
        return
    turn.say(
        "chat.fbreply.card",
        turn.choice("chat.fbreply.button.reply", f"fbl.r:{item.id}"),
        _back(turn),
        **params,
    )


async def ask_reply(turn: Turn, arg: str) -> None:
    turn.state.clear()
    if not arg.isdigit():
        await list_feedback(turn)
        return
    item = await feedback_for_staff(turn.uow, turn.actor, int(arg))
    if not item.open:
        await show_item(turn, arg)
        return
    turn.state.start(FEEDBACK_REPLY, "text", feedback_id=item.id)
    turn.say("chat.fbreply.ask", _back(turn), number=item.id, max=REPLY_MAX)


async def reply_step(turn: Turn, given: Input) -> None:
    feedback_id = int(turn.state.data.get("feedback_id", 0))
    if not turn.still_asked(_back(turn).payload):
        await show_item(turn, str(feedback_id))
        return
    text = given.text.strip() if isinstance(given, Text) else ""
    try:
        item = await reply_to_feedback(turn.uow, turn.clock, turn.actor, feedback_id, text)
    except InvalidInput as error:
        # An empty or over-long reply: say why and ask again; nothing was written.
        turn.refuse(error)
        turn.say("chat.fbreply.ask", _back(turn), number=feedback_id, max=REPLY_MAX)
        return
    except DomainError as error:
        # Answered meanwhile by someone else, or no longer allowed: nothing was written.
        turn.state.clear()
        turn.refuse(error, _back(turn))
        return
    turn.state.clear()
    turn.say("chat.fbreply.sent", _back(turn), turn.choice("chat.button.menu", "menu"), number=item.id)
