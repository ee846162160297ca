"""The services follow the activity's time: once it has ended it is neither signed up for, cancelled
nor changed (its hours stand, 2-6.3), and a call for volunteers goes out only for places still to
fill before the start (3-6.1.3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.domain.activity import Activity, ActivityStatus
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.errors import Conflict, NotEligible
from core.services.activities import EndedActivity, cancel_activity, create_activity, update_activity
from core.services.broadcasts import call_recruitment, recruitment_audience
from core.services.signups import ActivityEnded, cancel_signup, sign_up
from storage.database import Database
from tests.builders import (
    activity_draft,
    committed_signup,
    make_activity,
    make_org,
    make_staff,
    make_volunteer,
)
from tests.fakes.clock import FakeClock


@dataclass
class Setting:
    staff: Actor
    activity_id: int
    volunteers: list[Actor]


async def _setting(db: Database, clock: FakeClock, n: int = 3, **activity: object) -> Setting:
    """An org, its staff, n member volunteers and a published activity (10 days ahead, 3 hours)."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "海淀区科普志愿服务队")
        assert org.id is not None
        staff = await make_staff(uow, clock, org.id)
        published = await make_activity(uow, clock, staff, org.id, title="补录测试活动", **activity)
        people = [(await make_volunteer(uow, clock, org_id=org.id))[1] for _ in range(n)]
        await uow.commit()
    assert published.id is not None
    return Setting(staff, published.id, people)


async def _ends(db: Database, activity_id: int) -> Activity:
    """A copy of the activity, to read its times from."""
    async with db.uow() as uow:
        activity = await uow.activities.read(activity_id)
    assert activity is not None
    return activity


async def test_an_ended_activity_is_not_cancelled_and_its_sign_ups_stand(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set((await _ends(db, s.activity_id)).ends_at)
    async with db.uow() as uow:
        with pytest.raises(EndedActivity) as refused:
            await cancel_activity(uow, clock, s.staff, s.activity_id, "录错了")
    assert refused.value.key == "activity.cancel.ended"
    assert refused.value.params == {"title": "补录测试活动", "end": "2026-12-11 12:00"}
    async with db.uow() as uow:
        activity = await uow.activities.get(s.activity_id)
        signup = await uow.signups.get(signup_id)
        assert activity is not None and activity.status is ActivityStatus.PUBLISHED
        assert signup is not None and signup.status is SignupStatus.CONFIRMED


async def test_an_activity_under_way_may_still_be_cancelled(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    clock.set((await _ends(db, s.activity_id)).starts_at + timedelta(hours=1))
    async with db.uow() as uow:
        cancelled = await cancel_activity(uow, clock, s.staff, s.activity_id, "暴雨，提前收场")
        await uow.commit()
    assert cancelled.status is ActivityStatus.CANCELLED


async def test_an_ended_activity_is_not_changed_but_an_unchanged_answer_passes(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock)
    activity = await _ends(db, s.activity_id)
    clock.set(activity.ends_at + timedelta(days=1))
    later = activity.starts_at + timedelta(days=1)
    for changes in (
        {"starts_at": later, "ends_at": later + timedelta(hours=3)},
        {"place_name": "海淀区图书馆"},
        {"title": "改过的名称"},
        {"capacity": 20},
    ):
        async with db.uow() as uow:
            with pytest.raises(EndedActivity) as refused:
                await update_activity(uow, clock, s.staff, s.activity_id, changes)
        assert refused.value.key == "activity.edit.ended"
    async with db.uow() as uow:
        same = await update_activity(uow, clock, s.staff, s.activity_id, {"title": "补录测试活动"})
        await uow.commit()
    assert (same.title, same.starts_at) == ("补录测试活动", activity.starts_at)


async def test_a_draft_past_its_time_may_still_be_moved(db: Database, clock: FakeClock) -> None:
    """A draft was never held: planned again for later, it is not an ended activity."""
    s = await _setting(db, clock, n=0)
    org_id = (await _ends(db, s.activity_id)).org_id
    async with db.uow() as uow:
        draft = await create_activity(uow, clock, s.staff, activity_draft(org_id, clock))
        await uow.commit()
    clock.advance(days=20)
    start = clock.now() + timedelta(days=5)
    async with db.uow() as uow:
        moved = await update_activity(
            uow, clock, s.staff, draft.id or 0, {"starts_at": start, "ends_at": start + timedelta(hours=2)}
        )
        await uow.commit()
    assert moved.starts_at == start and moved.status is ActivityStatus.DRAFT


async def test_sign_up_after_the_end_says_it_has_ended_and_during_it_is_still_taken(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock)
    activity = await _ends(db, s.activity_id)
    clock.set(activity.starts_at + timedelta(minutes=30))  # on site (2-7.2): still taken
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(activity.ends_at)
    async with db.uow() as uow:
        with pytest.raises(ActivityEnded) as refused:
            await sign_up(uow, clock, s.volunteers[1], s.activity_id)
    assert refused.value.key == "signup.ended"
    assert refused.value.params == {"title": "补录测试活动", "end": "2026-12-11 12:00"}


async def test_a_place_freed_after_the_end_goes_to_no_one_on_the_waitlist(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, capacity=1)
    held = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    waiting = await committed_signup(db, clock, s.volunteers[1], s.activity_id, join_waitlist=True)
    clock.set((await _ends(db, s.activity_id)).ends_at + timedelta(hours=1))
    async with db.uow() as uow:
        result = await cancel_signup(uow, clock, s.staff, held, "未到场，误报名")
        await uow.commit()
    assert result.promoted == ()
    async with db.uow() as uow:
        assert (await uow.signups.get(waiting)).status is SignupStatus.WAITLISTED  # type: ignore[union-attr]


async def _no_call(db: Database, clock: FakeClock, s: Setting) -> NotEligible:
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as refused:
            await call_recruitment(uow, clock, s.staff, s.activity_id)
        with pytest.raises(NotEligible):
            await recruitment_audience(uow, clock, s.staff, s.activity_id)
    async with db.uow() as uow:
        for volunteer in s.volunteers:
            notices = await uow.notices.for_user(volunteer.user_id)
            assert [n for n in notices if n.message_key == "notice.recruitment"] == []
    return refused.value


async def test_no_call_for_volunteers_once_full_begun_or_ended(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=3, capacity=1)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    activity = await _ends(db, s.activity_id)
    clock.set(activity.starts_at - timedelta(minutes=15))
    full = await _no_call(db, clock, s)
    assert (full.key, full.params) == ("broadcast.full", {"title": "补录测试活动", "capacity": 1})
    async with db.uow() as uow:  # a place more: the call may go out again
        await update_activity(uow, clock, s.staff, s.activity_id, {"capacity": 2})
        await uow.commit()
    clock.set(activity.starts_at)
    begun = await _no_call(db, clock, s)
    assert (begun.key, begun.params) == (
        "broadcast.started",
        {"title": "补录测试活动", "start": "2026-12-11 09:00"},
    )
    clock.set(activity.ends_at)
    ended = await _no_call(db, clock, s)
    assert (ended.key, ended.params) == ("broadcast.not_open", {"status": ActivityStatus.FINISHED})


async def test_a_call_goes_out_while_places_are_left_before_the_start(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=3, capacity=2)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set((await _ends(db, s.activity_id)).starts_at - timedelta(minutes=15))
    async with db.uow() as uow:
        progress = await call_recruitment(uow, clock, s.staff, s.activity_id)
        await uow.commit()
    assert progress.total == 2  # the two members not signed up


async def test_a_cancelled_activity_is_refused_as_before(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=0)
    async with db.uow() as uow:
        await cancel_activity(uow, clock, s.staff, s.activity_id, "场地临时关闭")
        await uow.commit()
    clock.advance(days=30)
    async with db.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await cancel_activity(uow, clock, s.staff, s.activity_id, "再取消一次")
    assert refused.value.key == "activity.cancel.too_late"
