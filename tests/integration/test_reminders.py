"""Reminders before an activity (3-6.2.3) and the surveys after it (3-8.1.2), queued by the scheduler's
jobs in the outbox and sent by the dispatcher: the day before and two hours before the start to confirmed
volunteers only, each once whatever reruns or races, withdrawn with the sign-up, never after the start,
caught up after a pause; after the end, attendees get the volunteers' survey and staff the beneficiaries'
one. On each database, time moved only by the fake clock; one journey through the real Telegram webhook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bots.app import SERVICES
from core.chat.messages import Say
from core.domain.codes import Channel
from core.domain.dialog import Notice
from core.domain.people import Actor, ConsentKind, Role
from core.domain.survey import SurveyKind
from core.policy import Policy
from core.services.access import load_actor
from core.services.activities import cancel_activity, update_activity
from core.services.attendance import Proof, attend
from core.services.signups import cancel_signup, mark_attendance, sign_up
from core.services.users import ensure_user, grant_role, set_language
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from locales import translator
from scheduler.dispatcher import Pacer, dispatch_due
from scheduler.jobs import JOB_IDS, register_jobs, run_job
from storage.database import Database
from tests.builders import (
    RecordingMessenger,
    committed_signup,
    make_activity,
    make_org,
    make_staffed_activity,
    online,
)
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.test_telegram_webhook import Chat

pytestmark = pytest.mark.db

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
VENUE = (39.98, 116.31)  # the builders' activity place


@dataclass
class Setting:
    staff: list[Actor]
    activity_id: int
    starts_at: datetime
    ends_at: datetime
    volunteers: list[Actor]
    chats: list[str]  # each volunteer's Telegram id


async def _setting(
    db: Database,
    clock: FakeClock,
    n: int = 3,
    staff: int = 1,
    org_name: str = "海淀区科普志愿服务队",
    **activity: Any,
) -> Setting:
    """An org with its staff, n volunteers, and an activity published ten days ahead unless told."""
    async with db.uow() as uow:
        made = await make_staffed_activity(uow, clock, org_name, volunteers=n, staff=staff, **activity)
        await uow.commit()
    published = made.activity
    assert published.id is not None
    return Setting(
        made.staff, published.id, published.starts_at, published.ends_at, made.volunteers, made.chats
    )


async def _cancel(db: Database, clock: FakeClock, actor: Actor, signup_id: int) -> None:
    async with db.uow() as uow:
        await cancel_signup(uow, clock, actor, signup_id, "临时有事")
        await uow.commit()


async def _notices(db: Database, user_id: int, prefix: str = "") -> list[SimpleNamespace]:
    """The user's notices whose key starts with ``prefix``, as plain values."""
    async with db.uow() as uow:
        return [
            SimpleNamespace(**{f.name: getattr(n, f.name) for f in fields(Notice)})
            for n in await uow.notices.for_user(user_id)
            if n.key.startswith(prefix)
        ]


async def _remind(db: Database, clock: FakeClock, policy: Policy | None = None) -> int:
    return await run_job("reminders-queue", db.uow, clock, policy or Policy())


async def _dispatch(db: Database, clock: FakeClock, messenger: RecordingMessenger) -> int:
    return (await dispatch_due(db.uow, clock, {Channel.TELEGRAM: messenger}, translator)).sent


def _reminders(messenger: RecordingMessenger, chat: str) -> list[Say]:
    return [say for say in messenger.to(chat) if say.text.startswith(("活动提醒", "Reminder"))]


# ---- before: the day before and two hours before ---------------------------------------------------


async def test_confirmed_volunteers_are_reminded_a_day_and_two_hours_before_with_how_to_check_in(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, capacity=1)
    confirmed = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    await committed_signup(db, clock, s.volunteers[1], s.activity_id, join_waitlist=True)
    cancelled = await committed_signup(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    await _cancel(db, clock, s.volunteers[2], cancelled)

    clock.set(s.starts_at - DAY - timedelta(minutes=1))
    assert await _remind(db, clock) == 0
    clock.advance(minutes=1)
    assert await _remind(db, clock) == 1
    [notice] = await _notices(db, s.volunteers[0].user_id, "remind.")
    assert (notice.key, notice.due_at, notice.message_key) == (
        f"remind.1d:{confirmed}",
        clock.now(),
        "notice.reminder.offline",
    )
    assert notice.choices == [
        ["chat.menu.checkin", "ci"],
        ["chat.button.view_activity", f"a:{s.activity_id}"],
    ]
    for waiting in s.volunteers[1:]:
        assert await _notices(db, waiting.user_id, "remind.") == []

    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    [say] = _reminders(messenger, s.chats[0])
    assert say.text == (
        "活动提醒：“社区科普讲座”将于 2026-12-11 09:00 开始。\n"
        "地点：海淀区科技馆 北京市海淀区中关村大街1号\n"
        "签到：到达后在菜单点 📍 签到/签退 或直接发送位置，签到在开始前 60 分钟开放。\n"
        "如不能参加，请选择下方的“查看活动”取消报名，以便候补志愿者递补。"
    )
    assert [c.label for c in say.choices] == ["📍 签到/签退", "查看活动"]

    clock.set(s.starts_at - 2 * HOUR - timedelta(minutes=1))
    assert await _remind(db, clock) == 0
    clock.advance(minutes=1)
    assert await _remind(db, clock) == 1
    assert await _remind(db, clock) == 0
    await _dispatch(db, clock, messenger)
    assert len(_reminders(messenger, s.chats[0])) == 2
    assert [n.key for n in await _notices(db, s.volunteers[0].user_id, "remind.")] == [
        f"remind.1d:{confirmed}",
        f"remind.2h:{confirmed}",
    ]
    for other in s.chats[1:]:
        assert _reminders(messenger, other) == []


async def test_the_hours_before_are_settings(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    policy = Policy(reminder_day_before_h=48, reminder_hours_before=6)
    clock.set(s.starts_at - 48 * HOUR)
    assert await _remind(db, clock, policy) == 1
    clock.set(s.starts_at - 6 * HOUR - timedelta(seconds=1))
    assert await _remind(db, clock, policy) == 0
    clock.advance(seconds=1)
    assert await _remind(db, clock, policy) == 1


async def test_reruns_and_a_second_instance_queue_each_reminder_once(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=2)
    for actor in s.volunteers:
        await committed_signup(db, clock, actor, s.activity_id)
    clock.set(s.starts_at - DAY + HOUR)
    # Two schedulers on one database, at the same moment, then again a minute later.
    assert sum(await asyncio.gather(_remind(db, clock), _remind(db, clock))) == 2
    clock.advance(minutes=1)
    assert await _remind(db, clock) == 0
    for actor in s.volunteers:
        assert len(await _notices(db, actor.user_id, "remind.1d:")) == 1


async def test_a_signup_cancelled_after_its_reminder_was_queued_is_not_reminded(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at - DAY)
    assert await _remind(db, clock) == 1
    clock.advance(seconds=30)
    await _cancel(db, clock, s.volunteers[0], signup_id)
    [notice] = await _notices(db, s.volunteers[0].user_id, "remind.")
    assert (notice.withdrawn_at, notice.sent_at) == (clock.now(), None)
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    assert _reminders(messenger, s.chats[0]) == []
    clock.set(s.starts_at - 2 * HOUR)
    assert await _remind(db, clock) == 0


async def test_a_cancelled_activity_withdraws_its_pending_reminders_and_reminds_no_more(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=2)
    for actor in s.volunteers:
        await committed_signup(db, clock, actor, s.activity_id)
    clock.set(s.starts_at - DAY)
    assert await _remind(db, clock) == 2
    async with db.uow() as uow:
        await cancel_activity(uow, clock, s.staff[0], s.activity_id, "暴雨预警")
        await uow.commit()
    for actor in s.volunteers:
        [notice] = await _notices(db, actor.user_id, "remind.")
        assert notice.withdrawn_at == clock.now()
    clock.set(s.starts_at - 2 * HOUR)
    assert await _remind(db, clock) == 0
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    assert all(_reminders(messenger, chat) == [] for chat in s.chats)


async def test_no_reminder_once_the_activity_has_started(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=2)
    for actor in s.volunteers:
        await committed_signup(db, clock, actor, s.activity_id)
    clock.set(s.starts_at)  # the job was down through both reminders
    assert await _remind(db, clock) == 0
    clock.advance(minutes=5)
    assert await _remind(db, clock) == 0
    for actor in s.volunteers:
        assert await _notices(db, actor.user_id, "remind.") == []


async def test_a_reminder_the_dispatcher_did_not_send_before_the_start_is_withdrawn(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at - 2 * HOUR)
    assert await _remind(db, clock) == 1  # queued, but the dispatcher is down until after the start
    clock.set(s.starts_at + timedelta(minutes=3))
    assert await _remind(db, clock) == 0
    [notice] = await _notices(db, s.volunteers[0].user_id, "remind.")
    assert notice.withdrawn_at == clock.now()
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    assert _reminders(messenger, s.chats[0]) == []


async def test_after_a_pause_the_job_catches_up_before_the_start(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at - 20 * HOUR)  # no run at 24 h: the day-before reminder goes now
    assert await _remind(db, clock) == 1
    clock.set(s.starts_at - HOUR)  # no run at 2 h either
    assert await _remind(db, clock) == 1
    keys = [n.key for n in await _notices(db, s.volunteers[0].user_id, "remind.")]
    assert keys == [f"remind.1d:{signup_id}", f"remind.2h:{signup_id}"]


async def test_when_both_fell_due_during_a_pause_only_the_nearer_is_sent(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at - 90 * timedelta(minutes=1))
    assert await _remind(db, clock) == 1
    [notice] = await _notices(db, s.volunteers[0].user_id, "remind.")
    assert notice.key == f"remind.2h:{signup_id}"


async def test_a_place_given_after_the_day_before_gets_only_the_later_reminder(
    db: Database, clock: FakeClock
) -> None:
    """Confirmed inside the day, the volunteer was told it all in the sign-up's own reply."""
    s = await _setting(db, clock, n=1)
    clock.set(s.starts_at - 20 * HOUR)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    assert await _remind(db, clock) == 0
    clock.set(s.starts_at - 2 * HOUR)
    assert await _remind(db, clock) == 1
    assert [n.key for n in await _notices(db, s.volunteers[0].user_id, "remind.")] == [
        f"remind.2h:{signup_id}"
    ]


async def test_an_online_reminder_gives_the_link_and_the_leaders_code_in_english(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1, title="线上科普直播", **online("https://meeting.example.cn/42"))
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:
        await set_language(uow, s.volunteers[0].user_id, "en")
        await uow.commit()
    clock.set(s.starts_at - 2 * HOUR)
    assert await _remind(db, clock) == 1
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    [say] = _reminders(messenger, s.chats[0])
    assert say.text.startswith('Reminder: the online activity "线上科普直播" starts at 2026-12-11 09:00.\n')
    assert "Link to join: https://meeting.example.cn/42\n" in say.text
    assert "the leader announces a 6-digit code" in say.text and "60 minutes before" in say.text
    assert [c.label for c in say.choices] == ["📍 Check in/out", "View the activity"]


async def test_a_pending_reminder_carries_the_new_place(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at - DAY)
    assert await _remind(db, clock) == 1
    async with db.uow() as uow:
        await update_activity(uow, clock, s.staff[0], s.activity_id, {"place_name": "海淀区图书馆"})
        await uow.commit()
    assert await _remind(db, clock) == 0  # the dispatcher is behind: the reminder still waits
    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    [say] = _reminders(messenger, s.chats[0])
    assert "地点：海淀区图书馆 北京市海淀区中关村大街1号" in say.text


# ---- after: the surveys ----------------------------------------------------------------------------


async def _after(db: Database, clock: FakeClock) -> int:
    return await run_job("after-activity", db.uow, clock)


async def test_after_the_end_attendees_get_the_volunteer_survey_and_staff_the_beneficiary_one(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=4, staff=2)
    signups = [await committed_signup(db, clock, actor, s.activity_id) for actor in s.volunteers]
    # 0 checks in by location, 1 is marked present by staff, 2 is marked absent, 3 never comes.
    clock.set(s.starts_at - timedelta(minutes=10))
    async with db.uow() as uow:
        await attend(uow, clock, Policy(), s.volunteers[0], signups[0], Proof(*VENUE))
        await uow.commit()
    clock.set(s.starts_at + HOUR)
    async with db.uow() as uow:
        await mark_attendance(uow, clock, s.staff[0], signups[1], attended=True)
        await mark_attendance(uow, clock, s.staff[0], signups[2], attended=False)
        await uow.commit()

    clock.set(s.ends_at - timedelta(minutes=1))
    assert await _after(db, clock) == 0  # not over yet
    clock.set(s.ends_at + timedelta(minutes=5))
    assert await _after(db, clock) == 2 + 2
    assert await _after(db, clock) == 0
    for n, actor in enumerate(s.volunteers):
        asked = await _notices(db, actor.user_id, "after.")
        if n < 2:
            [notice] = asked
            assert notice.key == f"after.vsurvey:{signups[n]}"
            assert notice.choices == [["reminder.button.vsurvey", f"vsurvey:{s.activity_id}"]]
        else:
            assert asked == []
    for staff in s.staff:
        [notice] = await _notices(db, staff.user_id, "after.")
        assert notice.key == f"after.bsurvey:{s.activity_id}:{staff.user_id}"
        assert notice.choices == [
            ["matching.button.survey", f"sv.l:{s.activity_id}"],
            ["reminder.button.stats", f"stats:{s.activity_id}"],
        ]

    messenger = RecordingMessenger()
    await _dispatch(db, clock, messenger)
    over = [(to, say) for to, say in messenger.sent if say.text.startswith("活动结束")]
    assert len(over) == 2 + 2
    [say] = [say for to, say in over if to == s.chats[0]]
    assert say.text.startswith("活动结束：感谢您参加“社区科普讲座”（2026-12-11 09:00）！\n")
    assert "志愿者满意度调查（CVST 3-8.1.2.2），共 3 题" in say.text
    assert [c.label for c in say.choices] == ["📝 填写调查"]
    told = next(say for to, say in over if to not in s.chats)
    text = told.text
    assert [c.label for c in told.choices] == ["📋 满意度调查", "调查结果"]
    assert text.startswith("活动结束：“社区科普讲座”已于 2026-12-11 12:00 结束。\n")
    assert "选择下方的“📋 满意度调查”" in text and f"/stats act-{s.activity_id}" in text


async def test_a_volunteer_who_answered_on_site_is_not_asked_again(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at + HOUR)
    async with db.uow() as uow:
        await mark_attendance(uow, clock, s.staff[0], signup_id, attended=True)
        assert await uow.surveys.first_answer(s.activity_id, SurveyKind.VOLUNTEER, s.volunteers[0].user_id)
        await uow.commit()
    clock.set(s.ends_at + HOUR)
    assert await _after(db, clock) == 1  # the staff only
    assert await _notices(db, s.volunteers[0].user_id, "after.") == []


async def test_activities_ended_over_a_week_ago_or_cancelled_are_left_alone(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await committed_signup(db, clock, s.volunteers[0], s.activity_id)
    clock.set(s.starts_at + HOUR)
    async with db.uow() as uow:
        await mark_attendance(uow, clock, s.staff[0], signup_id, attended=True)
        await uow.commit()
    clock.set(s.ends_at + 7 * DAY + timedelta(minutes=1))  # the job was down all week
    assert await _after(db, clock) == 0
    clock.set(s.ends_at + 7 * DAY - timedelta(minutes=1))  # inside the week: caught up
    assert await _after(db, clock) == 2

    cancelled = await _setting(db, clock, n=0, org_name="西城区科普志愿服务队")
    async with db.uow() as uow:
        await cancel_activity(uow, clock, cancelled.staff[0], cancelled.activity_id, "场地维修")
        await uow.commit()
    clock.set(cancelled.ends_at + HOUR)
    assert await _after(db, clock) == 0


# ---- the jobs --------------------------------------------------------------------------------------


async def test_register_jobs_adds_every_job_once_and_again_replaces_them(
    db: Database, clock: FakeClock
) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    services: dict[str, Any] = {
        "uows": db.uow,
        "clock": clock,
        "messengers": {},
        "translators": translator,
        "policy": Policy(),
        "pacer": Pacer(clock),
    }
    register_jobs(scheduler, **services)
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, **services)  # a restart's registration: replaced, not added
        jobs = scheduler.get_jobs()
        assert sorted(j.id for j in jobs) == sorted(JOB_IDS)
        assert len(JOB_IDS) == len(set(JOB_IDS))
        assert {"reminders-queue", "after-activity", "outbox-dispatch", "stars-review"} <= set(JOB_IDS)
        for job in jobs:
            assert (job.max_instances, job.coalesce) == (1, True), job.id
            assert job.misfire_grace_time >= 60, job.id
        dispatch = scheduler.get_job("outbox-dispatch")
        assert dispatch is not None and isinstance(dispatch.kwargs["pacer"], Pacer)
    finally:
        scheduler.shutdown(wait=False)


# ---- end to end, through the real Telegram webhook -------------------------------------------------

VOLUNTEER = Person(id=5_400_000_001, first_name="志愿者", language_code="zh-hans")
STAFF = Person(id=5_400_000_009, first_name="组织者", language_code="zh-hans")


@pytest.fixture
def chat(app_client: TestClient, fake_telegram: FakeTelegramAPI, clock: FakeClock):
    updates = TelegramUpdates(clock=clock)
    return lambda person: Chat(app_client, fake_telegram, person, updates)


async def _telegram_world(db: Database, clock: FakeClock) -> tuple[int, datetime, datetime]:
    """An org with its staff on Telegram, an activity ten days ahead at VENUE, and the volunteer, on
    Telegram too, confirmed on it."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "海淀区科普志愿服务队")
        staff_user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), staff_user.id, Role.ORG_STAFF, org.id)
        staff = await load_actor(uow, staff_user.id)
        activity = await make_activity(uow, clock, staff, org.id, title="中关村科普讲解")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(VOLUNTEER.id), language="zh_CN")
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(
            name="李志愿", phone="13900001111", region="北京市海淀区", birth_date=date(1990, 5, 17)
        )
        await register_volunteer(uow, clock, user.id, form, policy=Policy())
        await sign_up(uow, clock, await load_actor(uow, user.id), activity.id)
        await uow.commit()
    return activity.id, activity.starts_at, activity.ends_at


async def test_the_volunteer_is_reminded_checks_in_from_the_reminder_and_answers_the_survey(
    db: Database, clock: FakeClock, chat, app_client: TestClient, fake_telegram: FakeTelegramAPI
) -> None:
    activity_id, starts, ends = await _telegram_world(db, clock)
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    services = app_client.app[SERVICES]

    async def deliver() -> None:
        await dispatch_due(db.uow, clock, services.messengers, translator)
        volunteer.last = volunteer.new_messages()
        staff.last = staff.new_messages()

    clock.set(starts - 2 * HOUR)
    await run_job("reminders-queue", db.uow, clock, services.conversation.policy)
    await deliver()
    [reminder] = [m for m in volunteer.last if m["text"].startswith("活动提醒")]
    assert reminder["text"].startswith("活动提醒：“中关村科普讲解”将于 2026-12-11 09:00 开始。\n")
    assert "到达后在菜单点 📍 签到/签退 或直接发送位置，签到在开始前 60 分钟开放" in reminder["text"]
    volunteer.last = [reminder]

    clock.set(starts - timedelta(minutes=20))  # on site, from the reminder's button
    assert "发送" in await volunteer.press("签到")
    text = await volunteer.share_location(VENUE[0] + 0.0003, VENUE[1])
    assert "✅ 签到成功：“中关村科普讲解”" in text
    clock.set(ends)
    assert "✅ 签退成功" in await volunteer.share_location(VENUE[0] + 0.0003, VENUE[1])

    clock.set(ends + timedelta(minutes=5))
    assert await run_job("after-activity", db.uow, clock) == 2
    await deliver()
    [survey] = volunteer.last
    assert survey["text"].startswith("活动结束：感谢您参加“中关村科普讲解”（2026-12-11 09:00）！")
    text = await volunteer.press("填写调查")
    assert "“中关村科普讲解”志愿者满意度调查（CVST 3-8.1.2.2）" in text and "（1/3）" in text
    assert "（2/3）" in await volunteer.press("5 非常满意")
    assert "（3/3）" in await volunteer.press("4 满意")
    await volunteer.press("5 非常满意")
    assert "感谢" in await volunteer.press("跳过")
    async with db.uow() as uow:
        [response] = await uow.surveys.for_activity(activity_id)
        assert (response.kind, response.answers) == (
            SurveyKind.VOLUNTEER,
            {"training": 5, "gain": 4, "identification": 5},
        )

    [told] = staff.last
    assert told["text"].startswith("活动结束：“中关村科普讲解”已于 2026-12-11 12:00 结束。")
    assert "选择下方的“📋 满意度调查”" in told["text"]
    photos_before = len(fake_telegram.calls("sendPhoto"))
    # The same card as on the activity: the link to pass on, and its QR code to show on site.
    assert f"start=survey-{activity_id}" in await staff.press("满意度调查")
    [photo] = fake_telegram.calls("sendPhoto")[photos_before:]
    assert f"start=survey-{activity_id}" in photo.params["caption"]
