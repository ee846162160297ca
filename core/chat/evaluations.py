"""2-10.1 in chat. Staff open 评价志愿者 on the card of an activity that has ended (``ev:12``), pick an
attendee (``ev.v:12.34``) and answer three 1–5 questions and an optional comment; evaluating someone a
second time corrects the evaluation. A volunteer reads their own evaluation with /myeval (``myev``)."""

from __future__ import annotations

from core.chat.forms import comment_given, keep_score, score_given, volunteer_only
from core.chat.messages import Choice, Input
from core.chat.router import Router
from core.chat.turn import LABEL_LIMIT, Turn
from core.domain.actions import Evaluate, EvaluateAttendees, Menu, MyEvaluations, MyHours, StaffCard
from core.domain.evaluation import ASPECTS, COMMENT_MAX, SCORE_MAX, SCORE_MIN, check_comment, check_score
from core.errors import DomainError, InvalidInput
from core.services.evaluations import attendees, evaluable_activity, evaluate, my_evaluation

router = Router()

EVALUATION = "evaluation"
SCORES = tuple(range(SCORE_MIN, SCORE_MAX + 1))  # offered 1 → 5: a number typed is the score
LIST_MAX = 40


def _scores_line(turn: Turn, scores: dict[str, int]) -> str:
    return turn.join(
        turn.t("evaluation.score_item", aspect=turn.t(f"evaluation.aspect.{a}"), score=scores[a])
        for a in ASPECTS
    )


@router.button(EvaluateAttendees)
async def show_attendees(turn: Turn, pressed: EvaluateAttendees) -> None:
    """The attendees as choices; those evaluated already are marked with their scores."""
    turn.state.clear()
    activity_id = pressed.activity_id
    activity = await evaluable_activity(turn.uow, turn.clock, turn.actor, activity_id)
    back = turn.choice("evaluation.button.card", StaffCard(activity_id))
    people = await attendees(turn.uow, activity_id)
    if not people:
        turn.say("evaluation.no_attendees", back, title=activity.title)
        return
    choices = []
    for person in people[:LIST_MAX]:
        done = person.evaluation
        label = (
            turn.t("evaluation.attendee_done", name=person.name, scores=_scores_line(turn, done.scores()))
            if done
            else person.name
        )
        choices.append(Choice(label[:LABEL_LIMIT], Evaluate(activity_id, person.volunteer_id).pack()))
    evaluated = sum(1 for p in people if p.evaluation)
    turn.say("evaluation.pick", *choices, back, title=activity.title, count=len(people), evaluated=evaluated)


@router.button(Evaluate)
async def start(turn: Turn, pressed: Evaluate) -> None:
    activity_id, volunteer_id = pressed.activity_id, pressed.volunteer_id
    activity = await evaluable_activity(turn.uow, turn.clock, turn.actor, activity_id)
    person = next((p for p in await attendees(turn.uow, activity_id) if p.volunteer_id == volunteer_id), None)
    if person is None:
        turn.say(
            "evaluation.not_attendee",
            turn.choice("evaluation.button.list", EvaluateAttendees(activity_id)),
            title=activity.title,
        )
        return
    turn.state.start(
        EVALUATION, "score", activity=activity_id, volunteer=volunteer_id, name=person.name, scores={}
    )
    turn.say("evaluation.intro", name=person.name, title=activity.title, count=len(ASPECTS))
    if person.evaluation is not None:
        turn.say("evaluation.correcting", scores=_scores_line(turn, person.evaluation.scores()))
    _ask_score(turn)


def _ask_score(turn: Turn) -> None:
    done = len(turn.state.data.get("scores", {}))
    aspect = ASPECTS[done]
    turn.say(
        "evaluation.ask_score",
        *(turn.choice(f"evaluation.score.{s}", f"f.{s}") for s in SCORES),
        n=done + 1,
        total=len(ASPECTS),
        aspect=turn.t(f"evaluation.aspect.{aspect}"),
        hint=turn.t(f"evaluation.hint.{aspect}"),
        name=turn.state.data.get("name", ""),
    )


def _ask_comment(turn: Turn) -> None:
    turn.say("evaluation.ask_comment", turn.choice("evaluation.button.skip", "f.skip"), max=COMMENT_MAX)


@router.flow(EVALUATION)
async def evaluation_step(turn: Turn, given: Input) -> None:
    try:
        if turn.state.step == "score":
            _take_score(turn, given)
        else:
            await _take_comment(turn, given)
    except InvalidInput as error:
        # A wrong answer: why, then the same question again.
        turn.refuse(error)
        if turn.state.step == "score":
            _ask_score(turn)
        else:
            _ask_comment(turn)


def _take_score(turn: Turn, given: Input) -> None:
    refusal = InvalidInput("evaluation.score.invalid", min=SCORE_MIN, max=SCORE_MAX)
    if keep_score(turn, "scores", ASPECTS, score_given(given, check_score, refusal)):
        _ask_score(turn)
    else:
        _ask_comment(turn)


async def _take_comment(turn: Turn, given: Input) -> None:
    comment = comment_given(given, check_comment, "evaluation.comment_or_skip")
    data = dict(turn.state.data)
    turn.state.clear()
    activity_id = int(data["activity"])
    back = turn.choice("evaluation.button.list", EvaluateAttendees(activity_id))
    try:
        evaluation, corrected = await evaluate(
            turn.uow,
            turn.clock,
            turn.actor,
            activity_id,
            int(data["volunteer"]),
            dict(data["scores"]),
            comment,
        )
    except DomainError as error:
        # The activity was changed meanwhile, or the staff member lost the role: nothing was written.
        turn.refuse(error, back)
        return
    turn.say(
        "evaluation.corrected" if corrected else "evaluation.saved",
        back,
        turn.choice("evaluation.button.card", StaffCard(activity_id)),
        name=data.get("name", ""),
        scores=_scores_line(turn, evaluation.scores()),
    )


# ---- the volunteer's own evaluation (2-10.1) ----------------------------------------------------


@router.command("myeval", button=MyEvaluations)
@volunteer_only
async def mine(turn: Turn, volunteer_id: int, _: str = "") -> None:
    summary = await my_evaluation(turn.uow, turn.clock, volunteer_id)
    lines = [
        turn.t("evaluation.mine.title"),
        turn.t("evaluation.mine.hours", hours=summary.hours),
        turn.t("evaluation.mine.sessions", count=summary.sessions, year=summary.sessions_last_year),
    ]
    if summary.evaluations:
        averages = {a: f"{v:.1f}" for a, v in summary.averages.items()}
        lines.append(
            turn.t(
                "evaluation.mine.staff",
                count=summary.evaluations,
                scores=turn.join(
                    turn.t(
                        "evaluation.score_item", aspect=turn.t(f"evaluation.aspect.{a}"), score=averages[a]
                    )
                    for a in ASPECTS
                ),
            )
        )
    else:
        lines.append(turn.t("evaluation.mine.staff_none"))
    if summary.satisfaction is not None:
        lines.append(
            turn.t(
                "evaluation.mine.satisfaction",
                average=f"{summary.satisfaction:.1f}",
                count=summary.satisfaction_answers,
            )
        )
    else:
        lines.append(turn.t("evaluation.mine.satisfaction_none"))
    if summary.latest:
        lines.append(turn.t("evaluation.mine.latest"))
        for evaluation in summary.latest:
            activity = await turn.uow.activities.read(evaluation.activity_id)
            title = activity.title if activity else "-"
            line = turn.t(
                "evaluation.mine.line",
                date=turn.local_time(evaluation.evaluated_at)[:10],
                title=title,
                scores=_scores_line(turn, evaluation.scores()),
            )
            if evaluation.comment:
                line += turn.t("evaluation.mine.comment", comment=evaluation.comment)
            lines.append(line)
    turn.say_text(
        "\n".join(lines),
        turn.choice("chat.menu.hours", MyHours()),
        turn.choice("chat.button.menu", Menu()),
    )
