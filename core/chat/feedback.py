"""2-8.2, 5-5.4.1: a volunteer (or anyone) sends an opinion at any time; staff of the org it concerns
see the open ones, answer in chat, and the answer closes it and reaches the author. Opening an item
or the list leaves the question for a reply: the next text is then no reply.

1-6.1.2 d, 1-8: a complaint (``cp``) is about an activity (``cp:a12``, from its card or the end of its
survey), a volunteer who served at it (``cp:a12.v``), or an org (``cp:o3``); from the menu the sender
picks one of their orgs, types an activity's number, or leaves it to the platform (``cp:p``)."""

from __future__ import annotations

from typing import Any

from core.chat.forms import StaffQuestion, cancel, end_form, staff_only
from core.chat.messages import Choice, Input, Text, typed_id
from core.chat.router import Router
from core.chat.turn import LABEL_LIMIT, Turn
from core.domain import actions
from core.domain.actions import (
    Complain,
    ComplainAboutActivity,
    ComplainAboutOrg,
    ComplainAboutPlatform,
    ComplainByNumber,
    FeedbackItem,
    FeedbackList,
    Menu,
    ReplyFeedback,
    parse,
)
from core.domain.dialog import Feedback
from core.domain.signup import SignupStatus
from core.domain.volunteer import CURRENT_MEMBERSHIP
from core.errors import InvalidInput, NotFound
from core.services.feedback import (
    COMPLAINT,
    REPLY_MAX,
    TEXT_MAX,
    check_text,
    excerpt,
    feedback_for_staff,
    file_complaint,
    open_feedback,
    reply_to_feedback,
    send_feedback,
)

router = Router()

FEEDBACK = "feedback"
FEEDBACK_REPLY = "feedback_reply"
COMPLAINT_FLOW = "complaint"
LIST_LIMIT = 10
# Whom a complaint about a volunteer can name: those who held a place at the activity.
_SERVED = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED, SignupStatus.ABSENT})


@router.command("feedback", button=actions.Feedback)
async def ask_feedback(turn: Turn, _: str = "") -> None:
    turn.state.start(FEEDBACK, "text")
    _ask_opinion(turn)


def _ask_opinion(turn: Turn) -> None:
    turn.say(
        "chat.feedback.ask",
        turn.choice("complaint.button.start", Complain()),
        turn.choice("chat.button.cancel", Menu()),
    )


@router.flow(FEEDBACK)
async def feedback_step(turn: Turn, given: Input) -> None:
    if not isinstance(given, Text) or not given.text.strip():
        _ask_opinion(turn)
        return
    try:
        item = await send_feedback(turn.uow, turn.clock, turn.actor, given.text)
    except InvalidInput as error:
        turn.refuse(error)
        return
    end_form(turn, "chat.feedback.thanks", number=item.id)


# ---- staff: open feedback and replies -----------------------------------------------------------


def _back(turn: Turn) -> Choice:
    return turn.choice("chat.fbreply.button.list", FeedbackList())


@router.command("feedbacklist", button=FeedbackList)
@staff_only
async def list_feedback(turn: Turn, _: str = "") -> None:
    items = await open_feedback(turn.uow, turn.actor, LIST_LIMIT)
    if not items:
        turn.say("chat.fbreply.none", turn.choice("chat.button.menu", Menu()))
        return
    choices = [
        Choice(
            (
                (turn.t("complaint.list_mark") if item.kind == COMPLAINT else "")
                + turn.t(
                    "chat.fbreply.item",
                    number=item.id,
                    date=turn.local_time(item.created_at)[5:10],
                    text=excerpt(item.text, 24),
                )
            )[:60],
            FeedbackItem(item.id or 0).pack(),
        )
        for item in items
    ]
    turn.say("chat.fbreply.title", *choices, turn.choice("chat.button.menu", Menu()), count=len(items))


@router.button(FeedbackItem)
async def show_item(turn: Turn, action: FeedbackItem) -> None:
    turn.state.clear()
    item = await feedback_for_staff(turn.uow, turn.actor, action.feedback_id)
    org = await turn.uow.orgs.get(item.org_id) if item.org_id is not None else None
    volunteer = await turn.uow.volunteers.by_user(item.user_id)
    params: dict[str, Any] = {
        "number": item.id,
        "sent": turn.local_time(item.created_at),
        "author": volunteer.name if volunteer else turn.t("chat.fbreply.anonymous"),
        "org": org.name if org else "-",
        "text": item.text,
    }
    extra = complaint_lines(turn, item, *await _complaint_about(turn, item))
    if not item.open:
        replied = turn.local_time(item.replied_at) if item.replied_at else ""
        text = turn.t("chat.fbreply.card_closed", reply=item.reply or "", replied=replied, **params)
        turn.say_text(text + extra, _back(turn))
        return
    turn.say_text(
        turn.t("chat.fbreply.card", **params) + extra,
        turn.choice("chat.fbreply.button.reply", ReplyFeedback(item.id or 0)),
        _back(turn),
    )


async def _complaint_about(turn: Turn, item: Feedback) -> tuple[str, str | None]:
    """What a complaint names (the activity, the volunteer), and the org it was escalated to."""
    if item.kind != COMPLAINT:
        return "", None
    parts = []
    if item.activity_id is not None:
        activity = await turn.uow.activities.read(item.activity_id)
        parts.append(turn.t("complaint.card.activity", title=activity.title if activity else "-"))
    if item.volunteer_id is not None:
        volunteer = await turn.uow.volunteers.read(item.volunteer_id)
        parts.append(turn.t("complaint.card.volunteer", name=volunteer.name if volunteer else "-"))
    escalated = None
    if item.escalated_org_id is not None:
        escalated = await turn.uow.orgs.name_of(item.escalated_org_id)
    return turn.join(parts), escalated


@router.button(ReplyFeedback)
async def ask_reply(turn: Turn, action: ReplyFeedback) -> None:
    item = await feedback_for_staff(turn.uow, turn.actor, action.feedback_id)
    await REPLY.ask(turn, action.feedback_id, still_open=item.open)


@router.flow(FEEDBACK_REPLY)
async def reply_step(turn: Turn, given: Input) -> None:
    async def reply(feedback_id: int, text: str) -> None:
        item = await reply_to_feedback(turn.uow, turn.clock, turn.actor, feedback_id, text.strip())
        turn.say("chat.fbreply.sent", _back(turn), turn.choice("chat.button.menu", Menu()), number=item.id)

    await REPLY.answer(turn, given, reply)


async def _show_item(turn: Turn, feedback_id: int) -> None:
    await show_item(turn, FeedbackItem(feedback_id))


REPLY = StaffQuestion(
    FEEDBACK_REPLY, "text", "feedback_id", "chat.fbreply.ask", REPLY_MAX, back=_back, show=_show_item
)


# ---- complaints (1-6.1.2 d, 1-8) ------------------------------------------------------------------


@router.command(button=Complain)
async def start_complaint(turn: Turn, _: str = "") -> None:
    """``cp``, /complain: what is it about — one of the sender's orgs, an activity by its number, or
    the platform."""
    turn.state.clear()
    choices = [turn.choice("complaint.button.by_number", ComplainByNumber())]
    if turn.actor.volunteer_id is not None:
        for membership in await turn.uow.memberships.for_volunteer(turn.actor.volunteer_id):
            name = await turn.uow.orgs.name_of(membership.org_id)
            if name and membership.status in CURRENT_MEMBERSHIP:
                label = turn.t("complaint.button.about_org", org=name)[:LABEL_LIMIT]
                choices.append(Choice(label, ComplainAboutOrg(membership.org_id).pack()))
    choices += [turn.choice("complaint.button.platform", ComplainAboutPlatform()), cancel(turn)]
    turn.say("complaint.ask_target", *choices)


@router.command("complain")
async def complain_command(turn: Turn, arg: str) -> None:
    """/complain, the words after it read as a complaint button's fields (``/complain a12``)."""
    action = parse(f"{Complain.prefix}:{arg}")
    if isinstance(action, ComplainAboutActivity):
        await complain_about_activity(turn, action)
    elif isinstance(action, ComplainAboutOrg):
        await complain_about_org(turn, action)
    elif isinstance(action, ComplainAboutPlatform):
        await complain_about_platform(turn, action)
    elif isinstance(action, ComplainByNumber):
        await complain_by_number(turn, action)
    else:
        await start_complaint(turn)


@router.button(ComplainAboutActivity)
async def complain_about_activity(turn: Turn, action: ComplainAboutActivity) -> None:
    """``cp:a12`` the activity or a volunteer at it; ``cp:a12.x`` the activity itself; ``cp:a12.v`` a
    volunteer at it."""
    turn.state.clear()
    activity = await turn.uow.activities.read(action.activity_id)
    if activity is None or activity.id is None:
        raise NotFound("activity.not_found")
    if action.about == "x":
        _ask_text(turn, activity=activity.id, about=activity.title)
    elif action.about == "v":
        turn.state.start(COMPLAINT_FLOW, "volunteer", activity=activity.id, about=activity.title)
        turn.say("complaint.ask_volunteer", _unnamed(turn, activity.id), cancel(turn), title=activity.title)
    else:
        turn.say(
            "complaint.ask_activity_target",
            turn.choice("complaint.button.about_activity", ComplainAboutActivity(activity.id, "x")),
            turn.choice("complaint.button.about_volunteer", ComplainAboutActivity(activity.id, "v")),
            cancel(turn),
            title=activity.title,
        )


def _unnamed(turn: Turn, activity_id: int) -> Choice:
    """The complaint about the activity itself, when the volunteer's name is not known."""
    return turn.choice("complaint.button.unnamed", ComplainAboutActivity(activity_id, "x"))


@router.button(ComplainAboutOrg)
async def complain_about_org(turn: Turn, action: ComplainAboutOrg) -> None:
    turn.state.clear()
    name = await turn.uow.orgs.name_of(action.org_id)
    if name is None:
        raise NotFound("org.not_found")
    _ask_text(turn, org=action.org_id, about=name)


@router.button(ComplainAboutPlatform)
async def complain_about_platform(turn: Turn, _: ComplainAboutPlatform) -> None:
    turn.state.clear()
    _ask_text(turn, about=turn.t("complaint.about_platform"))


@router.button(ComplainByNumber)
async def complain_by_number(turn: Turn, _: ComplainByNumber) -> None:
    turn.state.start(COMPLAINT_FLOW, "activity")
    turn.say("complaint.ask_activity_number")  # no options: the number typed is the answer


def _ask_text(turn: Turn, **data: Any) -> None:
    turn.state.start(COMPLAINT_FLOW, "text", **data)
    turn.say("complaint.ask_text", cancel(turn), about=data.get("about", ""), max=TEXT_MAX)


@router.flow(COMPLAINT_FLOW)
async def complaint_step(turn: Turn, given: Input) -> None:
    step = turn.state.step
    text = given.text.strip() if isinstance(given, Text) else ""
    if not text:  # not a text (a photo, a location), or an empty one: the same question again
        if step == "activity":
            turn.say("complaint.ask_activity_number")  # no options: the number typed is the answer
        elif step == "volunteer":
            turn.say("complaint.ask_volunteer", cancel(turn), title=turn.state.data.get("about", ""))
        else:
            turn.say("complaint.ask_text", cancel(turn), about=turn.state.data.get("about", ""), max=TEXT_MAX)
        return
    if step == "activity":
        await _take_activity_number(turn, text)
    elif step == "volunteer":
        await _take_volunteer(turn, text)
    else:
        await _take_text(turn, text)


async def _take_activity_number(turn: Turn, text: str) -> None:
    number = typed_id(text.lstrip("#＃").strip())
    activity = await turn.uow.activities.read(number) if number is not None else None
    if activity is None or activity.id is None:
        turn.say("complaint.activity_unknown", given=text[:20])
        return
    await complain_about_activity(turn, ComplainAboutActivity(activity.id))


async def _take_volunteer(turn: Turn, text: str) -> None:
    """The name as the person introduced themselves; matched among those who held a place, so that a
    complaint names nobody who was not there (and the list of who was is never shown)."""
    activity_id = int(turn.state.data["activity"])
    found = None
    for signup in await turn.uow.signups.for_activity(activity_id):
        if signup.status not in _SERVED:
            continue
        volunteer = await turn.uow.volunteers.read(signup.volunteer_id)
        if volunteer is not None and volunteer.name == text:
            found = volunteer
            break
    if found is None:
        turn.say("complaint.volunteer_unknown", _unnamed(turn, activity_id), cancel(turn), name=text[:20])
        return
    about = turn.t("complaint.about_volunteer", name=found.name, title=turn.state.data.get("about", ""))
    _ask_text(turn, activity=activity_id, volunteer=found.id, about=about)


async def _take_text(turn: Turn, text: str) -> None:
    data = dict(turn.state.data)
    try:
        check_text(text)
    except InvalidInput as error:
        turn.refuse(error)
        turn.say("complaint.ask_text", cancel(turn), about=data.get("about", ""), max=TEXT_MAX)
        return
    turn.state.clear()
    activity, volunteer, org = data.get("activity"), data.get("volunteer"), data.get("org")
    item = await file_complaint(
        turn.uow,
        turn.clock,
        turn.policy,
        turn.user_id,
        text,
        activity_id=int(activity) if activity is not None else None,
        volunteer_id=int(volunteer) if volunteer is not None else None,
        org_id=int(org) if org is not None else None,
    )
    org_name = await turn.uow.orgs.name_of(item.org_id) if item.org_id is not None else None
    turn.say(
        "complaint.received" if org_name else "complaint.received_platform",
        turn.choice("chat.button.menu", Menu()),
        number=item.id,
        org=org_name or "",
        hours=turn.policy.complaint_response_h,
    )


def complaint_lines(turn: Turn, item: Feedback, about: str, escalated_to: str | None) -> str:
    """What a staff card adds for a complaint: what it is about, and whether it was escalated."""
    if item.kind != COMPLAINT:
        return ""
    lines = [turn.t("complaint.card.about", about=about or "-")]
    if item.escalated_at is not None:
        lines.append(
            turn.t(
                "complaint.card.escalated",
                at=turn.local_time(item.escalated_at),
                org=escalated_to or turn.t("complaint.about_platform"),
            )
        )
    return "\n" + "\n".join(lines)
