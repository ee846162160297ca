"""Matching in chat (3-6.1.2, 3-6.1.3.1): from the activity card (匹配志愿者) or a taken need, staff see
the best volunteers, each with why ("农学 · 农技推广 · 12.0 公里 · 参与 3 次"), invite them one by one
(a notice with 报名 / 不感兴趣) or send the call for volunteers to the best few."""

from __future__ import annotations

from core.chat.messages import Choice
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    CallVolunteers,
    Invite,
    MatchActivity,
    MatchNeed,
    Menu,
    NotInterested,
    PlanNeed,
    ShowNeed,
    StaffCard,
)
from core.domain.activity import ActivityStatus, Distance
from core.domain.matching import Match
from core.services.matching import CALL_TOP, Matches, call_best, decline, invite, match_activity, match_need

router = Router()


def why(turn: Turn, match: Match, content: str) -> str:
    """The reasons of one place in the ranking, in the reader's language; ``content`` is the kind of
    service matched for."""
    c, parts = match.candidate, []
    if match.skills:
        parts.append(turn.join(turn.t(f"code.skill.{s}") for s in match.skills))
    if match.area:
        parts.append(turn.t(f"code.service_content.{content}"))
    if match.distance_m is not None:
        parts.append(str(turn.label_param(Distance(match.distance_m))))
    elif match.same_region:
        parts.append(turn.t("matching.why.region", region=c.region))
    record = c.record
    if record.attended or record.missed:
        parts.append(turn.t("matching.why.attended", count=record.attended))
        if record.missed:
            parts.append(turn.t("matching.why.missed", count=record.missed))
    else:
        parts.append(turn.t("matching.why.new"))
    if record.recent > 1:
        parts.append(turn.t("matching.why.recent", count=record.recent))
    if c.invited:
        parts.append(turn.t("matching.why.invited"))
    elif c.recruitment_off:
        parts.append(turn.t("matching.why.opted_out"))
    elif not c.reachable:
        parts.append(turn.t("matching.why.unreachable"))
    return " · ".join(parts)


def _lines(turn: Turn, matches: Matches, content: str) -> list[str]:
    return [
        turn.t("matching.line", n=n, name=m.candidate.name, why=why(turn, m, content))
        for n, m in enumerate(matches.ranking.matches, 1)
    ]


def _show(turn: Turn, matches: Matches, back: Choice) -> None:
    activity, need = matches.activity, matches.need
    planned = activity or need
    content = planned.service_content.value if planned is not None else ""
    lines = _lines(turn, matches, content)
    if activity is not None:
        head = turn.t("matching.title.activity", title=activity.title, count=len(lines))
    else:
        assert need is not None
        head = turn.t("matching.title.need", number=need.id, count=len(lines))
    if not lines:
        turn.say("matching.none", back, title=head)
        return
    choices: list[Choice] = []
    if activity is not None:
        assert activity.id is not None
        open_ = activity.open_for_signup and activity.starts_at > turn.clock.now()
        for match in matches.ranking.matches if open_ else []:
            if match.invitable:
                label = turn.label("matching.button.invite", "name", name=match.candidate.name)
                choices.append(Choice(label, Invite(activity.id, match.candidate.volunteer_id).pack()))
        if open_:
            choices.append(turn.choice("matching.button.call", CallVolunteers(activity.id), count=CALL_TOP))
        elif activity.status is ActivityStatus.DRAFT:
            lines.append(turn.t("matching.publish_first"))
    elif need is not None:
        assert need.id is not None
        choices.append(turn.choice("matching.button.plan", PlanNeed(need.id)))
    excluded = len(matches.ranking.excluded)
    tail = "\n" + turn.t("matching.excluded", count=excluded) if excluded else ""
    turn.say_text("\n".join([head, *lines]) + tail, *choices, back)


@router.button(MatchActivity)
async def for_activity(turn: Turn, action: MatchActivity) -> None:
    turn.state.clear()
    matches = await match_activity(turn.uow, turn.clock, turn.actor, action.activity_id)
    _show(turn, matches, turn.choice("chat.org.view", StaffCard(action.activity_id)))


@router.button(MatchNeed)
async def for_need(turn: Turn, action: MatchNeed) -> None:
    turn.state.clear()
    matches = await match_need(turn.uow, turn.clock, turn.actor, action.need_id)
    _show(turn, matches, turn.choice("matching.button.need", ShowNeed(action.need_id)))


@router.button(Invite)
async def invite_one(turn: Turn, action: Invite) -> None:
    match = await invite(turn.uow, turn.clock, turn.actor, action.activity_id, action.volunteer_id)
    turn.say("matching.invited", name=match.candidate.name)
    await for_activity(turn, MatchActivity(action.activity_id))


@router.button(CallVolunteers)
async def call(turn: Turn, action: CallVolunteers) -> None:
    count = await call_best(turn.uow, turn.clock, turn.actor, action.activity_id)
    turn.say("matching.called", turn.choice("chat.org.view", StaffCard(action.activity_id)), count=count)


@router.button(NotInterested)
async def not_interested(turn: Turn, action: NotInterested) -> None:
    """The volunteer's 不感兴趣 on an invitation: left out of this activity's rankings."""
    activity = await decline(turn.uow, turn.clock, turn.actor, action.activity_id)
    turn.say("matching.declined", turn.choice("chat.button.menu", Menu()), title=activity.title)
