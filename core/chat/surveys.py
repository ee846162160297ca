"""Satisfaction surveys in chat (3-8.1.2) and their statistics for staff (3-8.2). A deep link
``survey-12`` opens the beneficiaries' survey of activity 12 (no registration), ``vsurvey-12`` the
volunteers' one (only those who took part); ``/stats act-12`` shows the results to the org's staff."""

from __future__ import annotations

from core.chat.forms import comment_given, keep_score, score_given
from core.chat.messages import Image, Input, typed_id
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    ComplainAboutActivity,
    Menu,
    StaffCard,
    SurveyLinks,
    SurveyStats,
    VolunteerSurvey,
)
from core.domain.codes import Channel
from core.domain.survey import (
    COMMENT_MAX,
    QUESTIONS,
    RATING_MAX,
    RATING_MIN,
    SurveyKind,
    check_comment,
    check_rating,
)
from core.errors import DomainError, InvalidInput
from core.ports import Links
from core.services.surveys import submit_survey, survey_activity, survey_activity_for_staff, survey_stats

router = Router()

SURVEY = "survey"
# Ratings are offered 1 → 5, so that on a channel of numbered options the number typed is the rating.
RATINGS = tuple(range(RATING_MIN, RATING_MAX + 1))


async def beneficiary_survey(turn: Turn, activity_id: int) -> None:
    """Opened by a deep link only (``survey-12``, the QR code staff pass on): no button leads here."""
    await _start(turn, activity_id, SurveyKind.BENEFICIARY)


@router.button(VolunteerSurvey)
async def volunteer_survey(turn: Turn, pressed: VolunteerSurvey) -> None:
    await _start(turn, pressed.activity_id, SurveyKind.VOLUNTEER)


async def _start(turn: Turn, activity_id: int, kind: SurveyKind) -> None:
    activity = await survey_activity(turn.uow, turn.clock, turn.actor, turn.user_id, activity_id, kind)
    turn.state.start(SURVEY, "rating", activity=activity.id, kind=kind.value, answers={})
    turn.say(f"chat.survey.intro.{kind.value}", title=activity.title, count=len(QUESTIONS[kind]))
    if activity.high_privacy:
        turn.say("chat.survey.private")
    _ask_rating(turn)


def _kind(turn: Turn) -> SurveyKind:
    return SurveyKind(turn.state.data["kind"])


def _ask_rating(turn: Turn) -> None:
    questions = QUESTIONS[_kind(turn)]
    done = len(turn.state.data.get("answers", {}))
    choices = [turn.choice(f"chat.survey.rating.{r}", f"f.{r}") for r in RATINGS]
    turn.say(
        "chat.survey.question",
        *choices,
        n=done + 1,
        total=len(questions),
        question=turn.t(f"chat.survey.q.{questions[done]}"),
    )


def _ask_comment(turn: Turn) -> None:
    turn.say("chat.survey.ask_comment", turn.choice("chat.survey.button.skip", "f.skip"), max=COMMENT_MAX)


@router.flow(SURVEY)
async def survey_step(turn: Turn, given: Input) -> None:
    state = turn.state
    try:
        if state.step == "rating":
            await _take_rating(turn, given)
        else:
            await _take_comment(turn, given)
    except InvalidInput as error:
        # A wrong answer: why, then the same question again.
        turn.refuse(error)
        if state.step == "rating":
            _ask_rating(turn)
        else:
            _ask_comment(turn)


async def _take_rating(turn: Turn, given: Input) -> None:
    refusal = InvalidInput("survey.rating.invalid", min=RATING_MIN, max=RATING_MAX)
    value = score_given(given, check_rating, refusal)
    if keep_score(turn, "answers", QUESTIONS[_kind(turn)], value):
        _ask_rating(turn)
    else:
        _ask_comment(turn)


async def _take_comment(turn: Turn, given: Input) -> None:
    comment = comment_given(given, check_comment, "chat.survey.comment_or_skip")
    data = turn.state.data
    turn.state.clear()
    try:
        await submit_survey(
            turn.uow,
            turn.clock,
            turn.actor,
            turn.user_id,
            int(data["activity"]),
            SurveyKind(data["kind"]),
            dict(data["answers"]),
            comment,
        )
    except DomainError as error:
        # Answered meanwhile (another device), or the activity was cancelled: nothing was written.
        turn.refuse(error, turn.choice("chat.button.menu", Menu()))
        return
    # 1-6.1.2 d: a complaint about the activity is one press away at the end of its survey.
    complain = turn.choice("complaint.button.card", ComplainAboutActivity(int(data["activity"])))
    turn.say("chat.survey.thanks", complain, turn.choice("chat.button.menu", Menu()))


# ---- statistics for staff (3-8.2) ---------------------------------------------------------------


@router.command("stats")
async def stats_command(turn: Turn, arg: str) -> None:
    """/stats act-12: the same payload words as the deep links."""
    kind, _, ident = arg.strip().partition("-")
    activity_id = typed_id(ident) if kind == "act" else None
    if activity_id is None:
        turn.say("chat.survey.stats.usage", turn.choice("chat.button.menu", Menu()))
        return
    await show_stats(turn, SurveyStats(activity_id))


@router.button(SurveyStats)
async def show_stats(turn: Turn, pressed: SurveyStats) -> None:
    activity, all_stats = await survey_stats(turn.uow, turn.actor, pressed.activity_id)
    lines = [turn.t("chat.survey.stats.title", title=activity.title, number=activity.id)]
    for stats in all_stats:
        kind = turn.t(f"chat.survey.kind.{stats.kind.value}")
        if not stats.responses:
            lines.append(turn.t("chat.survey.stats.kind_none", kind=kind))
            continue
        lines.append(turn.t("chat.survey.stats.kind", kind=kind, count=stats.responses))
        lines.extend(
            turn.t(
                "chat.survey.stats.line",
                question=turn.t(f"chat.survey.label.{q.question}"),
                average=f"{q.average:.2f}",
                share=f"{q.satisfied_share * 100:.0f}",
            )
            for q in stats.questions
        )
        if stats.comments:
            lines.append(turn.t("chat.survey.stats.comments"))
            lines.extend(f"- {comment}" for comment in stats.comments)
    turn.say_text("\n".join(lines), turn.choice("chat.button.menu", Menu()))


# ---- the beneficiaries' survey, for staff to pass on (3-8.1.2.1) ---------------------------------


def _linked_by(links: Links | None, channel: Channel, payload: str) -> Channel | None:
    """Whose link the survey card gives: Telegram's, else the channel's own, else none."""
    for by in (Channel.TELEGRAM, channel):
        if links is not None and links.link(by, payload) is not None:
            return by
    return None


@router.button(SurveyLinks)
async def survey_links(turn: Turn, pressed: SurveyLinks) -> None:
    """From the organizer's activity card and the after-activity notice: the deep link that opens the
    beneficiaries' survey, its QR code, and how WeChat users get to it (a scene QR code)."""
    turn.state.clear()
    activity = await survey_activity_for_staff(turn.uow, turn.actor, pressed.activity_id)
    payload = f"survey-{activity.id}"
    links = turn.links
    # Telegram's link works from any app (a WeChat staff member can pass it on too); WeChat's own way in
    # is a scene QR code made by the account's administrator. Without Telegram, the channel's own link
    # where it has one (the demo playground's).
    by = _linked_by(links, turn.channel, payload)
    link = links.link(by, payload) if links is not None and by is not None else None
    lines = [turn.t("matching.survey.title", title=activity.title, number=activity.id)]
    lines.append(turn.t("matching.survey.link", link=link) if link else turn.t("matching.survey.no_link"))
    wechat = links.wechat_qr(payload) if links is not None else None
    lines.append(
        turn.t("matching.survey.wechat_qr", link=wechat)
        if wechat
        else turn.t("matching.survey.wechat", payload=payload)
    )
    if activity.high_privacy:
        lines.append(turn.t("matching.survey.private"))
    turn.say_text(
        "\n".join(lines),
        turn.choice("chat.org.stats", SurveyStats(pressed.activity_id)),
        turn.choice("chat.org.view", StaffCard(pressed.activity_id)),
    )
    png = links.qr_png(by, payload) if links is not None and by is not None else None
    if png is not None:
        turn.replies.append(
            Image(png, f"{payload}.png", turn.t("chat.qr.survey", title=activity.title, link=link))
        )
