"""Recruitment broadcast in chat (2-7.2, 3-6.1.3.3): from the staff's activity card, a preview that
says how many volunteers the call would reach and who they are, then the call itself, queued for
the outbox. Rules and the audience live in core.services.broadcasts."""

from __future__ import annotations

from core.chat.organizer import _viewed
from core.chat.turn import Turn
from core.services.broadcasts import broadcast_recruitment, recruitment_audience


async def preview(turn: Turn, arg: str) -> None:
    activity = await _viewed(turn, arg)
    assert activity.id is not None
    audience = await recruitment_audience(turn.uow, turn.clock, turn.actor, activity.id)
    back = turn.choice("chat.org.view", f"oa:{activity.id}")
    if not audience.user_ids:
        turn.say("chat.broadcast.nobody", back, title=activity.title)
        return
    turn.say(
        "chat.broadcast.preview",
        turn.choice("chat.broadcast.send", f"oa.bcs:{activity.id}"),
        back,
        title=activity.title,
        count=len(audience.user_ids),
    )


async def send(turn: Turn, arg: str) -> None:
    activity = await _viewed(turn, arg)
    assert activity.id is not None
    count = await broadcast_recruitment(turn.uow, turn.clock, turn.actor, activity.id)
    turn.say(
        "chat.broadcast.sent",
        turn.choice("chat.org.view", f"oa:{activity.id}"),
        title=activity.title,
        count=count,
    )
