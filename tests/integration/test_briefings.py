"""3-6.1.3.2: the pre-service briefing, 3 days before the start, through the outbox: queued with the
change that confirms a place, moved with the start, withdrawn with the sign-up or the activity, and
sent by the dispatcher once, in the volunteer's language, on each database."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from core.domain.codes import ActivityMode, Channel
from core.domain.dialog import Notice
from core.domain.people import Actor
from core.services.activities import cancel_activity, update_activity
from core.services.notices import schedule_briefing
from core.services.signups import cancel_signup, decide_signup, mark_attendance
from core.services.users import set_language
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.builders import RecordingMessenger, committed_signup, make_staffed_activity
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.db

DAY = timedelta(days=1)


@dataclass
class Setting:
    staff: Actor
    activity_id: int
    starts_at: datetime
    volunteers: list[Actor]
    chats: list[str]  # each volunteer's Telegram id


async def _setting(db: Database, clock: FakeClock, n: int = 2, **activity: Any) -> Setting:
    """One org, its staff, n volunteers and a published activity (ten days ahead unless told)."""
    async with db.uow() as uow:
        made = await make_staffed_activity(uow, clock, "玄武区科普志愿服务队", volunteers=n, **activity)
        await uow.commit()
    published = made.activity
    assert published.id is not None
    return Setting(made.staff[0], published.id, published.starts_at, made.volunteers, made.chats)


async def _briefings(
    db: Database, actor: Actor, message_key: str = "notice.briefing"
) -> list[SimpleNamespace]:
    """The briefing notices of a volunteer, as plain values read while the session is open."""
    async with db.uow() as uow:
        return [
            SimpleNamespace(**{f.name: getattr(n, f.name) for f in fields(Notice)})
            for n in await uow.notices.for_user(actor.user_id)
            if n.message_key == message_key
        ]


async def _dispatch(db: Database, clock: FakeClock, messenger: RecordingMessenger) -> int:
    return (await dispatch_due(db.uow, clock, {Channel.TELEGRAM: messenger}, translator)).sent


async def test_a_signup_ten_days_ahead_is_briefed_three_days_before_and_not_earlier(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, guarantees="午餐、交通补贴", required_training="防诈骗知识培训")
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    [notice] = await _briefings(db, s.volunteers[0])
    assert (notice.key, notice.due_at) == (f"briefing:{signup_id}", s.starts_at - 3 * DAY)
    assert notice.choices == [
        ["briefing.button.confirm", f"bf.y:{signup_id}"],
        ["briefing.button.decline", f"bf.n:{signup_id}"],
        ["chat.button.view_activity", f"a:{s.activity_id}"],
    ]

    messenger = RecordingMessenger()
    clock.set(s.starts_at - 3 * DAY - timedelta(minutes=1))
    assert await _dispatch(db, clock, messenger) == 0
    clock.advance(minutes=1)
    assert await _dispatch(db, clock, messenger) == 1
    [text] = messenger.texts(s.chats[0])
    assert text == (
        "“社区科普讲座”行前说明（CVST 3 6.1.3.2）\n"
        "时间：2026-12-11 09:00\n"
        "地点或链接：海淀区科技馆 北京市海淀区中关村大街1号\n"
        "服务内容：讲座与问答\n"
        "服务对象：社区居民\n"
        "保障：午餐、交通补贴\n"
        "岗前培训：防诈骗知识培训\n"
        "请选择“确认参加”告诉我们您会来；如不能参加，请选择“无法参加”，名额会立即让给候补志愿者。"
    )
    [(_, say)] = messenger.sent
    assert [c.label for c in say.choices] == ["✅ 确认参加", "❌ 无法参加", "查看活动"]


async def test_the_briefing_is_in_the_language_the_volunteer_has_when_it_is_sent(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, mode=ActivityMode.ONLINE, online_url="https://meeting.example.cn/7")
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:
        await set_language(uow, s.volunteers[0].user_id, "en")
        await uow.commit()
    clock.set(s.starts_at - 3 * DAY)
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 1
    [text] = messenger.texts(s.chats[0])
    assert text.startswith('Briefing (CVST 3 6.1.3.2) for "社区科普讲座"\nTime: 2026-12-11 09:00\n')
    assert "\nPlace or link: https://meeting.example.cn/7\n" in text  # online: the link, no place


async def test_a_cancelled_signup_is_not_briefed_and_its_notice_is_kept_withdrawn(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.advance(days=1)
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[0], signup_id, "有事")
        await uow.commit()
    [notice] = await _briefings(db, s.volunteers[0])
    assert (notice.withdrawn_at, notice.sent_at) == (clock.now(), None)
    clock.set(s.starts_at - DAY)
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 0
    assert messenger.sent == []


async def test_a_cancelled_activity_briefs_no_one(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    for actor in s.volunteers:
        await committed_signup(db, clock, actor, s.activity_id)
    async with db.uow() as uow:
        await cancel_activity(uow, clock, s.staff, s.activity_id, "暴雨预警")
        await uow.commit()
    for actor in s.volunteers:
        [notice] = await _briefings(db, actor)
        assert notice.withdrawn_at == clock.now()
    clock.set(s.starts_at - 3 * DAY)
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 2  # the cancellation notices, at once
    assert all("取消" in say.text for _, say in messenger.sent)
    clock.advance(days=1)
    assert await _dispatch(db, clock, messenger) == 0


async def test_a_volunteer_promoted_from_the_waitlist_is_briefed(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, capacity=1)
    first = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    await committed_signup(db, clock, s.volunteers[1], s.activity_id, join_waitlist=True)
    assert await _briefings(db, s.volunteers[1]) == []  # waiting: nothing to brief yet
    async with db.uow() as uow:
        done = await cancel_signup(uow, clock, s.volunteers[0], first, "有事")
        await uow.commit()
    [promoted] = done.promoted
    [notice] = await _briefings(db, s.volunteers[1])
    assert (notice.key, notice.due_at) == (f"briefing:{promoted.id}", s.starts_at - 3 * DAY)
    clock.set(s.starts_at - 3 * DAY)
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    assert [t for t in messenger.texts(s.chats[1]) if "行前说明" in t]
    assert messenger.texts(s.chats[0]) == []


async def test_a_place_given_inside_the_three_days_is_briefed_at_once(db: Database, clock: FakeClock) -> None:
    """Promoted (or approved) with no conversation of theirs to brief them, the volunteer gets the
    briefing from the outbox straight away (3-6.1.3.2: temporary confirmation)."""
    s = await _setting(db, clock, capacity=1)
    first = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    await committed_signup(db, clock, s.volunteers[1], s.activity_id, join_waitlist=True)
    clock.set(s.starts_at - DAY)
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[0], first, "生病")
        await uow.commit()
    [notice] = await _briefings(db, s.volunteers[1], "notice.briefing_deadline")
    assert notice.due_at == clock.now()
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 1  # the briefing tells of the place and asks by when
    [briefed] = messenger.texts(s.chats[1])
    assert briefed.startswith("您已由候补转为正式参加！“社区科普讲座”行前说明")
    # 3-6.1.3.3: twelve hours to answer (at most until an hour before the start)
    assert "请在 2026-12-10 21:00 前选择“确认参加”" in briefed


async def test_an_approved_application_is_briefed(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, signup_requires_approval=True)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    assert await _briefings(db, s.volunteers[0]) == []  # applied: not confirmed yet
    async with db.uow() as uow:
        await decide_signup(uow, clock, s.staff, signup_id, approve=True)
        await uow.commit()
    [notice] = await _briefings(db, s.volunteers[0])
    assert notice.due_at == s.starts_at - 3 * DAY


async def test_a_signup_inside_the_three_days_queues_nothing(db: Database, clock: FakeClock) -> None:
    """The conversation gives the briefing in its reply then (core.chat.activities); the outbox has no
    second one to send."""
    s = await _setting(
        db, clock, starts_at=clock.now() + 2 * DAY, ends_at=clock.now() + 2 * DAY + timedelta(hours=3)
    )
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    assert await _briefings(db, s.volunteers[0]) == []


async def test_moving_the_start_moves_the_pending_briefing(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    later = s.starts_at + 5 * DAY
    async with db.uow() as uow:
        changes = {"starts_at": later, "ends_at": later + timedelta(hours=3), "place_name": "玄武区科技馆"}
        await update_activity(uow, clock, s.staff, s.activity_id, changes)
        await uow.commit()
    [notice] = await _briefings(db, s.volunteers[0])
    assert notice.due_at == later - 3 * DAY
    assert (notice.params["start"], notice.params["where"]) == (
        "2026-12-16 09:00",
        "玄武区科技馆 北京市海淀区中关村大街1号",
    )

    messenger = RecordingMessenger()
    clock.set(s.starts_at - 3 * DAY)  # the old moment: only the change notice goes
    await _dispatch(db, clock, messenger)
    assert not [t for t in messenger.texts(s.chats[0]) if "行前说明" in t]
    clock.set(later - 3 * DAY)
    assert await _dispatch(db, clock, messenger) == 1
    assert "时间：2026-12-16 09:00\n地点或链接：玄武区科技馆 " in messenger.texts(s.chats[0])[-1]


async def test_a_start_moved_inside_the_three_days_briefs_at_once(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    sooner = clock.now() + 2 * DAY
    async with db.uow() as uow:
        await update_activity(
            uow, clock, s.staff, s.activity_id, {"starts_at": sooner, "ends_at": sooner + timedelta(hours=3)}
        )
        await uow.commit()
    [notice] = await _briefings(db, s.volunteers[0])
    assert notice.due_at == clock.now()
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 2  # the change and the briefing, now
    assert any(
        t.startswith("“社区科普讲座”行前说明") and "2026-12-03 09:00" in t
        for t in messenger.texts(s.chats[0])
    )


async def test_a_briefing_is_queued_once_and_sent_once(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:  # the same confirmation seen again (a retried request)
        activity = await uow.activities.get(s.activity_id)
        signup = await uow.signups.get(signup_id)
        assert activity is not None and signup is not None
        await schedule_briefing(uow, clock, activity, signup)
        await uow.commit()
    assert len(await _briefings(db, s.volunteers[0])) == 1
    clock.set(s.starts_at - 3 * DAY)
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 1
    assert await _dispatch(db, clock, messenger) == 0
    clock.advance(hours=1)  # past any lease: a later tick finds nothing either
    assert await _dispatch(db, clock, messenger) == 0
    assert len(messenger.texts(s.chats[0])) == 1
    [notice] = await _briefings(db, s.volunteers[0])
    assert notice.sent_at == s.starts_at - 3 * DAY


async def test_attendance_withdraws_a_briefing_left_behind(db: Database, clock: FakeClock) -> None:
    """The dispatcher was down through the 3 days: once the activity has begun, a late briefing has
    nothing to tell."""
    s = await _setting(db, clock)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at + timedelta(minutes=30))
    async with db.uow() as uow:
        await mark_attendance(uow, clock, s.staff, signup_id, attended=False)
        await uow.commit()
    messenger = RecordingMessenger()
    assert await _dispatch(db, clock, messenger) == 0
    [notice] = await _briefings(db, s.volunteers[0])
    assert notice.withdrawn_at == clock.now()
