"""Satisfaction surveys (3-8.1.2): beneficiaries rate the service, volunteers rate their experience;
the statistics (3-8.2) turn the ratings into improvement opinions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.errors import InvalidInput

RATING_MIN, RATING_MAX = 1, 5
SATISFIED_FROM = 4  # 4 满意 and 5 非常满意 count as satisfied
COMMENT_MAX = 500


class SurveyKind(StrEnum):
    BENEFICIARY = "beneficiary"  # 3-8.1.2.1
    VOLUNTEER = "volunteer"  # 3-8.1.2.2


QUESTIONS: dict[SurveyKind, tuple[str, ...]] = {
    # 3-8.1.2.1: the service process, manner and attitude; the volunteers' expertise and skill.
    SurveyKind.BENEFICIARY: ("process", "manner", "attitude", "expertise", "skill"),
    # 3-8.1.2.2: training, sense of gain, identification with the org.
    SurveyKind.VOLUNTEER: ("training", "gain", "identification"),
}


@dataclass(eq=False)
class SurveyResponse:
    activity_id: int
    kind: SurveyKind
    answers: dict[str, int]
    created_at: datetime
    user_id: int | None = None  # None for high-privacy activities (3-7.3)
    comment: str | None = None
    id: int | None = None


def check_rating(value: str) -> int:
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or not RATING_MIN <= int(digits) <= RATING_MAX:
        raise InvalidInput("survey.rating.invalid", min=RATING_MIN, max=RATING_MAX)
    return int(digits)


def check_answers(kind: SurveyKind, answers: dict[str, int]) -> dict[str, int]:
    """Every question of the kind answered, each within the scale, nothing else."""
    questions = QUESTIONS[kind]
    if set(answers) != set(questions):
        raise InvalidInput("survey.answers.incomplete")
    for value in answers.values():
        if not isinstance(value, int) or not RATING_MIN <= value <= RATING_MAX:
            raise InvalidInput("survey.rating.invalid", min=RATING_MIN, max=RATING_MAX)
    return {q: answers[q] for q in questions}


def check_comment(text: str | None) -> str | None:
    comment = (text or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput("survey.comment.too_long", max=COMMENT_MAX)
    return comment or None


@dataclass(frozen=True)
class QuestionStats:
    question: str
    count: int
    average: float
    satisfied_share: float  # 0..1, the share of ratings of 4 or 5


@dataclass(frozen=True)
class SurveyStats:
    kind: SurveyKind
    responses: int
    questions: tuple[QuestionStats, ...] = ()
    comments: tuple[str, ...] = field(default=())


def summarise(kind: SurveyKind, responses: Sequence[SurveyResponse], comments: int = 5) -> SurveyStats:
    """3-8.2: per question, the mean rating and the share satisfied; the latest comments as opinions."""
    mine = [r for r in responses if r.kind is kind]
    stats = []
    for question in QUESTIONS[kind]:
        ratings = [r.answers[question] for r in mine if question in r.answers]
        if not ratings:
            continue
        satisfied = sum(1 for value in ratings if value >= SATISFIED_FROM)
        stats.append(
            QuestionStats(question, len(ratings), sum(ratings) / len(ratings), satisfied / len(ratings))
        )
    latest = tuple(r.comment for r in reversed(mine) if r.comment)[:comments]
    return SurveyStats(kind, len(mine), tuple(stats), latest)
