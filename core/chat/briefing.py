"""Answering the briefing (3-6.1.3.2): 确认参加, or 无法参加 with an optional reason, which frees the place
for the next on the waitlist at once (3-6.1.3.3). The buttons come with the briefing notice, its nudge,
and in WeChat as numbered options of the same message."""

from __future__ import annotations

from core.chat.messages import Choice, Input, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    CheckinMenu,
    ConfirmPresence,
    Decline,
    DeclineWithoutReason,
    Find,
    MyActivities,
)
from core.errors import DomainError, InvalidInput
from core.services.presence import confirm_presence, decline

router = Router()

DECLINE = "briefing_decline"
REASON_MAX = 200


@router.button(ConfirmPresence)
async def confirm(turn: Turn, pressed: ConfirmPresence) -> None:
    turn.state.clear()
    activity, _ = await confirm_presence(turn.uow, turn.clock, turn.actor, pressed.signup_id)
    turn.say(
        "presence.confirmed",
        turn.choice("chat.menu.checkin", CheckinMenu()),
        turn.choice("chat.menu.mine", MyActivities()),
        title=activity.title,
        start=turn.local_time(activity.starts_at, activity.timezone),
        minutes=turn.policy.checkin_opens_before_min,
    )


@router.button(Decline)
async def ask_reason(turn: Turn, pressed: Decline) -> None:
    """无法参加: one question (a reason, or none), so that a slip of the finger costs nothing."""
    signup = await turn.uow.signups.get(pressed.signup_id)
    if signup is None or signup.volunteer_id != turn.actor.volunteer_id:
        turn.say("signup.not_found", turn.choice("chat.menu.mine", MyActivities()))
        return
    activity = await turn.uow.activities.read(signup.activity_id)
    assert activity is not None
    turn.state.start(DECLINE, "reason", signup=signup.id)
    _ask(turn, signup.id or 0, activity.title)


def _ask(turn: Turn, signup_id: int, title: str) -> None:
    turn.say(
        "presence.decline.ask",
        *_answers(turn, signup_id),
        title=title,
        max=REASON_MAX,
    )


def _answers(turn: Turn, signup_id: int) -> list[Choice]:
    return [
        turn.choice("presence.button.no_reason", DeclineWithoutReason(signup_id)),
        turn.choice("presence.button.can_come", ConfirmPresence(signup_id)),
    ]


@router.flow(DECLINE)
async def reason_step(turn: Turn, given: Input) -> None:
    signup_id = int(turn.state.data["signup"])
    if not turn.still_asked(*(c.payload for c in _answers(turn, signup_id))):
        return
    try:
        if not isinstance(given, Text) or not given.text.strip() or given.text.strip().startswith("/"):
            raise InvalidInput("presence.decline.reason_needed")
        reason = given.text.strip()
        if len(reason) > REASON_MAX:
            raise InvalidInput("presence.decline.too_long", max=REASON_MAX)
    except DomainError as error:
        turn.refuse(error)
        signup = await turn.uow.signups.get(signup_id)
        activity = await turn.uow.activities.read(signup.activity_id) if signup else None
        _ask(turn, signup_id, activity.title if activity else "")
        return
    await _decline(turn, signup_id, reason)


@router.button(DeclineWithoutReason)
async def decline_without_reason(turn: Turn, pressed: DeclineWithoutReason) -> None:
    await _decline(turn, pressed.signup_id, "")


async def _decline(turn: Turn, signup_id: int, reason: str) -> None:
    turn.state.clear()
    result = await decline(turn.uow, turn.clock, turn.actor, signup_id, reason)
    activity = await turn.uow.activities.read(result.signup.activity_id)
    assert activity is not None
    turn.say("presence.declined", turn.choice("chat.menu.find", Find()), title=activity.title)
