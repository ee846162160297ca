"""An activity's status follows the clock (status_at): published, ongoing from the start, finished
from the end; sign-up stays open until the end; an ended activity is held and over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.activity import ActivityStatus
from tests.builders import activity_draft
from tests.fakes.clock import FakeClock


def _published():
    activity = activity_draft(1, FakeClock())
    activity.status = ActivityStatus.PUBLISHED
    return activity


def test_a_published_activity_is_ongoing_from_its_start_and_finished_from_its_end() -> None:
    activity = _published()
    before, start, end = activity.starts_at - timedelta(minutes=1), activity.starts_at, activity.ends_at
    assert activity.status_at(before) is ActivityStatus.PUBLISHED
    assert activity.status_at(start) is ActivityStatus.ONGOING
    assert activity.status_at(end - timedelta(seconds=1)) is ActivityStatus.ONGOING
    assert activity.status_at(end) is ActivityStatus.FINISHED
    assert activity.status is ActivityStatus.PUBLISHED  # nothing is written


@pytest.mark.parametrize("status", [ActivityStatus.DRAFT, ActivityStatus.CANCELLED, ActivityStatus.RECORDED])
def test_draft_cancelled_and_recorded_stay_as_stored(status: ActivityStatus) -> None:
    activity = _published()
    activity.status = status
    for moment in (activity.starts_at - timedelta(days=1), activity.starts_at, activity.ends_at):
        assert activity.status_at(moment) is status


def test_sign_up_is_open_until_the_end_and_the_activity_has_ended_from_then() -> None:
    activity = _published()
    assert activity.signup_open(activity.starts_at - timedelta(days=1))
    assert activity.signup_open(activity.starts_at)  # on site, during the activity (2-7.2)
    assert not activity.ended(activity.ends_at - timedelta(seconds=1))
    assert not activity.signup_open(activity.ends_at)
    assert activity.ended(activity.ends_at)


def test_a_draft_or_cancelled_activity_has_not_ended_but_a_recorded_one_has() -> None:
    activity = _published()
    after = activity.ends_at + timedelta(days=1)
    for status, ended in (
        (ActivityStatus.DRAFT, False),
        (ActivityStatus.CANCELLED, False),
        (ActivityStatus.RECORDED, True),
    ):
        activity.status = status
        assert activity.ended(after) is ended
        assert not activity.signup_open(activity.starts_at - timedelta(days=1))
