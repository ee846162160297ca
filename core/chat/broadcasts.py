"""Recruitment broadcast in chat (2-7.2, 3-6.1.3.3): from the staff's activity card, a preview that
says how many volunteers the call would reach and who they are, then the call itself, queued for
the outbox, shown as one progress card: sent, failed and still to go, with 刷新 (refresh) and 停止发送
(stop). Where the channel can edit a message (Telegram) the card is rewritten in place; elsewhere
(WeChat) a refresh answers with the card anew. Rules and the audience live in
core.services.broadcasts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from core.chat.messages import Say
from core.chat.router import Router
from core.chat.staff_activities import viewed_activity
from core.chat.turn import Turn
from core.domain.actions import BroadcastPreview, BroadcastRefresh, BroadcastSend, BroadcastStop, StaffCard
from core.errors import NotEligible
from core.services.broadcasts import (
    CallProgress,
    call_progress,
    call_recruitment,
    recruitment_audience,
    stop_call,
)

router = Router()


@router.button(BroadcastPreview)
async def preview(turn: Turn, action: BroadcastPreview) -> None:
    activity = await viewed_activity(turn, action.activity_id)
    back = turn.choice("chat.org.view", StaffCard(action.activity_id))
    try:
        audience = await recruitment_audience(turn.uow, turn.clock, turn.actor, action.activity_id)
    except NotEligible as error:  # full, closed or begun since the card was shown
        turn.refuse(error, back)
        return
    if not audience.user_ids:
        turn.say("chat.broadcast.nobody", back, title=activity.title)
        return
    turn.say(
        "chat.broadcast.preview",
        turn.choice("chat.broadcast.send", BroadcastSend(action.activity_id)),
        back,
        title=activity.title,
        count=len(audience.user_ids),
    )


@router.button(BroadcastSend)
async def send(turn: Turn, action: BroadcastSend) -> None:
    await viewed_activity(turn, action.activity_id)
    try:
        progress = await call_recruitment(turn.uow, turn.clock, turn.actor, action.activity_id)
    except NotEligible as error:  # full, closed or begun since the preview: nothing was queued
        turn.refuse(error, turn.choice("chat.org.view", StaffCard(action.activity_id)))
        return
    # A new message, the card: the preview above it stays as it was.
    _card(turn, progress, in_place=False)


@router.button(BroadcastRefresh)
async def refresh(turn: Turn, action: BroadcastRefresh) -> None:
    progress = await call_progress(turn.uow, turn.clock, turn.actor, action.activity_id, action.number)
    _card(turn, progress)


@router.button(BroadcastStop)
async def stop(turn: Turn, action: BroadcastStop) -> None:
    _card(turn, await stop_call(turn.uow, turn.clock, turn.actor, action.activity_id, action.number))


def _card(turn: Turn, progress: CallProgress, *, in_place: bool = True) -> None:
    activity = progress.activity
    assert activity.id is not None
    if progress.pending:
        state = turn.t("chat.broadcast.state.sending")
        choices = [
            turn.choice("chat.broadcast.refresh", BroadcastRefresh(activity.id, progress.number)),
            turn.choice("chat.broadcast.stop", BroadcastStop(activity.id, progress.number)),
        ]
    elif progress.withdrawn:
        state, choices = turn.t("chat.broadcast.state.stopped", withdrawn=progress.withdrawn), []
    else:
        state, choices = turn.t("chat.broadcast.state.done"), []
    choices.append(turn.choice("chat.org.view", StaffCard(activity.id)))
    at = turn.clock.now().astimezone(ZoneInfo(activity.timezone)).strftime("%H:%M:%S")
    text = turn.t(
        "chat.broadcast.progress",
        title=activity.title,
        total=progress.total,
        sent=progress.sent,
        failed=progress.failed,
        pending=progress.pending,
        state=state,
        time=at,
    )
    if not in_place:
        text = turn.t("chat.broadcast.sent", title=activity.title, count=progress.total) + "\n" + text
    turn.replies.append(Say(text, tuple(choices), in_place=in_place))
