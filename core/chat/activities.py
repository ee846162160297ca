"""Finding activities, the activity card, signing up, cancelling, the waitlist and "my activities"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.chat.deep_links import may_share
from core.chat.forms import location, refuse_answer
from core.chat.messages import Choice, Input
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    ActivityCard,
    ActivityQr,
    AskCancelSignup,
    CancelSignup,
    ComplainAboutActivity,
    Find,
    FindGroups,
    FindList,
    FindNear,
    JoinWaitlist,
    JoinWaitlistInsured,
    MakeupActivity,
    Menu,
    MyActivities,
    Register,
    SignUp,
    SignUpInsured,
    VolunteerSurvey,
)
from core.domain.activity import Activity, bounding_box, distance_m, places_left
from core.domain.codes import ServiceContent, ServiceContentGroup
from core.domain.signup import HOLDS_PLACE, LIVE, Signup, SignupStatus
from core.domain.survey import SurveyKind
from core.errors import DomainError
from core.ports import ActivityQuery
from core.services.activities import get_activity, read_activity
from core.services.notices import BRIEFING_AHEAD, briefing_params
from core.services.records import makeup_candidates
from core.services.reminders import vsurvey_key
from core.services.signups import ActivityEnded, ActivityFull, cancel_signup, sign_up
from core.services.surveys import survey_activity

router = Router()

PAGE = 5
NEAR_LIMIT_M = 50_000
MY_READ = 30  # the volunteer's latest sign-ups 我的活动 reads
MY_RECENT = 5  # ended activities of theirs offered as cards; older ones are lines of text
MY_LISTED = 15  # lines of text, then how many more
FIND_NEAR = "find_near"


async def show_filters(turn: Turn, _: str = "") -> None:
    turn.say(
        "chat.find.title",
        turn.choice("chat.find.all", FindList("all", 0)),
        turn.choice("chat.find.week", FindList("wk", 0)),
        turn.choice("chat.find.near", FindNear()),
        turn.choice("chat.find.online", FindList("on", 0)),
        turn.choice("chat.find.by_content", FindGroups()),
        turn.choice("chat.button.menu", Menu()),
        columns=2,
    )


@router.button(FindGroups)
async def show_groups(turn: Turn, pressed: FindGroups) -> None:
    if pressed.group is not None:
        kinds = [c for c in ServiceContent if c.group is pressed.group]
        choices = [turn.choice(f"code.service_content.{c.value}", FindList(f"c-{c.value}", 0)) for c in kinds]
        turn.say("chat.find.pick_content", *choices, turn.choice("chat.button.back", FindGroups()), columns=2)
        return
    choices = [turn.choice(f"code.service_group.{g.value}", FindGroups(g)) for g in ServiceContentGroup]
    turn.say("chat.find.pick_group", *choices, turn.choice("chat.button.back", Find()), columns=2)


@router.command(button=FindNear)
async def ask_near(turn: Turn, _: str = "") -> None:
    turn.state.start(FIND_NEAR, "location")
    turn.ask_location("chat.find.send_location")


@router.flow(FIND_NEAR)
async def near_step(turn: Turn, given: Input) -> None:
    try:
        latitude, longitude = location(given, "chat.find.not_a_location")
    except DomainError as error:  # not a point (then how to send one), or none on Earth
        refuse_answer(turn, error)
        turn.ask_location("chat.find.send_location")
        return
    turn.state.clear()
    turn.state.data = {"near": [latitude, longitude]}
    turn.say("chat.find.location_received", clear_keyboard=True)
    await _list(turn, "near", 0)


@router.button(FindList)
async def list_page(turn: Turn, pressed: FindList) -> None:
    await _list(turn, pressed.kind, pressed.offset)


async def _list(turn: Turn, kind: str, offset: int) -> None:
    now = turn.clock.now()
    filters: dict[str, Any] = {}
    if kind == "wk":
        filters["starts_before"] = now + timedelta(days=7)
    elif kind == "on":
        filters["online_only"] = True
    elif kind.startswith("c-"):
        filters["service_content"] = kind[2:]
    query = ActivityQuery(starts_after=now, limit=PAGE + 1, offset=offset, **filters)
    distances: dict[int, float] = {}
    if kind == "near":
        where = turn.state.data.get("near")
        if not where:
            await ask_near(turn)
            return
        # The box first, in the database; the exact distance then, for what is inside it.
        box = bounding_box(where[0], where[1], NEAR_LIMIT_M)
        found = await turn.uow.activities.search_brief(ActivityQuery(starts_after=now, within=box, limit=500))
        for activity in found:
            if activity.latitude is not None and activity.longitude is not None and activity.id is not None:
                metres = distance_m(where[0], where[1], activity.latitude, activity.longitude)
                if metres <= NEAR_LIMIT_M:
                    distances[activity.id] = metres
        nearby = sorted((a for a in found if a.id in distances), key=lambda a: distances[a.id or 0])
        activities = nearby[offset : offset + PAGE + 1]
    else:
        activities = await turn.uow.activities.search_brief(query)
    more = len(activities) > PAGE
    activities = activities[:PAGE]
    if not activities:
        turn.say("chat.find.none", turn.choice("chat.find.other", Find()))
        return
    taken = await turn.uow.signups.count_each([a.id for a in activities if a.id is not None], HOLDS_PLACE)
    choices = []
    for activity in activities:
        left = places_left(activity.capacity, taken.get(activity.id or 0, 0))
        distance = f" · {distances[activity.id] / 1000:.1f}km" if activity.id in distances else ""
        label = turn.label(
            "chat.find.item",
            "title",
            tail=distance,
            date=turn.local_time(activity.starts_at, activity.timezone)[5:],
            title=activity.title,
            left=left,
        )
        choices.append(Choice(label, ActivityCard(activity.id or 0).pack()))
    if more:
        choices.append(turn.choice("chat.button.next_page", FindList(kind, offset + PAGE)))
    choices.append(turn.choice("chat.find.other", Find()))
    turn.say("chat.find.results", *choices, page=offset // PAGE + 1)


async def _places_left(turn: Turn, activity: Activity) -> int:
    assert activity.id is not None
    return activity.places_left(await turn.uow.signups.count(activity.id, HOLDS_PLACE))


@router.button(ActivityCard)
async def show_card(turn: Turn, pressed: ActivityCard) -> None:
    activity = await read_activity(turn.uow, pressed.activity_id)
    t = turn.t
    now = turn.clock.now()
    status = activity.status_at(now)
    lines = [t("chat.card.title", title=activity.title, status=t(f"code.activity_status.{status.value}"))]
    lines.append(t("chat.card.kind", kind=t(f"code.service_content.{activity.service_content.value}")))
    if activity.training_kind is not None:  # 2-7.4: a training, for the volunteers' own skills
        lines.append(t("trainings.card.kind", kind=t(f"code.training_kind.{activity.training_kind.value}")))
    lines.append(
        t(
            "chat.card.time",
            start=turn.local_time(activity.starts_at, activity.timezone),
            end=turn.local_time(activity.ends_at, activity.timezone)[11:],
        )
    )
    if activity.has_place:
        lines.append(t("chat.card.place", place=activity.place_name, address=activity.address))
    if activity.online_url:
        lines.append(t("chat.card.online", mode=t(f"code.mode.{activity.mode.value}")))
    lines.append(t("chat.card.org", org=await turn.uow.orgs.name_of(activity.org_id) or ""))
    for field in ("content", "beneficiaries", "guarantees", "required_training", "risks"):
        value = getattr(activity, field).strip()
        if value:
            lines.append(t(f"chat.card.{field}", value=value))
    if activity.qualifications_needed:
        names = turn.join(t(f"code.qualification.{q}") for q in sorted(activity.qualifications_needed))
        lines.append(t("chat.card.qualifications", value=names))
    if activity.minimum_age:
        lines.append(t("chat.card.min_age", age=activity.minimum_age))
    if activity.needs_insurance:
        lines.append(t("chat.card.insurance"))
    if activity.signup_open(now):  # places left mean nothing once sign-up is closed
        lines.append(
            t("chat.card.places", left=await _places_left(turn, activity), capacity=activity.capacity)
        )
    choices: list[Choice] = []
    # An ended activity the volunteer signed up for: what came of it, and what is left to do about it.
    own_ended = await _own_ended(turn, activity, lines) if activity.ended(now) else None
    mine = (
        await turn.uow.signups.live(activity.id or 0, turn.actor.volunteer_id)
        if turn.actor.volunteer_id is not None and own_ended is None
        else None
    )
    if own_ended is not None:
        choices.extend(own_ended)
    elif mine is not None:
        lines.append(t("chat.card.my_status", status=t(f"code.signup_status.{mine.status.value}")))
        if activity.starts_at > now:  # once begun, a volunteer's own sign-up is no longer withdrawn
            choices.append(turn.choice("chat.button.cancel_signup", AskCancelSignup(mine.id or 0)))
    elif activity.signup_open(now):
        choices.append(turn.choice("chat.button.sign_up", SignUp(pressed.activity_id)))
    elif activity.ended(now):
        lines.append(t("chat.card.ended"))
    if may_share(turn, activity.org_id) and activity.signup_open(now):
        choices.append(turn.choice("chat.qr.button", ActivityQr(pressed.activity_id)))
    if activity.starts_at <= now:  # 1-6.1.2 d: once it has begun, anyone may complain
        choices.append(turn.choice("complaint.button.card", ComplainAboutActivity(pressed.activity_id)))
    if activity.ended(now) and turn.actor.volunteer_id is not None:
        choices.append(turn.choice("chat.menu.mine", MyActivities()))
    if own_ended is not None:  # opened from the volunteer's history: back to it, or to the menu
        choices.append(turn.choice("chat.button.menu", Menu()))
    else:
        choices.append(turn.choice("chat.find.other", Find()))
    turn.say_text("\n".join(lines), *choices)


async def _own_ended(turn: Turn, activity: Activity, lines: list[str]) -> list[Choice] | None:
    """The part of an ended activity's card about the volunteer's own sign-up (its lines added to
    ``lines``) and what can be done now, none of it refused; None when they never signed up for it."""
    volunteer_id = turn.actor.volunteer_id
    if volunteer_id is None or activity.id is None:
        return None
    signed = [s for s in await turn.uow.signups.for_volunteer(volunteer_id) if s.activity_id == activity.id]
    if not signed:
        return None
    # A place held outweighs a sign-up cancelled before it; then the latest.
    signup = max(signed, key=lambda s: (s.status in HOLDS_PLACE, s.id or 0))
    lines.append(turn.t("chat.card.my_status", status=_status_after(turn, signup)))
    if signup.status not in HOLDS_PLACE:  # no place, no hours: nothing to ask for
        return []
    choices = await _hours_part(turn, activity.id, volunteer_id, lines)
    if await _survey_waiting(turn, activity.id, signup):
        choices.insert(0, turn.choice("reminder.button.vsurvey", VolunteerSurvey(activity.id)))
    return choices


def _status_after(turn: Turn, signup: Signup, ended: bool = True) -> str:
    """A sign-up's status; once the activity has ended, confirmed and never checked in is said so."""
    if ended and signup.status is SignupStatus.CONFIRMED:
        return turn.t("chat.my.no_checkin")
    return turn.t(f"code.signup_status.{signup.status.value}")


async def _hours_part(turn: Turn, activity_id: int, volunteer_id: int, lines: list[str]) -> list[Choice]:
    """The volunteer's service record for the activity (hours and status), or, with none, whether
    make-up hours can still be asked for (2-6.3 c): 申请补录 only when the request would be taken."""
    t = turn.t
    record = await turn.uow.records.live(volunteer_id, activity_id)
    if record is not None:
        status = t(f"code.record_status.{record.status.value}")
        lines.append(t("chat.card.record", hours=record.credited_hours, status=status))
        return []
    voided = [r for r in await turn.uow.records.for_activity(activity_id) if r.volunteer_id == volunteer_id]
    if voided:
        last = max(voided, key=lambda r: r.id or 0)
        lines.append(t("chat.card.record_voided", hours=last.credited_hours, reason=last.void_reason or ""))
    else:
        lines.append(t("chat.card.no_record"))
    if await turn.uow.makeups.pending(volunteer_id, activity_id) is not None:
        lines.append(t("chat.card.makeup_pending"))
        return []
    days = turn.policy.makeup_within_days
    open_for = await makeup_candidates(turn.uow, turn.clock, turn.policy, volunteer_id)
    if any(a.id == activity_id for a in open_for):
        lines.append(t("chat.card.makeup_open", days=days))
        return [turn.choice("chat.button.makeup", MakeupActivity(activity_id))]
    lines.append(t("chat.card.makeup_closed", days=days))
    return []


async def _survey_waiting(turn: Turn, activity_id: int, signup: Signup) -> bool:
    """3-8.1.2.2: the volunteer survey, once it has been sent to them and until they answer it."""
    if not await turn.uow.notices.queued([vsurvey_key(signup)]):
        return False
    try:
        await survey_activity(
            turn.uow, turn.clock, turn.actor, turn.user_id, activity_id, SurveyKind.VOLUNTEER
        )
    except DomainError:  # answered already, or no longer theirs to answer
        return False
    return True


@router.buttons(SignUp, SignUpInsured, JoinWaitlist, JoinWaitlistInsured)
async def start_signup(
    turn: Turn, pressed: SignUp | SignUpInsured | JoinWaitlist | JoinWaitlistInsured
) -> None:
    """报名, and the same after confirming insurance cover or asking for the waitlist."""
    activity_id = pressed.activity_id
    insured = isinstance(pressed, SignUpInsured | JoinWaitlistInsured)
    waitlist = isinstance(pressed, JoinWaitlist | JoinWaitlistInsured)
    if turn.actor.volunteer_id is None:
        register = Register(ActivityCard(activity_id))
        turn.say("chat.signup.register_first", turn.choice("chat.menu.register", register))
        return
    activity = await read_activity(turn.uow, activity_id)
    # Closed, nothing to insure for: the sign-up below says why.
    if activity.needs_insurance and not insured and activity.signup_open(turn.clock.now()):
        # 2-6.2 d, 4-5.1.4: the volunteer confirms cover before taking a place.
        turn.say(
            "chat.signup.insurance_question",
            turn.choice("chat.button.insured", SignUpInsured(activity_id)),
            turn.choice("chat.button.cancel", ActivityCard(activity_id)),
        )
        return
    try:
        signup = await sign_up(
            turn.uow, turn.clock, turn.actor, activity_id, insurance_confirmed=insured, join_waitlist=waitlist
        )
    except ActivityFull as full:
        turn.refuse(
            full,
            turn.choice(
                "chat.button.join_waitlist", (JoinWaitlistInsured if insured else JoinWaitlist)(activity_id)
            ),
            turn.choice("chat.find.other", Find()),
        )
        return
    except ActivityEnded as ended:  # a card shown before the end: the way on is another activity
        turn.refuse(
            ended,
            turn.choice("chat.menu.find", Find()),
            turn.choice("chat.menu.mine", MyActivities()),
        )
        return
    await _tell_signup(turn, activity, signup)


async def _tell_signup(turn: Turn, activity: Activity, signup: Signup) -> None:
    if signup.status is SignupStatus.WAITLISTED:
        position = await _waitlist_position(turn, signup)
        turn.say(
            "chat.signup.waitlisted",
            turn.choice("chat.menu.mine", MyActivities()),
            title=activity.title,
            position=position,
        )
        return
    if signup.status is SignupStatus.APPLIED:
        turn.say("chat.signup.applied", turn.choice("chat.menu.mine", MyActivities()), title=activity.title)
        return
    now = turn.clock.now()
    # 3-6.1.3.2: the briefing comes 3 days before; inside the 3 days it is given at once, below, and
    # the sign-up is itself the confirmation (temporary confirmation); once begun, the volunteer comes now.
    if activity.starts_at <= now:
        key = "chat.signup.confirmed_started"
    elif activity.starts_at - now <= BRIEFING_AHEAD:
        key = "chat.signup.confirmed_briefed"
    else:
        key = "chat.signup.confirmed"
    turn.say(
        key,
        turn.choice("chat.menu.mine", MyActivities()),
        title=activity.title,
        start=turn.local_time(activity.starts_at, activity.timezone),
    )
    if key != "chat.signup.confirmed":
        # The same plan fields as the briefing sent 3 days before; in a reply the place's name suffices.
        params = {**briefing_params(activity), "place": activity.place_name or activity.online_url}
        turn.say_text(turn.t("chat.signup.briefing_now", **params))


async def _waitlist_position(turn: Turn, signup: Signup) -> int:
    waiting = [
        s
        for s in await turn.uow.signups.for_activity(signup.activity_id)
        if s.status is SignupStatus.WAITLISTED
    ]
    waiting.sort(key=lambda s: (s.waitlisted_at, s.id))
    return next((i + 1 for i, s in enumerate(waiting) if s.id == signup.id), len(waiting))


@router.button(AskCancelSignup)
async def confirm_cancel(turn: Turn, pressed: AskCancelSignup) -> None:
    signup = await turn.uow.signups.get(pressed.signup_id)
    if signup is None or signup.volunteer_id != turn.actor.volunteer_id or signup.status not in LIVE:
        turn.say("signup.not_found", turn.choice("chat.menu.mine", MyActivities()))
        return
    activity = await get_activity(turn.uow, signup.activity_id)
    # the session is named by its time too: a series has many of one title
    turn.say(
        "chat.cancel.question_waitlist"
        if signup.status is SignupStatus.WAITLISTED
        else "chat.cancel.question",
        turn.choice("chat.button.confirm_cancel", CancelSignup(signup.id or 0)),
        turn.choice("chat.button.keep", ActivityCard(activity.id or 0)),
        columns=2,
        title=activity.title,
        when=turn.local_time(activity.starts_at, activity.timezone)[5:],
    )


@router.button(CancelSignup)
async def do_cancel(turn: Turn, pressed: CancelSignup) -> None:
    result = await cancel_signup(turn.uow, turn.clock, turn.actor, pressed.signup_id, reason="")
    activity = await get_activity(turn.uow, result.signup.activity_id)
    turn.say("chat.cancel.done", turn.choice("chat.menu.mine", MyActivities()), title=activity.title)


@router.command("my", button=MyActivities)
async def my_activities(turn: Turn, _: str = "") -> None:
    volunteer_id = turn.registered()
    if volunteer_id is None:
        return
    signups = await turn.uow.signups.for_volunteer(volunteer_id)
    if not signups:
        turn.say("chat.my.none", turn.choice("chat.menu.find", Find()))
        return
    now = turn.clock.now()
    latest = sorted(signups, key=lambda s: s.id or 0, reverse=True)[:MY_READ]
    read = [(signup, await get_activity(turn.uow, signup.activity_id)) for signup in latest]
    # The latest ended activities the volunteer held a place at, come or not, open as cards: their
    # hours, a make-up request, a complaint are there. Older ones stay a line of text.
    held = sorted(
        ((s, a) for s, a in read if s.status in HOLDS_PLACE and a.ended(now)),
        key=lambda pair: pair[1].ends_at,
        reverse=True,
    )
    recent: dict[int, Choice] = {}
    for signup, activity in held:
        if len(recent) < MY_RECENT and activity.id is not None and activity.id not in recent:
            when = turn.local_time(activity.starts_at, activity.timezone)[:10]
            status = _status_after(turn, signup)
            label = turn.label("chat.my.item", "title", when=when, title=activity.title, status=status)
            recent[activity.id] = Choice(label, ActivityCard(activity.id).pack())
    upcoming: list[Choice] = []
    past: list[str] = []
    for signup, activity in read:
        when = turn.local_time(activity.starts_at, activity.timezone)
        if signup.status in LIVE and activity.ends_at > now:
            status = turn.t(f"code.signup_status.{signup.status.value}")
            label = turn.label("chat.my.item", "title", when=when[5:], title=activity.title, status=status)
            upcoming.append(Choice(label, ActivityCard(activity.id or 0).pack()))
        elif not (activity.id in recent and signup.status in HOLDS_PLACE):
            status = _status_after(turn, signup, activity.ended(now))
            past.append("· " + turn.t("chat.my.item", when=when[:10], title=activity.title, status=status))
    if upcoming:
        turn.say("chat.my.upcoming", *upcoming)
    if recent:
        turn.say("chat.my.recent", *recent.values())
    older = len(signups) - len(latest) + max(0, len(past) - MY_LISTED)
    if past or older:
        more = [turn.t("chat.my.past_more", count=older)] if older else []
        turn.say_text("\n".join([turn.t("chat.my.past"), *past[:MY_LISTED], *more]))
    turn.say(
        "chat.my.more",
        turn.choice("chat.menu.find", Find()),
        turn.choice("chat.button.menu", Menu()),
        columns=2,
    )
