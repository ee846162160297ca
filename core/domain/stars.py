"""Star ratings (4-6.2.1, 4-6.3.1): a volunteer's stars from confirmed service hours, in force while the
volunteer keeps serving; an org's stars from its volunteers, hours, activity frequency, satisfaction and
brand. Both are computed from the records every time they are shown, so they follow the records
("reviewed and updated dynamically") and never need correcting by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# ---- volunteers (4-6.2.1) --------------------------------------------------------------------------


def star_level(hours: Decimal, thresholds: Sequence[int]) -> int:
    """One star at the first threshold (100 h by default), five at the last (1500 h)."""
    return sum(1 for threshold in thresholds if hours >= threshold)


@dataclass(frozen=True)
class StarStanding:
    """The stars earned, and whether they are in force: a star holds for the validity period after the
    volunteer's last confirmed service; serving again renews it. Hours are never lost — a lapsed star
    comes back with the next confirmed service."""

    level: int
    valid_until: date | None  # None: no star, or no confirmed service yet

    def in_force(self, today: date) -> bool:
        return self.level > 0 and self.valid_until is not None and today <= self.valid_until

    def lapsed(self, today: date) -> bool:
        return self.level > 0 and not self.in_force(today)


def star_standing(
    hours: Decimal, last_service: date | None, thresholds: Sequence[int], validity_days: int
) -> StarStanding:
    level = star_level(hours, thresholds)
    if level == 0 or last_service is None:
        return StarStanding(level, None)
    return StarStanding(level, last_service + timedelta(days=validity_days))


# ---- organizations (4-6.3.1) ----------------------------------------------------------------------

ORG_RATING_YEAR = timedelta(days=365)  # the figures are those of the last twelve months
MIN_SATISFACTION_ANSWERS = 10  # fewer beneficiary answers than this: satisfaction scores nothing yet


@dataclass(frozen=True)
class OrgFigures:
    """What an org (with the teams below it) did in the last twelve months."""

    volunteers: int  # approved members now
    hours: Decimal  # confirmed service hours (trainings excluded)
    activities: int  # activities held (ended, not cancelled)
    satisfaction: Decimal | None  # beneficiaries' average rating, 1–5; None below the minimum answers
    answers: int  # beneficiary survey answers behind the average
    brands: int  # projects (3-9) with a brand that held at least BRAND_ACTIVITIES activities


BRAND_ACTIVITIES = 3


@dataclass(frozen=True)
class Part:
    """One of the five parts of the score: the figure, the full mark and the points it earns."""

    name: str  # volunteers, hours, activities, satisfaction, brand
    full: int
    target: Decimal  # the figure that earns the full mark
    points: Decimal


# name, full mark, the figure that earns it. Points grow linearly up to the full mark; satisfaction
# counts from 1 (nothing) to 5 (full).
ORG_PARTS: tuple[tuple[str, int, Decimal], ...] = (
    ("volunteers", 20, Decimal(200)),
    ("hours", 25, Decimal(2000)),
    ("activities", 20, Decimal(24)),
    ("satisfaction", 25, Decimal(5)),
    ("brand", 10, Decimal(2)),
)
# total points → stars: 30 one star, 45 two, 60 three, 75 four, 90 five.
ORG_STAR_FROM: tuple[int, ...] = (30, 45, 60, 75, 90)


def _share(figure: Decimal, target: Decimal) -> Decimal:
    return min(Decimal(1), max(Decimal(0), figure / target))


@dataclass(frozen=True)
class OrgRating:
    parts: tuple[Part, ...]

    @property
    def points(self) -> Decimal:
        return sum((p.points for p in self.parts), Decimal(0))

    @property
    def stars(self) -> int:
        return sum(1 for threshold in ORG_STAR_FROM if self.points >= threshold)


def org_rating(figures: OrgFigures) -> OrgRating:
    satisfaction = (
        Decimal(0)
        if figures.satisfaction is None or figures.answers < MIN_SATISFACTION_ANSWERS
        else figures.satisfaction - 1  # 1 → 0 … 5 → 4
    )
    measured = {
        "volunteers": Decimal(figures.volunteers),
        "hours": figures.hours,
        "activities": Decimal(figures.activities),
        "satisfaction": satisfaction,
        "brand": Decimal(figures.brands),
    }
    parts = []
    for name, full, target in ORG_PARTS:
        scale = target - 1 if name == "satisfaction" else target
        points = (full * _share(measured[name], scale)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        parts.append(Part(name, full, target, points))
    return OrgRating(tuple(parts))
