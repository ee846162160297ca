"""What volunteers and staff see follows the activity's time: 进行中 from its start, 已结束 from its
end; an ended activity offers no sign-up, no cancelling and no editing, and says so when a button
shown before the end is pressed; a call for volunteers only while places are left before the start;
the sign-up list says each volunteer's standing once; the sign-up reply says when the briefing comes."""

from __future__ import annotations

from datetime import timedelta

from core.domain.actions import (
    AskCancelActivity,
    AskEditActivity,
    BroadcastPreview,
    BroadcastSend,
    SignUp,
    StaffCard,
)
from core.domain.activity import Activity, ActivityStatus
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from storage.database import Database
from tests.builders import committed_signup, make_activity, make_volunteer
from tests.chat.people import notices_of, org_with_staff, volunteer
from tests.fakes.clock import FakeClock

TITLE = "补录测试活动"
STAFF = "6101"


async def _activity(db: Database, clock: FakeClock, **changes: object) -> tuple[int, Activity]:
    """An org with its staff (chatting as STAFF) and a published activity: 10 days ahead, 09:00-12:00."""
    org_id = await org_with_staff(db, clock, STAFF, "海淀区科普志愿服务队")
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, title=TITLE, **changes)
        await uow.commit()
    return org_id, activity


async def _signed_up(db: Database, clock: FakeClock, activity_id: int, **options: bool) -> Actor:
    async with db.uow() as uow:
        _, actor = await make_volunteer(uow, clock)
        await uow.commit()
    await committed_signup(db, clock, actor, activity_id, **options)
    return actor


async def _status(db: Database, activity_id: int) -> ActivityStatus:
    async with db.uow() as uow:
        activity = await uow.activities.read(activity_id)
    assert activity is not None
    return activity.status


async def test_the_card_says_ongoing_from_the_start_and_ended_from_the_end(db, clock, chat_user) -> None:
    org_id, activity = await _activity(db, clock)
    user = chat_user((await volunteer(db, clock, name="王小明", org_id=org_id))[0])
    await user.text(f"/start act-{activity.id}")
    assert f"【{TITLE}】（招募中）" in user.texts() and "我要报名" in user.buttons()
    clock.set(activity.starts_at + timedelta(hours=1))
    await user.text(f"/start act-{activity.id}")
    # Sign-up stays open on the day, for those recruited on site (2-7.2).
    assert f"【{TITLE}】（进行中）" in user.texts() and "我要报名" in user.buttons()
    clock.set(activity.ends_at)
    await user.text(f"/start act-{activity.id}")
    assert f"【{TITLE}】（已结束）" in user.texts() and "（招募中）" not in user.texts()
    assert "这个活动已经结束，不再接受报名" in user.texts() and "名额：剩余" not in user.texts()
    assert "我要报名" not in user.buttons()
    assert {"我的活动", "换个条件找"} <= set(user.buttons())


async def test_sign_up_pressed_after_the_end_says_it_has_ended_and_offers_a_way_on(
    db, clock, chat_user
) -> None:
    org_id, activity = await _activity(db, clock)
    user = chat_user((await volunteer(db, clock, name="王小明", org_id=org_id))[0])
    await user.text(f"/start act-{activity.id}")  # the card, shown before the end
    clock.set(activity.ends_at + timedelta(days=1))
    await user.press("我要报名")
    assert f"“{TITLE}”已于 2026-12-11 12:00 结束，不能再报名" in user.texts()
    assert "不接受报名" not in user.texts()
    assert user.buttons() == ["找活动", "我的活动"]
    await user.press("我的活动")
    assert "报名" in user.texts()  # the way on answers


async def test_staff_see_an_ended_activity_as_ended_with_no_edit_or_cancel(db, clock, chat_user) -> None:
    _, activity = await _activity(db, clock)
    staff = chat_user(STAFF)
    await staff.text("/organizer")
    await staff.press("本组织活动")
    assert f"{TITLE}（招募中）" in " ".join(staff.buttons())
    clock.set(activity.ends_at + timedelta(hours=1))
    await staff.text("/organizer")
    await staff.press("本组织活动")
    assert f"{TITLE}（已结束）" in " ".join(staff.buttons())
    await staff.press(TITLE)
    assert f"【{TITLE}】（已结束）" in staff.texts()
    assert not {"修改", "取消活动", "广播招募", "🔎 匹配志愿者"} & set(staff.buttons())
    assert {"活动记录", "工时确认", "报名名单"} <= set(staff.buttons())


async def test_cancelling_after_the_end_is_refused_in_chat_and_the_sign_ups_stand(
    db, clock, chat_user
) -> None:
    _, activity = await _activity(db, clock)
    volunteer_actor = await _signed_up(db, clock, activity.id)
    staff = chat_user(STAFF)
    await staff.send_payload(StaffCard(activity.id).pack())
    await staff.press("取消活动")
    assert "原因" in staff.texts()
    clock.set(activity.ends_at + timedelta(hours=2))  # the reason typed only after the end
    await staff.text("录错了活动")
    assert f"“{TITLE}”已于 2026-12-11 12:00 结束，不能再取消" in staff.texts()
    assert "已取消，已通知" not in staff.texts()
    assert staff.buttons() == ["工时确认", "活动记录", "查看活动"]
    await staff.text("还是取消吧")  # the question is over: no reason any more
    assert await _status(db, activity.id) is ActivityStatus.PUBLISHED
    # A 取消活动 button of a card shown before the end: refused at once, no reason asked.
    await staff.send_payload(AskCancelActivity(activity.id).pack())
    assert "不能再取消" in staff.texts() and "原因" not in staff.texts()
    async with db.uow() as uow:
        (signup,) = await uow.signups.for_activity(activity.id)
        assert signup.status is SignupStatus.CONFIRMED
    async with db.uow() as uow:
        told = [n.message_key for n in await uow.notices.for_user(volunteer_actor.user_id)]
    assert "notice.activity_cancelled" not in told


async def test_editing_after_the_end_is_refused_in_chat(db, clock, chat_user) -> None:
    _, activity = await _activity(db, clock)
    staff = chat_user(STAFF)
    await staff.send_payload(StaffCard(activity.id).pack())
    await staff.press("修改")
    await staff.press("时间")
    clock.set(activity.ends_at + timedelta(hours=2))
    await staff.text("2026-12-20 09:00")
    await staff.text("12:00")
    assert f"“{TITLE}”已于 2026-12-11 12:00 结束，活动信息不能再修改" in staff.texts()
    assert "活动记录" in staff.buttons() and "工时确认" in staff.buttons()
    async with db.uow() as uow:
        unchanged = await uow.activities.read(activity.id)
        assert unchanged is not None and unchanged.starts_at == activity.starts_at
    await staff.send_payload(AskEditActivity(activity.id).pack())  # a 修改 shown before the end
    assert "不能再修改" in staff.texts() and "名称" not in staff.buttons()


async def test_the_sign_up_list_says_each_standing_once(db, clock, chat_user) -> None:
    _, activity = await _activity(db, clock)
    await _signed_up(db, clock, activity.id)  # 10 days ahead: to answer the briefing
    clock.set(activity.starts_at - timedelta(days=2))
    await _signed_up(db, clock, activity.id)  # inside the 3 days: the sign-up is the answer
    staff = chat_user(STAFF)
    await staff.send_payload(StaffCard(activity.id).pack())
    await staff.press("报名名单")
    lines = staff.texts().split("\n")
    assert lines[2].endswith(" ⏳ 待确认参加") and lines[3].endswith(" ✔ 已确认参加")
    assert "已确认 ⏳" not in staff.texts() and "已确认 ✔" not in staff.texts()
    clock.set(activity.starts_at + timedelta(hours=1))  # begun: attendance tells the rest
    await staff.send_payload(StaffCard(activity.id).pack())
    await staff.press("报名名单")
    lines = staff.texts().split("\n")
    assert lines[1].endswith(" 已确认") and lines[2].endswith(" 已确认") and "参加" not in staff.texts()


async def test_no_call_for_volunteers_offered_or_sent_once_full_or_begun(db, clock, chat_user) -> None:
    org_id, activity = await _activity(db, clock, capacity=2)
    member, _ = await volunteer(db, clock, name="李四", org_id=org_id)
    await _signed_up(db, clock, activity.id)
    clock.set(activity.starts_at - timedelta(minutes=15))
    staff = chat_user(STAFF)
    await staff.send_payload(StaffCard(activity.id).pack())
    assert "广播招募" in staff.buttons()  # a place left, not begun
    await staff.press("广播招募")
    assert "确定发送" in staff.buttons()
    await _signed_up(db, clock, activity.id)  # the last place goes meanwhile
    await staff.press("确定发送")
    assert f"“{TITLE}”的 2 个名额已满，不需要广播招募" in staff.texts()
    assert staff.buttons() == ["查看活动"]
    assert [n for n in await notices_of(db, member) if n.message_key == "notice.recruitment"] == []
    await staff.press("查看活动")
    assert "广播招募" not in staff.buttons()  # full: not offered
    clock.set(activity.starts_at)
    await staff.send_payload(BroadcastPreview(activity.id).pack())
    assert f"“{TITLE}”已于 2026-12-11 09:00 开始，不再广播招募" in staff.texts()
    await staff.send_payload(BroadcastSend(activity.id).pack())
    assert "不再广播招募" in staff.texts()


async def test_the_sign_up_reply_says_when_the_briefing_comes(db, clock, chat_user) -> None:
    org_id, activity = await _activity(db, clock, capacity=5)
    users = [chat_user((await volunteer(db, clock, name=f"志愿者{n}", org_id=org_id))[0]) for n in range(3)]
    await users[0].send_payload(SignUp(activity.id).pack())  # 10 days ahead
    assert "报名成功" in users[0].texts() and "活动前 3 天会发送行前说明" in users[0].texts()
    assert "行前说明（" not in users[0].texts()
    clock.set(activity.starts_at - timedelta(days=2))
    await users[1].send_payload(SignUp(activity.id).pack())
    assert "行前说明就在下面" in users[1].texts() and "行前说明（CVST 3 6.1.3.2）" in users[1].texts()
    assert "活动前 3 天会发送" not in users[1].texts()
    clock.set(activity.starts_at + timedelta(minutes=20))
    await users[2].send_payload(SignUp(activity.id).pack())
    assert f"“{TITLE}”已于 2026-12-11 09:00 开始，请尽快到场" in users[2].texts()
    assert "行前说明（CVST 3 6.1.3.2）" in users[2].texts() and "活动前 3 天" not in users[2].texts()
