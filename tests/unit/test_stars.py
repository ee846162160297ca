"""Star ratings (4-6.2.1, 4-6.3.1): the rules as the README states them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.domain.stars import (
    MIN_SATISFACTION_ANSWERS,
    OrgFigures,
    org_rating,
    star_level,
    star_standing,
)

THRESHOLDS = (100, 300, 600, 1000, 1500)


def test_star_levels_at_the_thresholds() -> None:
    assert [star_level(Decimal(h), THRESHOLDS) for h in ("0", "99.9", "100", "299.9", "300", "1500")] == [
        0,
        0,
        1,
        1,
        2,
        5,
    ]


def test_a_star_holds_a_year_after_the_last_service_and_lapses_the_day_after() -> None:
    standing = star_standing(Decimal(120), date(2025, 12, 3), THRESHOLDS, 365)
    assert standing.level == 1 and standing.valid_until == date(2026, 12, 3)
    assert standing.in_force(date(2026, 12, 3)) and not standing.lapsed(date(2026, 12, 3))
    assert standing.lapsed(date(2026, 12, 4)) and not standing.in_force(date(2026, 12, 4))


def test_no_star_is_neither_in_force_nor_lapsed() -> None:
    standing = star_standing(Decimal(50), date(2020, 1, 1), THRESHOLDS, 365)
    assert standing.level == 0 and standing.valid_until is None
    assert not standing.in_force(date(2026, 1, 1)) and not standing.lapsed(date(2026, 1, 1))


FULL = OrgFigures(
    volunteers=200, hours=Decimal(2000), activities=24, satisfaction=Decimal(5), answers=10, brands=2
)


def test_an_org_at_every_target_has_one_hundred_points_and_five_stars() -> None:
    rating = org_rating(FULL)
    assert rating.points == 100 and rating.stars == 5
    assert [(p.name, p.points) for p in rating.parts] == [
        ("volunteers", 20),
        ("hours", 25),
        ("activities", 20),
        ("satisfaction", 25),
        ("brand", 10),
    ]


def test_half_of_each_target_and_a_satisfaction_of_three_is_fifty_points_two_stars() -> None:
    half = OrgFigures(
        volunteers=100, hours=Decimal(1000), activities=12, satisfaction=Decimal(3), answers=40, brands=1
    )
    rating = org_rating(half)
    assert rating.points == 50 and rating.stars == 2


def test_satisfaction_scores_nothing_below_the_minimum_answers() -> None:
    few = replace(FULL, answers=MIN_SATISFACTION_ANSWERS - 1)
    assert org_rating(few).points == 75 and org_rating(few).stars == 4
    assert org_rating(replace(FULL, satisfaction=None)).points == 75


def test_an_empty_org_has_no_star() -> None:
    empty = OrgFigures(0, Decimal(0), 0, None, 0, 0)
    assert org_rating(empty).points == 0 and org_rating(empty).stars == 0


figures = st.builds(
    OrgFigures,
    volunteers=st.integers(0, 10_000),
    hours=st.decimals(0, 100_000, places=1),
    activities=st.integers(0, 1000),
    satisfaction=st.none() | st.decimals(1, 5, places=2),
    answers=st.integers(0, 1000),
    brands=st.integers(0, 20),
)


@given(figures)
def test_points_stay_within_zero_and_one_hundred(f: OrgFigures) -> None:
    rating = org_rating(f)
    assert 0 <= rating.points <= 100 and 0 <= rating.stars <= 5


@given(figures, st.integers(1, 500))
def test_more_of_anything_never_lowers_the_rating(f: OrgFigures, more: int) -> None:
    before = org_rating(f).points
    assert org_rating(replace(f, volunteers=f.volunteers + more)).points >= before
    assert org_rating(replace(f, hours=f.hours + more)).points >= before
    assert org_rating(replace(f, activities=f.activities + more)).points >= before
    assert org_rating(replace(f, brands=f.brands + more)).points >= before
