"""The organizer's view of their org's activities: the list, each activity's card with its tools, the
sign-ups and the waitlist (attendance marked by hand, 2-7.5.2), the export, publishing a draft and
cancelling with a reason (the volunteers are told)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from core.chat.activity_form import link_line, manageable_orgs, training_line, typed_text
from core.chat.deep_links import may_share
from core.chat.forms import (
    refuse_not_staff,
)
from core.chat.messages import Choice, Document, Input
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    AskCancelActivity,
    AskEditActivity,
    BroadcastPreview,
    CheckinCode,
    EvaluateAttendees,
    ExportSignups,
    MatchActivity,
    NewActivity,
    OpenReport,
    OrganizerMenu,
    Publish,
    ReviewRecords,
    Roster,
    SignupList,
    StaffActivities,
    StaffCard,
    SurveyLinks,
    SurveyQr,
    SurveyStats,
)
from core.domain.activity import Activity, ActivityStatus
from core.domain.identity_numbers import mask_phone
from core.domain.signup import SignupStatus
from core.errors import DomainError
from core.ports import ActivityQuery
from core.services.access import may_see_private_data, require_staff
from core.services.activities import (
    EndedActivity,
    cancel_activity,
    check_cancellable,
    get_activity,
    publish_activity,
)
from core.services.broadcasts import call_refusal
from core.services.needs import tell_requester_scheduled
from core.services.presence import turnout

router = Router()

CANCEL_ACTIVITY = "cancel_activity"
_ALL_STATUSES = frozenset(ActivityStatus)


# ---- the organizer's view of their activities ---------------------------------------------------


@router.button(StaffActivities)
async def list_activities(turn: Turn, action: StaffActivities) -> None:
    turn.state.clear()
    orgs = await manageable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    offset = action.offset
    query = ActivityQuery(
        statuses=_ALL_STATUSES,
        org_ids=tuple(o.id for o in orgs if o.id is not None),
        starts_after=turn.clock.now() - timedelta(days=30),
        limit=9,
        offset=offset,
    )
    found = await turn.uow.activities.search(query)
    now = turn.clock.now()
    if not found:
        turn.say(
            "chat.org.list.none",
            turn.choice("chat.org.new", NewActivity()),
            turn.choice("chat.org.menu_button", OrganizerMenu()),
        )
        return
    choices = [
        Choice(
            turn.label(
                "chat.org.list.item",
                "title",
                date=turn.local_time(a.starts_at, a.timezone)[5:],
                title=a.title,
                status=turn.t(f"code.activity_status.{a.status_at(now).value}"),
            ),
            StaffCard(a.id or 0).pack(),
        )
        for a in found[:8]
    ]
    if len(found) > 8:
        choices.append(turn.choice("chat.button.next_page", StaffActivities(offset + 8)))
    choices.append(turn.choice("chat.org.menu_button", OrganizerMenu()))
    turn.say("chat.org.list.title", *choices)


async def staff_activity(turn: Turn, activity_id: int) -> Activity:
    activity = await get_activity(turn.uow, activity_id)
    await require_staff(turn.uow, turn.actor, activity.org_id)
    return activity


async def viewed_activity(turn: Turn, activity_id: int) -> Activity:
    """The activity a view of the organizer's opens. Opening it leaves any question waiting for typed
    text (a cancel reason, a new value), so that the next text is not taken as its answer."""
    activity = await staff_activity(turn, activity_id)
    turn.state.clear()
    return activity


@router.button(StaffCard)
async def staff_card(turn: Turn, action: StaffCard) -> None:
    activity = await viewed_activity(turn, action.activity_id)
    assert activity.id is not None
    now = turn.clock.now()
    counts = {s: await turn.uow.signups.count(activity.id, frozenset({s})) for s in SignupStatus}
    held = counts[SignupStatus.CONFIRMED] + counts[SignupStatus.ATTENDED] + counts[SignupStatus.ABSENT]
    choices: list[Choice] = []
    if activity.status is ActivityStatus.DRAFT:
        choices.append(turn.choice("chat.org.publish", Publish(activity.id)))
    choices.append(turn.choice("chat.org.signups", SignupList(activity.id)))
    if call_refusal(activity, held, now) is None:  # places to fill, before the start (3-6.1.3.3)
        choices.append(turn.choice("chat.org.broadcast", BroadcastPreview(activity.id)))
    choices += [
        turn.choice("chat.org.attendance", Roster(activity.id)),
        turn.choice("checkin.button.code", CheckinCode(activity.id)),
        turn.choice("records.button.review", ReviewRecords(activity.id)),
        turn.choice("chat.org.export", ExportSignups(activity.id)),
        turn.choice("chat.org.stats", SurveyStats(activity.id)),
    ]
    # 3-6.3: the record, once the activity has been held and has ended
    if activity.ended(now):
        choices.append(turn.choice("report.button.open", OpenReport(activity.id)))
        choices.append(turn.choice("evaluation.button.open", EvaluateAttendees(activity.id)))  # 2-10.1
    if may_share(turn, activity.org_id):
        choices.append(turn.choice("chat.org.survey_qr", SurveyQr(activity.id)))
    choices.append(turn.choice("matching.button.survey", SurveyLinks(activity.id)))  # 3-8.1.2.1
    if activity.status_at(now) in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):  # still to come
        choices.append(turn.choice("matching.button.match", MatchActivity(activity.id)))  # 3-6.1.2
    # Once ended, neither: the plan is what was held (services.activities check_editable).
    open_ = (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, ActivityStatus.ONGOING)
    if activity.status in open_ and not activity.ended(now):
        choices.append(turn.choice("chat.org.edit", AskEditActivity(activity.id)))
        choices.append(turn.choice("chat.org.cancel", AskCancelActivity(activity.id)))
    choices.append(turn.choice("chat.org.list", StaffActivities(0)))
    card = turn.t(
        "chat.org.card",
        title=activity.title,
        status=turn.t(f"code.activity_status.{activity.status_at(now).value}"),
        time=turn.local_time(activity.starts_at, activity.timezone),
        place=activity.place_name or activity.online_url or "-",
        capacity=activity.capacity,
        confirmed=held,
        waitlisted=counts[SignupStatus.WAITLISTED],
        applied=counts[SignupStatus.APPLIED],
        attended=counts[SignupStatus.ATTENDED],
    )
    turn.say_text(
        card + training_line(turn, activity.training_kind) + link_line(turn, activity), *choices, columns=2
    )


@router.button(Publish)
async def publish(turn: Turn, action: Publish) -> None:
    activity = await viewed_activity(turn, action.activity_id)
    await publish_activity(turn.uow, turn.clock, turn.actor, action.activity_id)
    await tell_requester_scheduled(turn.uow, turn.clock, activity)
    turn.say("chat.org.published", title=activity.title)
    await staff_card(turn, StaffCard(action.activity_id))


async def _roster(turn: Turn, activity: Activity) -> list[tuple[int, str, str, SignupStatus]]:
    """(signup id, name, phone as this actor may see it, status), in sign-up order."""
    assert activity.id is not None
    rows = []
    for signup in await turn.uow.signups.for_activity(activity.id):
        volunteer = await turn.uow.volunteers.get(signup.volunteer_id)
        if volunteer is None or volunteer.id is None or signup.id is None:
            continue
        full = await may_see_private_data(turn.uow, turn.actor, volunteer.id)
        rows.append(
            (
                signup.id,
                volunteer.name,
                volunteer.phone if full else mask_phone(volunteer.phone),
                signup.status,
            )
        )
    return rows


@router.button(SignupList)
async def signup_list(turn: Turn, action: SignupList) -> None:
    activity = await viewed_activity(turn, action.activity_id)
    rows = [r for r in await _roster(turn, activity) if r[3] is not SignupStatus.CANCELLED]
    if not rows:
        turn.say("chat.org.signups.none", turn.choice("chat.org.view", StaffCard(action.activity_id)))
        return
    assert activity.id is not None
    answered = {s.id for s in await turn.uow.signups.for_activity(activity.id) if s.presence_confirmed_at}
    ahead = activity.starts_at > turn.clock.now()
    lines = [
        turn.t(
            "chat.org.signups.line",
            n=i,
            name=name,
            phone=phone,
            status=_standing(turn, status, answered=signup_id in answered, ahead=ahead),
        )
        for i, (signup_id, name, phone, status) in enumerate(rows, 1)
    ]
    # 3-6.1.3.2: before the start, who answered the briefing; after it, attendance tells the rest.
    head = [turn.t("chat.org.signups.title", title=activity.title)]
    if ahead:
        head.append(turn.t("chat.org.turnout", **vars(await turnout(turn.uow, activity.id))))
    turn.say_text(
        "\n".join(head + lines),
        turn.choice("chat.org.view", StaffCard(action.activity_id)),
    )


def _standing(turn: Turn, status: SignupStatus, *, answered: bool, ahead: bool) -> str:
    """One word per volunteer: before the start, a place held reads as whether the briefing was
    answered (3-6.1.3.2: confirmed to come, or not yet); otherwise the sign-up's status."""
    if ahead and status is SignupStatus.CONFIRMED:
        return turn.t("chat.org.presence.yes" if answered else "chat.org.presence.waiting")
    return turn.t(f"code.signup_status.{status.value}")


@router.button(ExportSignups)
async def export(turn: Turn, action: ExportSignups) -> None:
    """The list as a spreadsheet (CSV with a BOM so that Excel opens the Chinese correctly)."""
    activity = await viewed_activity(turn, action.activity_id)
    rows = await _roster(turn, activity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([turn.t(f"chat.org.export.col.{c}") for c in ("n", "name", "phone", "status")])
    for i, (_, name, phone, status) in enumerate(rows, 1):
        writer.writerow([i, name, phone, turn.t(f"code.signup_status.{status.value}")])
    turn.replies.append(
        Document(
            data=("\ufeff" + buffer.getvalue()).encode("utf-8"),
            filename=f"signups-{activity.id}.csv",
            caption=turn.t("chat.org.export.caption", title=activity.title, count=len(rows)),
            mime="text/csv",
        )
    )


@router.button(AskCancelActivity)
async def ask_cancel(turn: Turn, action: AskCancelActivity) -> None:
    activity = await staff_activity(turn, action.activity_id)
    try:
        check_cancellable(activity, turn.clock.now())  # a card shown before the end: no reason asked
    except EndedActivity as error:
        refuse_after_end(turn, error, activity)
        return
    turn.state.start(CANCEL_ACTIVITY, "reason", activity=action.activity_id)
    _ask_reason(turn, activity, StaffCard(action.activity_id))


def refuse_after_end(turn: Turn, error: DomainError, activity: Activity) -> None:
    """An ended activity is neither cancelled nor changed: the refusal leads to where a wrong hour
    is put right (工时确认) and what happened is told (活动记录, 3-6.3)."""
    turn.state.clear()
    assert activity.id is not None
    choices = [turn.choice("records.button.review", ReviewRecords(activity.id))]
    if activity.ended(turn.clock.now()):
        choices.append(turn.choice("report.button.open", OpenReport(activity.id)))
    turn.refuse(error, *choices, turn.choice("chat.org.view", StaffCard(activity.id)))


def _ask_reason(turn: Turn, activity: Activity, card: StaffCard) -> None:
    turn.say("chat.org.cancel.reason", turn.choice("chat.org.view", card), title=activity.title)


@router.flow(CANCEL_ACTIVITY)
async def cancel_step(turn: Turn, given: Input) -> None:
    card = StaffCard(int(turn.state.data["activity"]))
    if not turn.still_asked(card.pack()):
        await staff_card(turn, card)
        return
    try:
        reason = typed_text(given, 500)
    except DomainError as error:
        turn.refuse(error)
        _ask_reason(turn, await staff_activity(turn, card.activity_id), card)
        return
    try:
        activity = await cancel_activity(turn.uow, turn.clock, turn.actor, card.activity_id, reason)
    except EndedActivity as error:  # it ended while the reason was asked
        refuse_after_end(turn, error, await staff_activity(turn, card.activity_id))
        return
    turn.state.clear()
    turn.say(
        "chat.org.cancel.done", turn.choice("chat.org.menu_button", OrganizerMenu()), title=activity.title
    )
