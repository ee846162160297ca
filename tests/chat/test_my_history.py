"""我的活动 after the end: the latest ended activities a volunteer held a place at open as cards, and
the card of an ended activity offers what is left for them to do: see their hours, answer the
volunteer survey sent to them, ask for make-up hours within the period (2-6.3 c), complain; older
ones stay lines of text. Nothing is offered that would be refused."""

from __future__ import annotations

from datetime import timedelta

from core.domain.activity import Activity
from core.domain.codes import Channel
from core.domain.people import Actor, ChannelIdentity
from core.domain.survey import QUESTIONS, SurveyKind
from core.policy import Policy
from core.services.attendance import staff_check
from core.services.records import confirm_records, void_record
from core.services.reminders import queue_after_activity
from storage.database import Database
from tests.builders import committed_signup, make_activity, make_org, make_volunteer
from tests.chat.conftest import ChatUser
from tests.fakes.clock import FakeClock

CAME = "机器人编程体验课"
MISSED = "社区天文观测夜"
DAYS = Policy().makeup_within_days


async def _activity(db: Database, clock: FakeClock, org_id: int, title: str, days: int) -> Activity:
    """Published by the platform, ``days`` from now, 09:00-12:00 where it is held."""
    async with db.uow() as uow:
        start = clock.now() + timedelta(days=days)
        activity = await make_activity(
            uow,
            clock,
            Actor.system(),
            org_id,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
        )
        await uow.commit()
    return activity


async def _world(db: Database, clock: FakeClock, wechat: str | None = None) -> tuple[str, Activity, Activity]:
    """A volunteer signed up for two activities: checked in and out of the first (hours confirmed, the
    survey sent), never came to the second. Their Telegram id (or ``wechat``, their WeChat openid)."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "海淀区青少年科技志愿服务队")
        _, actor = await make_volunteer(uow, clock, org_id=org.id, name="张晓雨")
        assert actor.user_id is not None
        identity = (await uow.identities.for_user(actor.user_id))[0].external_id
        if wechat is not None:
            await uow.identities.add(ChannelIdentity(Channel.WECHAT, wechat, actor.user_id, clock.now()))
            identity = wechat
        await uow.commit()
    assert org.id is not None
    came = await _activity(db, clock, org.id, CAME, 10)
    missed = await _activity(db, clock, org.id, MISSED, 12)
    came_signup = await committed_signup(db, clock, actor, came.id or 0)
    await committed_signup(db, clock, actor, missed.id or 0)
    for moment in (came.starts_at, came.ends_at):  # staff check the volunteer in, then out
        clock.set(moment)
        async with db.uow() as uow:
            done = await staff_check(uow, clock, Policy(), Actor.system(), came_signup)
            await uow.commit()
    assert done.record is not None and done.record.id is not None
    async with db.uow() as uow:
        await confirm_records(uow, clock, Policy(), Actor.system(), [done.record.id])
        clock.set(came.ends_at + timedelta(hours=1))
        await queue_after_activity(uow, clock)  # 3-8.1.2.2: the survey, to those who came
        await uow.commit()
    clock.set(missed.ends_at + timedelta(days=1))
    return identity, came, missed


async def test_an_attended_activity_opens_from_my_activities_with_its_hours_and_survey(
    db, clock, chat_user
) -> None:
    telegram_id, _, _ = await _world(db, clock)
    user: ChatUser = chat_user(telegram_id)
    await user.text("/my")
    assert "最近结束的活动（点击查看服务时长、申请补录或投诉）：" in user.texts()
    assert "历史记录" not in user.texts()  # both are cards now, no line of text repeats them
    assert user.buttons() == [
        f"2026-12-13 {MISSED}（未签到）",
        f"2026-12-11 {CAME}（已参加）",
        "找活动",
        "主菜单",
    ]
    await user.press(CAME)
    said = user.texts()
    assert f"【{CAME}】（已结束）" in said
    assert "我的报名：已参加" in said and "我的服务时长：3.0 小时（已确认）" in said
    assert "补录" not in said and "不再接受报名" not in said
    assert user.buttons() == ["📝 填写调查", "投诉", "我的活动", "主菜单"]
    await user.press("投诉")
    assert "投诉" in user.texts() and CAME in user.texts()  # the complaint about it is asked, not refused
    await user.text("/my")
    await user.press(CAME)
    await user.press("填写调查")
    assert f"“{CAME}”志愿者满意度调查" in user.texts()
    for _ in QUESTIONS[SurveyKind.VOLUNTEER]:
        await user.press("5 非常满意")
    await user.press("跳过")
    await user.text("/my")
    await user.press(CAME)
    assert user.buttons() == ["投诉", "我的活动", "主菜单"]  # answered: once is all


async def test_a_missed_activity_offers_make_up_hours_within_the_period(db, clock, chat_user) -> None:
    telegram_id, _, missed = await _world(db, clock)
    user: ChatUser = chat_user(telegram_id)
    await user.text("/my")
    await user.press(MISSED)
    said = user.texts()
    assert f"【{MISSED}】（已结束）" in said
    assert "我的报名：未签到" in said and "我的服务时长：没有记录。" in said
    assert f"可以在活动结束后 {DAYS} 天内申请补录" in said
    assert user.buttons() == ["申请补录", "投诉", "我的活动", "主菜单"]
    await user.press("申请补录")
    assert f"“{MISSED}”计划时间 09:00–12:00" in user.texts()  # the request is taken: its first question
    await user.text("09:00-11:30")
    await user.text("签到时手机没有信号")
    await user.text("跳过")
    assert "补录申请已提交" in user.texts()
    await user.text("/my")
    await user.press(MISSED)
    assert "您的补录申请正在等待组织方审核" in user.texts()
    assert user.buttons() == ["投诉", "我的活动", "主菜单"]  # a second request would be refused


async def test_a_voided_record_says_why_and_make_up_hours_can_be_asked_for(db, clock, chat_user) -> None:
    telegram_id, came, _ = await _world(db, clock)
    async with db.uow() as uow:
        (record,) = await uow.records.for_activity(came.id or 0)
        await void_record(uow, clock, Policy(), Actor.system(), record.id or 0, "签退时间录错")
        await uow.commit()
    user: ChatUser = chat_user(telegram_id)
    await user.text("/my")
    await user.press(CAME)
    said = user.texts()
    assert "我的服务时长：3.0 小时（已作废，原因：签退时间录错）" in said
    assert f"可以在活动结束后 {DAYS} 天内申请补录" in said
    assert user.buttons() == ["📝 填写调查", "申请补录", "投诉", "我的活动", "主菜单"]


async def test_an_activity_older_than_the_make_up_period_offers_no_make_up(db, clock, chat_user) -> None:
    telegram_id, _, missed = await _world(db, clock)
    user: ChatUser = chat_user(telegram_id)
    clock.set(missed.ends_at + timedelta(days=DAYS) - timedelta(minutes=1))
    await user.text("/my")
    await user.press(MISSED)
    assert "申请补录" in user.buttons()  # the last minute of the period
    clock.set(missed.ends_at + timedelta(days=DAYS, minutes=1))
    await user.text("/my")
    await user.press(MISSED)
    said = user.texts()
    assert "我的服务时长：没有记录。" in said
    assert f"补录须在活动结束后 {DAYS} 天内申请，这个活动已过了期限" in said  # why, and where to turn
    assert user.buttons() == ["投诉", "我的活动", "主菜单"]


async def test_only_the_latest_five_ended_activities_are_cards_the_rest_are_text(
    db, clock, chat_user
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "朝阳区科普志愿服务队")
        _, actor = await make_volunteer(uow, clock, org_id=org.id, name="刘一凡")
        telegram_id = (await uow.identities.for_user(actor.user_id or 0))[0].external_id
        await uow.commit()
    activities = [await _activity(db, clock, org.id or 0, f"科普讲座第{n}讲", 10 + n) for n in range(1, 8)]
    for activity in activities:
        await committed_signup(db, clock, actor, activity.id or 0)
    clock.set(activities[-1].ends_at + timedelta(days=1))
    user: ChatUser = chat_user(telegram_id)
    await user.text("/my")
    cards = [label for label in user.buttons() if "科普讲座" in label]
    assert cards == [f"2026-12-{18 - n} 科普讲座第{7 - n}讲（未签到）" for n in range(5)]
    assert (
        "历史记录：\n· 2026-12-13 科普讲座第2讲（未签到）\n· 2026-12-12 科普讲座第1讲（未签到）"
        in user.texts()
    )


async def test_on_wechat_the_ended_activities_are_numbered_options(db, clock, chat_user) -> None:
    openid, _, _ = await _world(db, clock, wechat="oHistory0000000000000000001")
    user: ChatUser = chat_user(openid, channel=Channel.WECHAT)
    await user.text("/my")
    assert "最近结束的活动（回复编号查看服务时长、申请补录或投诉）：" in user.texts()
    await user.text("1")  # the first option: the activity ended last
    assert f"【{MISSED}】（已结束）" in user.texts() and "申请补录" in user.buttons()


async def test_past_the_listed_lines_my_activities_says_how_many_more(db, clock, chat_user) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "西城区科普志愿服务队")
        _, actor = await make_volunteer(uow, clock, org_id=org.id, name="陈思远")
        telegram_id = (await uow.identities.for_user(actor.user_id or 0))[0].external_id
        await uow.commit()
    # 5 cards, then 17 lines of which 15 are listed.
    activities = [await _activity(db, clock, org.id or 0, f"科学小实验{n}", n) for n in range(1, 23)]
    for activity in activities:
        await committed_signup(db, clock, actor, activity.id or 0)
    clock.set(activities[-1].ends_at + timedelta(days=1))
    user: ChatUser = chat_user(telegram_id)
    await user.text("/my")
    assert len([label for label in user.buttons() if "科学小实验" in label]) == 5
    history = user.texts().split("历史记录：")[1]
    assert history.count("\n· ") == 15
    assert "……另有 2 条更早的记录未列出。" in history and "科学小实验1（" not in history
