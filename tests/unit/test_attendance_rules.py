"""The rules hours are computed by (2-6.3): one decimal, inside the schedule, a minimum presence, the
coefficient; the check-in window; the leader's rotating code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.attendance import (
    Window,
    check_coefficient,
    code_matches,
    code_valid_until,
    credited_hours,
    one_decimal,
    outside_china,
    presence,
    rotating_code,
)
from core.errors import InvalidInput
from core.services.records import star_level

START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
END = START + timedelta(hours=3)
SHARE = Decimal("0.6")


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def test_hours_are_counted_from_check_in_to_check_out_with_one_decimal() -> None:
    got = presence(at(0), at(100), START, END, SHARE)
    assert got.onsite_hours == Decimal("1.7")  # 1.666… h, halves up
    assert not got.counts  # 100 of 180 minutes is under 60 %


def test_time_before_the_start_and_after_the_end_does_not_count() -> None:
    """The cap: early arrival and staying late add nothing to the scheduled 3 hours."""
    got = presence(at(-60), at(240), START, END, SHARE)
    assert got.onsite_hours == Decimal("3.0") and got.share == 1 and got.counts


def test_the_minimum_presence_share_is_inclusive() -> None:
    assert presence(at(0), at(108), START, END, SHARE).counts  # exactly 60 %
    assert not presence(at(0), at(107), START, END, SHARE).counts


def test_no_overlap_is_zero_hours() -> None:
    got = presence(at(200), at(260), START, END, SHARE)
    assert got.onsite_hours == Decimal("0.0") and not got.counts


def test_credited_hours_apply_the_coefficient_and_keep_one_decimal() -> None:
    assert credited_hours(Decimal("2.5"), Decimal("1.5")) == Decimal("3.8")  # 3.75 → 3.8
    assert credited_hours(Decimal("3.0"), Decimal("1")) == Decimal("3.0")


@pytest.mark.parametrize("value", ["0.9", "3.01", "1.234"])
def test_a_coefficient_outside_1_to_3_or_finer_than_hundredths_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        check_coefficient(Decimal(value))


@given(
    st.integers(min_value=-600, max_value=600),
    st.integers(min_value=0, max_value=900),
)
def test_on_site_hours_never_exceed_the_schedule_nor_go_negative(start_offset: int, length: int) -> None:
    got = presence(at(start_offset), at(start_offset + length), START, END, SHARE)
    assert Decimal(0) <= got.onsite_hours <= Decimal("3.0")
    assert got.onsite_hours == one_decimal(got.onsite_hours)


def test_the_window_opens_before_the_start_and_check_out_outlasts_the_end() -> None:
    window = Window.of(START, END, before=timedelta(minutes=60), grace=timedelta(minutes=60))
    assert not window.check_in_open(at(-61)) and window.check_in_open(at(-60))
    assert window.check_in_open(at(180)) and not window.check_in_open(at(181))
    assert window.check_out_open(at(240)) and not window.check_out_open(at(241))


def test_the_rotating_code_changes_each_period_and_the_previous_one_still_works() -> None:
    secret = "a" * 32
    now = datetime(2026, 12, 5, 1, 2, 30, tzinfo=UTC)
    code = rotating_code(secret, now, 300)
    assert len(code) == 6 and code.isdigit()
    assert code_matches(secret, code, now, 300)
    assert code_matches(secret, code, now + timedelta(minutes=5), 300)  # read out just before it changed
    assert not code_matches(secret, code, now + timedelta(minutes=10), 300)
    assert not code_matches("b" * 32, code, now, 300)
    assert code_valid_until(now, 300) == datetime(2026, 12, 5, 1, 5, tzinfo=UTC)


def test_positions_far_outside_china_are_recognised() -> None:
    assert not outside_china(32.06, 118.79)  # Nanjing
    assert not outside_china(18.25, 109.5)  # Sanya
    assert outside_china(40.0, -100.0)
    assert outside_china(-33.9, 151.2)


def test_star_levels_follow_the_thresholds() -> None:
    thresholds = (100, 300, 600, 1000, 1500)
    assert star_level(Decimal("99.9"), thresholds) == 0
    assert star_level(Decimal("100"), thresholds) == 1
    assert star_level(Decimal("599.9"), thresholds) == 2
    assert star_level(Decimal("1500"), thresholds) == 5
