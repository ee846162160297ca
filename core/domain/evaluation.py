"""2-10.1: after each activity the staff of the organizing org evaluate every attendee: attitude,
behaviour and effect, 1 to 5 each, with an optional comment. With the volunteer's hours, how often they
serve and the beneficiaries' satisfaction, these make up the volunteer's evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.errors import InvalidInput

SCORE_MIN, SCORE_MAX = 1, 5
COMMENT_MAX = 500
# The order staff are asked in, and the columns of the table.
ASPECTS = ("attitude", "behaviour", "effect")


@dataclass(eq=False)
class Evaluation:
    activity_id: int
    volunteer_id: int
    attitude: int
    behaviour: int
    effect: int
    evaluated_by: int
    evaluated_at: datetime
    comment: str | None = None
    id: int | None = None

    def scores(self) -> dict[str, int]:
        return {aspect: getattr(self, aspect) for aspect in ASPECTS}


def check_score(value: str | int) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not SCORE_MIN <= int(text) <= SCORE_MAX:
        raise InvalidInput("evaluation.score.invalid", min=SCORE_MIN, max=SCORE_MAX)
    return int(text)


def check_scores(scores: dict[str, int]) -> dict[str, int]:
    """Every aspect scored, each within the scale, nothing else."""
    if set(scores) != set(ASPECTS):
        raise InvalidInput("evaluation.scores.incomplete")
    return {aspect: check_score(scores[aspect]) for aspect in ASPECTS}


def check_comment(text: str | None) -> str | None:
    comment = (text or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput("evaluation.comment.too_long", max=COMMENT_MAX)
    return comment or None


@dataclass(frozen=True)
class VolunteerEvaluation:
    """What a volunteer sees of their own evaluation (2-10.1)."""

    hours: Decimal  # confirmed service hours, trainings not counted
    sessions: int  # confirmed services, all time
    sessions_last_year: int  # in the last 365 days: how often they serve
    evaluations: int  # activities the staff evaluated them at
    averages: dict[str, float]  # per aspect; empty without evaluations
    satisfaction: float | None  # the beneficiaries' mean rating of the activities they served at
    satisfaction_answers: int
    latest: tuple[Evaluation, ...]  # the newest few, for their comments


def averages(evaluations: Sequence[Evaluation]) -> dict[str, float]:
    if not evaluations:
        return {}
    return {aspect: sum(getattr(e, aspect) for e in evaluations) / len(evaluations) for aspect in ASPECTS}
