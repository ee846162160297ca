"""The closed no-show loop (3-6.1.3.2, 3-6.1.3.3) on both databases: the briefing asks 确认参加 / 无法参加,
one nudge a day later, 无法参加 frees the place for the waitlist, a volunteer promoted close to the start
has a deadline and the next one is asked when it lapses, staff see who answered, and an activity still
short near the start offers its staff the call. Through the real Telegram webhook and the real WeChat
endpoint (safe mode, the real WeChat sender against the fake WeChat API); time moves only by the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bots.app import SERVICES
from bots.wechat.api import DatabaseTokens, WeChatApi
from bots.wechat.send import Template, WeChatMessenger
from core.domain.codes import Channel
from core.domain.people import ConsentKind
from core.domain.signup import SignupStatus
from core.errors import PermissionDenied
from core.policy import Policy
from core.services.access import load_actor
from core.services.presence import confirm_presence
from core.services.signups import cancel_signup, sign_up
from core.services.users import ensure_user
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from locales import translator
from scheduler.dispatcher import dispatch_due
from scheduler.jobs import run_job
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.wechat_api import TEST_TEMPLATE_ID, FakeWeChatAPI
from tests.integration.test_attendance_journeys import (
    STAFF,
    TITLE,
    VOLUNTEER,
    VOLUNTEER_2,
    World,
    _notices,
    _world,
    on_telegram,
)
from tests.integration.two_channels import (
    app_client,
    chat,
    mode,
    settings,
    signer,
    wechat,
)

__all__ = [
    "app_client",
    "chat",
    "mode",
    "settings",
    "signer",
    "wechat",
]  # the real app, as the attendance journeys

DAY = timedelta(days=1)
AHEAD = {"capacity": 1}  # one place, so that the waitlist matters
OPENID = "oPresence0000000000000000001"


def ten_days_on(clock: FakeClock) -> dict[str, object]:
    starts = clock.now() + 10 * DAY
    return {"starts_at": starts, "ends_at": starts + timedelta(hours=3)}


async def _world_ahead(db: Database, clock: FakeClock, *volunteers, **changes) -> World:
    """The attendance journeys' world, its activity ten days on (World.starts says when)."""
    when = ten_days_on(clock)
    world = await _world(db, clock, *volunteers, **when, **changes)
    world.starts, world.ends = when["starts_at"], when["ends_at"]  # type: ignore[assignment]
    return world


async def _deliver(db: Database, clock: FakeClock, app_client) -> int:
    return (await dispatch_due(db.uow, clock, app_client.app[SERVICES].messengers, translator)).sent


async def _status(db: Database, signup_id: int) -> tuple[SignupStatus, object, object, str | None]:
    async with db.uow() as uow:
        s = await uow.signups.get(signup_id)
        assert s is not None
        return s.status, s.presence_confirmed_at, s.answer_due_at, s.cancel_reason


async def _waitlist(db: Database, clock: FakeClock, world: World, channel: Channel, external_id: str) -> int:
    """Another registered volunteer, on the waitlist of the world's activity."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
        await give_consent(uow, clock, user.id or 0, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(name="候补者", phone="13900009999", region="江苏省南京市玄武区")
        await register_volunteer(uow, clock, user.id or 0, form, policy=Policy())
        signup = await sign_up(
            uow, clock, await load_actor(uow, user.id or 0), world.activity_id, join_waitlist=True
        )
        await uow.commit()
    assert signup.status is SignupStatus.WAITLISTED
    return signup.id or 0


# ---- Telegram: the briefing's buttons -------------------------------------------------------------


async def test_briefing_asks_and_confirming_withdraws_the_nudge(db, clock, chat, app_client) -> None:
    world = await _world_ahead(db, clock, on_telegram(VOLUNTEER))
    signup_id = world.signups[str(VOLUNTEER.id)]
    volunteer = chat(VOLUNTEER)

    clock.set(world.starts - 3 * DAY)
    assert await _deliver(db, clock, app_client) == 1
    volunteer.last = volunteer.new_messages()
    assert "行前说明" in volunteer.text and "请选择“确认参加”" in volunteer.text
    text = await volunteer.press("确认参加")
    assert f"已确认参加“{TITLE}”" in text and "签到在开始前 60 分钟开放" in text
    status, confirmed_at, _, _ = await _status(db, signup_id)
    assert status is SignupStatus.CONFIRMED and confirmed_at == clock.now()

    clock.advance(days=1)
    assert await _deliver(db, clock, app_client) == 0  # no nudge once answered
    keys = {n.key: n.withdrawn_at for n in await _notices(db, world.users[str(VOLUNTEER.id)])}
    assert keys[f"briefing.nudge:{signup_id}"] is not None

    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press(TITLE)
    text = await staff.press("报名名单")
    assert "确认参加 1 · 待确认 0 · 已取消/无法参加 0 · 候补 0" in text and "✔ 已确认参加" in text


async def test_no_answer_gets_one_nudge_a_day_later(db, clock, chat, app_client) -> None:
    world = await _world_ahead(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - 3 * DAY)
    await _deliver(db, clock, app_client)
    volunteer.new_messages()
    clock.advance(hours=23, minutes=59)
    assert await _deliver(db, clock, app_client) == 0
    clock.advance(minutes=1)
    assert await _deliver(db, clock, app_client) == 1
    [nudge] = volunteer.new_messages()
    assert nudge["text"].startswith(f"“{TITLE}”（2026-12-11 09:00）还没有收到您的回复")
    clock.advance(days=1)
    assert await _deliver(db, clock, app_client) == 0  # one nudge, not one a day

    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press(TITLE)
    assert "⏳ 待确认参加" in await staff.press("报名名单")


async def test_cannot_come_with_a_reason_promotes_the_waitlist_with_a_deadline(
    db, clock, chat, app_client
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), capacity=1)  # tomorrow: inside the 3 days
    waiting = await _waitlist(db, clock, world, Channel.TELEGRAM, str(VOLUNTEER_2.id))
    first = world.signups[str(VOLUNTEER.id)]
    assert (await _status(db, first))[1] is not None  # signing up inside the 3 days confirmed it

    volunteer = chat(VOLUNTEER)
    text = await volunteer.send(volunteer.updates.callback(f"bf.n:{first}", person=VOLUNTEER))
    assert "请写一句原因" in text and "名额会立即让给候补志愿者" in text
    text = await volunteer.say("临时出差")
    assert f"已为您取消“{TITLE}”的报名" in text
    assert (await _status(db, first))[0] is SignupStatus.CANCELLED and (await _status(db, first))[
        3
    ] == "临时出差"

    status, confirmed_at, due, _ = await _status(db, waiting)
    assert (
        status is SignupStatus.CONFIRMED and confirmed_at is None and due == clock.now() + timedelta(hours=12)
    )
    second = chat(VOLUNTEER_2)
    assert await _deliver(db, clock, app_client) == 1
    [briefing] = second.new_messages()
    assert briefing["text"].startswith("您已由候补转为正式参加！") and "前选择“确认参加”" in briefing["text"]


async def test_a_deadline_passed_in_silence_gives_the_place_to_the_next(db, clock, chat, app_client) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), capacity=1)
    second = await _waitlist(db, clock, world, Channel.TELEGRAM, str(VOLUNTEER_2.id))
    third = await _waitlist(db, clock, world, Channel.TELEGRAM, "5300000003")
    async with db.uow() as uow:
        actor = await load_actor(uow, world.users[str(VOLUNTEER.id)])
        await cancel_signup(uow, clock, actor, world.signups[str(VOLUNTEER.id)], "生病")
        await uow.commit()
    _, _, due, _ = await _status(db, second)
    assert due is not None

    clock.set(due - timedelta(minutes=1))
    assert await run_job("presence-release-unanswered", db.uow, clock) == 0
    clock.set(due)
    assert await run_job("presence-release-unanswered", db.uow, clock) == 1
    assert await run_job("presence-release-unanswered", db.uow, clock) == 0
    status, _, _, reason = await _status(db, second)
    assert status is SignupStatus.CANCELLED and reason == "未在期限内确认"
    status, _, next_due, _ = await _status(db, third)
    assert status is SignupStatus.CONFIRMED and next_due is not None

    async with db.uow() as uow:  # the third answers in time: kept
        await confirm_presence(uow, clock, await load_actor(uow, await _user_of(uow, third)), third)
        await uow.commit()
    clock.set(next_due + timedelta(hours=1))
    assert await run_job("presence-release-unanswered", db.uow, clock) == 0
    assert (await _status(db, third))[0] is SignupStatus.CONFIRMED
    await _deliver(db, clock, app_client)
    lapsed = chat(VOLUNTEER_2).new_messages()
    assert any("名额已让给下一位候补志愿者" in m["text"] for m in lapsed)


async def _user_of(uow, signup_id: int) -> int:
    signup = await uow.signups.get(signup_id)
    return await uow.volunteers.user_id_of(signup.volunteer_id)


async def test_someone_elses_briefing_button_is_refused(db, clock, chat) -> None:
    world = await _world_ahead(db, clock, on_telegram(VOLUNTEER), on_telegram(VOLUNTEER_2, "王志愿"))
    theirs = world.signups[str(VOLUNTEER.id)]
    other = chat(VOLUNTEER_2)
    text = await other.send(other.updates.callback(f"bf.y:{theirs}", person=VOLUNTEER_2))
    assert "已确认参加" not in text
    await other.send(other.updates.callback(f"bf.nn:{theirs}", person=VOLUNTEER_2))
    assert (await _status(db, theirs))[:2] == (SignupStatus.CONFIRMED, None)
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await confirm_presence(
                uow, clock, await load_actor(uow, world.users[str(VOLUNTEER_2.id)]), theirs
            )


async def test_too_few_near_the_start_offers_staff_the_call_once(db, clock, chat, app_client) -> None:
    world = await _world_ahead(db, clock, on_telegram(VOLUNTEER), capacity=3)
    clock.set(world.starts - timedelta(hours=48, minutes=1))
    assert await run_job("presence-low-turnout", db.uow, clock, Policy()) == 0
    clock.advance(minutes=1)
    assert await run_job("presence-low-turnout", db.uow, clock, Policy()) == 1
    assert await run_job("presence-low-turnout", db.uow, clock, Policy()) == 0
    staff = chat(STAFF)
    await _deliver(db, clock, app_client)
    staff.last = staff.new_messages()
    assert f"“{TITLE}”（2026-12-11 09:00）还差 2 人：已报名 1 / 需 3" in staff.text
    text = await staff.press("招募")
    assert TITLE in text


async def test_a_full_activity_or_a_waitlist_asks_for_no_call(db, clock) -> None:
    world = await _world_ahead(db, clock, on_telegram(VOLUNTEER), capacity=1)
    clock.set(world.starts - 47 * timedelta(hours=1))
    assert await run_job("presence-low-turnout", db.uow, clock, Policy()) == 0


# ---- WeChat: numbered answers to the briefing sent through the real sender ------------------------


@pytest.fixture
async def wechat_api() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api


async def test_wechat_briefing_answered_by_its_number(db, clock, app_client, wechat, wechat_api) -> None:
    world = await _world_ahead(db, clock, (Channel.WECHAT, OPENID, "李志愿"))
    tokens = DatabaseTokens(db.uow, clock, wechat_api.app_id)
    api = WeChatApi(wechat_api.app_id, wechat_api.secret, tokens, base_url=wechat_api.base_url)
    sender = WeChatMessenger(api, db.uow, clock, translator, Template.parse(TEST_TEMPLATE_ID))
    app_client.app[SERVICES].messengers[Channel.WECHAT] = sender
    user = wechat(OPENID)

    clock.set(world.starts - 3 * DAY - timedelta(hours=1))
    await user.say("你好")  # the customer-service window opens
    clock.set(world.starts - 3 * DAY)
    assert await _deliver(db, clock, app_client) == 1
    [briefing] = wechat_api.texts(OPENID)
    assert "行前说明" in briefing and "回复 1：✅ 确认参加" in briefing and "回复 2：❌ 无法参加" in briefing
    text = await user.say("2")
    assert "请写一句原因" in text and "不写原因，确认无法参加" in text
    text = await user.say("1")
    assert f"已为您取消“{TITLE}”的报名" in text
    assert (await _status(db, world.signups[OPENID]))[0] is SignupStatus.CANCELLED
    await sender.close()
