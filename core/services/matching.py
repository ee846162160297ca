"""Matching (3-6.1.2, 3-6.1.3.1): an org that took a need, or runs an activity, sees the volunteers who
fit it best, each with why, and invites them one at a time or sends the call for volunteers to the
best few. The audience is the one a call would reach (members of the org and the orgs below it);
invitations respect the recruitment opt-out and skip identities that no longer take messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.actions import ActivityCard, NotInterested, SignUp
from core.domain.activity import Activity, ActivityStatus
from core.domain.codes import ActivityMode
from core.domain.dialog import Notice
from core.domain.matching import (
    CALLED,
    DECLINED,
    INVITED,
    SHORTLIST,
    Match,
    Ranking,
    Target,
    rank,
)
from core.domain.need import Need, NeedStatus
from core.domain.people import Actor
from core.errors import Conflict, NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_staff
from core.services.needs import activity_of_need, need_for_staff
from core.services.notices import local

MATCH_LIMIT = 10
CALL_TOP = 20  # "send the call to the best N"


@dataclass(frozen=True)
class Matches:
    """A ranking and what it was made for: an activity, or a need not yet planned as one."""

    ranking: Ranking
    activity: Activity | None = None
    need: Need | None = None


def activity_target(activity: Activity) -> Target:
    return Target(
        service_content=activity.service_content.value,
        skills=frozenset(activity.required_skills),
        qualifications=activity.qualifications_needed,
        online=activity.mode is ActivityMode.ONLINE,
        latitude=activity.latitude,
        longitude=activity.longitude,
        place=f"{activity.place_name} {activity.address}".strip(),
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
    )


def need_target(need: Need) -> Target:
    return Target(
        service_content=need.service_content.value,
        skills=frozenset(need.expertise),
        online=need.mode is ActivityMode.ONLINE,
        place=need.place,
    )


async def _tree(uow: UnitOfWork, org_id: int) -> list[int]:
    return [org_id, *await uow.orgs.descendant_ids(org_id)]


async def _ranking(
    uow: UnitOfWork,
    org_id: int,
    target: Target,
    now: datetime,
    activity_id: int | None,
    limit: int,
    invitable: bool = False,
) -> Ranking:
    orgs = await _tree(uow, org_id)
    found = await uow.matching.shortlist(
        orgs, target, now, activity_id, size=max(SHORTLIST, limit), invitable=invitable
    )
    return rank(target, found, limit)


async def match_activity(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, limit: int = MATCH_LIMIT
) -> Matches:
    activity = await uow.activities.read(activity_id)
    if activity is None or activity.id is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    ranking = await _ranking(uow, activity.org_id, activity_target(activity), clock.now(), activity.id, limit)
    return Matches(ranking, activity=activity)


async def match_need(
    uow: UnitOfWork, clock: Clock, actor: Actor, need_id: int, limit: int = MATCH_LIMIT
) -> Matches:
    """A taken need: once planned as an activity, the activity's matches (invitations go there)."""
    need = await need_for_staff(uow, actor, need_id)
    if need.status is not NeedStatus.TAKEN or need.taken_by_org is None:
        raise NotEligible("matching.need_not_taken", number=need.id)
    await require_staff(uow, actor, need.taken_by_org)
    activity_id = await activity_of_need(uow, need_id)
    if activity_id is not None:
        planned = await match_activity(uow, clock, actor, activity_id, limit)
        return Matches(planned.ranking, planned.activity, need)
    ranking = await _ranking(uow, need.taken_by_org, need_target(need), clock.now(), None, limit)
    return Matches(ranking, need=need)


async def _open_activity(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Activity:
    activity = await uow.activities.read(activity_id)
    if activity is None or activity.id is None:
        raise NotFound("activity.not_found")
    await require_staff(uow, actor, activity.org_id)
    if activity.status is not ActivityStatus.PUBLISHED or activity.starts_at <= clock.now():
        raise NotEligible("matching.not_open", title=activity.title)
    return activity


def _invite_key(activity_id: int, user_id: int) -> str:
    # Under the call's prefix (core.services.broadcasts): withdrawn or refreshed with the calls.
    return f"recruit:{activity_id}:invite:{user_id}"


def _call_params(activity: Activity, org: str) -> dict[str, str]:
    return {
        "org": org,
        "title": activity.title,
        "start": local(activity.starts_at, activity.timezone),
        "place": activity.place_name or activity.online_url,
    }


async def invite(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, volunteer_id: int) -> Match:
    """One volunteer of the ranking is invited, once per activity: a notice with 报名 / 不感兴趣."""
    activity = await _open_activity(uow, clock, actor, activity_id)
    assert activity.id is not None
    target = activity_target(activity)
    orgs, now = await _tree(uow, activity.org_id), clock.now()
    candidate = await uow.matching.candidate(orgs, target, now, activity.id, volunteer_id)
    if candidate is None:
        raise NotEligible("matching.not_a_match")
    ranked = rank(target, [candidate], 1).matches
    if not ranked:
        raise NotEligible("matching.not_a_match")
    match = ranked[0]
    if candidate.recruitment_off:
        raise NotEligible("matching.opted_out", name=candidate.name)
    if not candidate.reachable:
        raise NotEligible("matching.unreachable", name=candidate.name)
    if candidate.invited:
        raise Conflict("matching.already_invited", name=candidate.name)
    org = await uow.orgs.name_of(activity.org_id) or ""
    await uow.notices.add_once(
        Notice(
            key=_invite_key(activity.id, candidate.user_id),
            user_id=candidate.user_id,
            message_key="notice.match_invite",
            due_at=clock.now(),
            created_at=clock.now(),
            params=_call_params(activity, org),
            choices=[
                ["matching.button.sign_up", SignUp(activity.id).pack()],
                ["matching.button.decline", NotInterested(activity.id).pack()],
            ],
        )
    )
    await audit(
        uow, clock, actor, INVITED, "activity", activity.id, user=candidate.user_id, volunteer=volunteer_id
    )
    return match


async def decline(uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int) -> Activity:
    """不感兴趣: the volunteer is left out of this activity's rankings from now on."""
    activity = await uow.activities.read(activity_id)
    if activity is None or activity.id is None:
        raise NotFound("activity.not_found")
    if actor.user_id is None:
        raise NotEligible("volunteer.not_registered")
    entries = await uow.audit.for_entity("activity", activity.id)
    if not any(e.action == DECLINED and e.actor_user_id == actor.user_id for e in entries):
        await audit(uow, clock, actor, DECLINED, "activity", activity.id)
    for notice in await uow.notices.pending([_invite_key(activity.id, actor.user_id)]):
        notice.withdraw(clock.now())
    return activity


async def call_best(
    uow: UnitOfWork, clock: Clock, actor: Actor, activity_id: int, count: int = CALL_TOP
) -> int:
    """The existing call for volunteers (notice.recruitment) to the best ``count`` who may be invited;
    each volunteer hears it once per activity. Returns how many were queued."""
    activity = await _open_activity(uow, clock, actor, activity_id)
    assert activity.id is not None
    target = activity_target(activity)
    ranking = await _ranking(uow, activity.org_id, target, clock.now(), activity.id, count, invitable=True)
    best = [m.candidate.user_id for m in ranking.matches]
    keys = {f"recruit:{activity.id}:best:{user_id}": user_id for user_id in best}
    known = await uow.notices.queued(list(keys))
    fresh = [(key, user_id) for key, user_id in keys.items() if key not in known]
    if not fresh:
        raise Conflict("matching.called_already", title=activity.title)
    now = clock.now()
    call = Notice(
        key="",
        user_id=0,
        message_key="notice.recruitment",
        due_at=now,
        created_at=now,
        params=_call_params(activity, await uow.orgs.name_of(activity.org_id) or ""),
        choices=[["chat.button.view_activity", ActivityCard(activity.id).pack()]],
    )
    await uow.notices.add_for_each(call, fresh)
    await audit(uow, clock, actor, CALLED, "activity", activity.id, recipients=len(fresh))
    return len(fresh)
