"""2-8.2: a volunteer (or anyone) sends an opinion at any time; staff answer it."""

from __future__ import annotations

from core.chat.messages import Input, Text
from core.chat.turn import Turn
from core.domain.dialog import Feedback

FEEDBACK = "feedback"
MAX_LENGTH = 2000


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
