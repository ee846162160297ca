"""The organizer in chat: publish step by step with validation (3-6.1.5, 4-5.1.1), sign-ups,
manual attendance (2-7.5.2), export, cancel with a reason that reaches the volunteers."""

from __future__ import annotations

from core.chat.messages import Document
from core.domain.activity import ActivityStatus
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.domain.signup import SignupStatus
from core.services.users import ensure_user, grant_role
from tests.builders import make_activity, make_org, make_volunteer


async def _staff(db, clock, external_id: str, org_name: str = "南京市鼓楼区科技志愿服务队") -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, org_name)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, external_id)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return org.id


async def test_publish_an_activity_step_by_step_with_validation(db, clock, chat_user) -> None:
    org_id = await _staff(db, clock, "3001")
    staff = chat_user("3001")
    await staff.text("/organizer")
    await staff.press("发布新活动")
    assert "活动名称" in staff.texts()
    await staff.text("老年人智能手机课堂")
    await staff.press("健康助老类")
    await staff.press("科技助老")
    await staff.press("线下")
    await staff.text("明天上午")
    assert "2026-12-08 09:00" in staff.texts()  # the refusal shows the expected format: a week ahead
    await staff.text("2026-11-20 09:00")
    assert "已经过去" in staff.texts()
    await staff.text("2026-12-10 09:00")
    await staff.text("08:00")
    assert "结束时间必须晚于开始时间" in staff.texts()
    await staff.text("11:30")
    await staff.press("其他地点")
    await staff.text("鼓楼区社区服务中心，南京市鼓楼区中山路 1 号")
    await staff.text("95,200")
    assert "超出范围" in staff.texts()
    await staff.location(32.0603, 118.7969)
    await staff.text("很多")
    assert "1 到 10000" in staff.texts()
    await staff.text("12")
    await staff.text("帮助老人使用健康码和挂号")
    await staff.text("讲解 40 分钟，手把手练习 60 分钟")
    await staff.text("社区老人约 40 人")
    await staff.text("午餐、志愿者马甲")
    await staff.text("无")
    await staff.press("中")
    await staff.text("老人行动不便，注意防跌倒")
    await staff.press("否")
    assert "老年人智能手机课堂" in staff.texts() and "名额：12" in staff.texts()
    await staff.press("立即发布")
    assert "已发布" in staff.texts()
    async with db.uow() as uow:
        (activity,) = await uow.activities.search(_org_query(org_id))
        assert activity.status is ActivityStatus.PUBLISHED
        assert activity.capacity == 12 and activity.risks.startswith("老人行动不便")
        assert activity.starts_at.isoformat() == "2026-12-10T01:00:00+00:00"  # 09:00 in Asia/Shanghai
        assert (activity.latitude, activity.longitude) == (32.0603, 118.7969)


def _org_query(org_id: int):
    from core.ports import ActivityQuery

    return ActivityQuery(statuses=frozenset(ActivityStatus), org_ids=(org_id,))


async def test_emergency_plan_is_asked_for_insured_activities(db, clock, chat_user) -> None:
    await _staff(db, clock, "3002")
    staff = chat_user("3002")
    await staff.text("/publish")
    await staff.text("城市马拉松医疗保障")
    await staff.press("生态应急类")
    await staff.press("赛会活动")
    await staff.press("线下")
    await staff.text("2026-12-20 07:00")
    await staff.text("13:00")
    await staff.press("其他地点")
    await staff.text("玄武湖公园，南京市玄武区")
    await staff.text("32.07,118.79")
    await staff.text("30")
    for answer in ("保障赛事安全", "沿途医疗点值守", "参赛跑者", "保险、餐食", "急救培训"):
        await staff.text(answer)
    await staff.press("高")
    await staff.text("人员密集、运动猝死风险")
    assert "应急预案" in staff.texts()  # 4-5.1.1; e4 needs insurance so field work is not asked
    await staff.text("每 2 公里一个医疗点，AED 随行")
    await staff.press("保存为草稿")
    assert "草稿" in staff.texts()


async def test_sign_ups_attendance_export_and_cancel(db, clock, chat_user) -> None:
    org_id = await _staff(db, clock, "3003")
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, capacity=1, title="科普讲座")
        first, first_actor = await make_volunteer(uow, clock, name="志愿者一")
        second, second_actor = await make_volunteer(uow, clock, name="志愿者二")
        from core.services.signups import sign_up

        await sign_up(uow, clock, first_actor, activity.id)
        await sign_up(uow, clock, second_actor, activity.id, join_waitlist=True)
        await uow.commit()
    staff = chat_user("3003")
    await staff.text("/organizer")
    await staff.press("本组织活动")
    await staff.press("科普讲座")
    assert "已确认 1，候补 1" in staff.texts()
    await staff.press("报名名单")
    assert "志愿者一" in staff.texts() and "138****" in staff.texts()  # not members: masked
    await staff.press("查看活动")
    await staff.press("考勤")
    await staff.press("志愿者一")
    assert "还未到签到时间" in staff.texts()  # 2-6.3 a: by hand too, only inside the check-in window
    clock.set(activity.starts_at)
    await staff.send_payload(f"oa.att:{activity.id}")
    await staff.press("志愿者一 · 签到")
    assert "🟢 志愿者一 · 签退" in staff.buttons()
    await staff.send_payload(f"oa.exp:{activity.id}")
    (document,) = [r for r in staff.last if isinstance(r, Document)]
    text = document.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "序号,姓名,手机,状态" and "志愿者一" in text and "已参加" in text
    async with db.uow() as uow:
        assert (await uow.signups.for_activity(activity.id))[0].status is SignupStatus.ATTENDED


async def test_cancel_with_reason_tells_volunteers(db, clock, chat_user) -> None:
    org_id = await _staff(db, clock, "3004")
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, capacity=5, title="田间课堂")
        volunteer, actor = await make_volunteer(uow, clock)
        from core.services.signups import sign_up

        await sign_up(uow, clock, actor, activity.id)
        await uow.commit()
    staff = chat_user("3004")
    await staff.send_payload(f"oa:{activity.id}")
    await staff.press("取消活动")
    assert "原因" in staff.texts()
    await staff.text("暴雨预警，活动延期")
    assert "已取消" in staff.texts()
    async with db.uow() as uow:
        notices = await uow.notices.for_user(volunteer.user_id)
        # The briefing queued at sign-up is withdrawn, and kept as a record.
        assert [n.message_key for n in notices] == [
            "notice.briefing",
            "notice.briefing_nudge",
            "notice.activity_cancelled",
        ]
        assert all(n.withdrawn_at is not None and n.sent_at is None for n in notices[:2])
        assert notices[2].params["reason"] == "暴雨预警，活动延期"


async def test_staff_of_another_org_cannot_manage(db, clock, chat_user) -> None:
    org_id = await _staff(db, clock, "3005")
    await _staff(db, clock, "3006", "南京市江宁区科技志愿服务队")
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, title="科普讲座")
        await uow.commit()
    outsider = chat_user("3006")
    await outsider.send_payload(f"oa:{activity.id}")
    assert "只有该组织的工作人员" in outsider.texts()
    volunteer = chat_user("3007")
    await volunteer.text("/organizer")
    assert "只有该组织的工作人员" in volunteer.texts()


async def test_editing_the_time_tells_signed_up_volunteers(db, clock, chat_user) -> None:
    org_id = await _staff(db, clock, "3008")
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, capacity=5, title="科普讲座")
        volunteer, actor = await make_volunteer(uow, clock)
        from core.services.signups import sign_up

        await sign_up(uow, clock, actor, activity.id)
        await uow.commit()
    staff = chat_user("3008")
    await staff.send_payload(f"oa:{activity.id}")
    await staff.press("修改")
    await staff.press("时间")
    await staff.text("2026-12-15 14:00")
    await staff.text("13:00")
    assert "结束时间必须晚于开始时间" in staff.texts()  # refused, asked again
    await staff.text("16:30")
    assert "已修改" in staff.texts()
    await staff.press("修改")
    await staff.press("名额")
    await staff.text("8")
    async with db.uow() as uow:
        changed = await uow.activities.get(activity.id)
        assert changed.starts_at.isoformat() == "2026-12-15T06:00:00+00:00" and changed.capacity == 8
        notices = await uow.notices.for_user(volunteer.user_id)
        # the capacity edit tells no one
        assert [n.message_key for n in notices] == [
            "notice.briefing",
            "notice.briefing_nudge",
            "notice.activity_changed",
        ]
        assert notices[1].params["start"] == "2026-12-15 14:00"
        # The briefing moves with the start: 3 days before it (3-6.1.3.2).
        assert notices[0].params["start"] == "2026-12-15 14:00"
        assert notices[0].due_at.isoformat() == "2026-12-12T06:00:00+00:00"


async def test_an_activity_at_a_base_takes_its_place_and_check_in_point(db, clock, chat_user) -> None:
    """5-4: choosing a registered base fills in the place and the coordinates."""
    from core.domain.activity import Base
    from core.domain.codes import BaseKind

    org_id = await _staff(db, clock, "3009")
    async with db.uow() as uow:
        await uow.bases.add(
            Base(
                name="南京科技馆",
                kind=BaseKind.MUSEUM,
                org_id=org_id,
                address="南京市雨花台区",
                latitude=31.98,
                longitude=118.77,
            )
        )
        await uow.commit()
    staff = chat_user("3009")
    await staff.text("/publish")
    await staff.text("场馆讲解")
    await staff.press("科普教育类")
    await staff.press("场馆讲解")
    await staff.press("线下")
    await staff.text("2026-12-12 09:00")
    await staff.text("11:00")
    await staff.press("南京科技馆")
    assert "招募多少名志愿者" in staff.texts()  # no place questions: the base answered them
    for answer in ("10", "讲解科普展品", "讲解与引导", "参观学生", "午餐", "无"):
        await staff.text(answer)
    await staff.press("低")
    await staff.press("否")
    await staff.press("立即发布")
    async with db.uow() as uow:
        (activity,) = await uow.activities.search(_org_query(org_id))
        assert (activity.place_name, activity.latitude, activity.longitude) == ("南京科技馆", 31.98, 118.77)


async def _published(db, clock, external_id: str, title: str = "田间课堂") -> tuple[int, int]:
    """A published activity with one volunteer signed up, run by the staff member external_id."""
    org_id = await _staff(db, clock, external_id)
    async with db.uow() as uow:
        activity = await make_activity(uow, clock, Actor.system(), org_id, capacity=5, title=title)
        volunteer, actor = await make_volunteer(uow, clock)
        from core.services.signups import sign_up

        await sign_up(uow, clock, actor, activity.id)
        await uow.commit()
    return activity.id, volunteer.user_id


async def _cancel_notices(db, user_id: int) -> list[str]:
    async with db.uow() as uow:
        return [
            n.message_key
            for n in await uow.notices.for_user(user_id)
            if n.message_key not in ("notice.briefing", "notice.briefing_nudge")
        ]


async def test_going_back_from_the_cancel_reason_leaves_the_activity_as_it_was(db, clock, chat_user) -> None:
    activity_id, volunteer_user = await _published(db, clock, "3010")
    staff = chat_user("3010")
    await staff.send_payload(f"oa:{activity_id}")
    await staff.press("取消活动")
    await staff.press("查看活动")  # changed their mind
    await staff.text("好的")  # no longer a reason
    assert "已取消" not in staff.texts()
    async with db.uow() as uow:
        assert (await uow.activities.get(activity_id)).status is ActivityStatus.PUBLISHED
    assert await _cancel_notices(db, volunteer_user) == []


async def test_text_after_another_part_of_the_bot_was_opened_is_no_cancel_reason(
    db, clock, chat_user
) -> None:
    """A menu click (WeChat's 我的报名 sends /my) leaves the dialog as it was; the text after it is
    not taken as the reason: nothing is cancelled, and the organizer is told so."""
    activity_id, volunteer_user = await _published(db, clock, "3011")
    staff = chat_user("3011")
    await staff.send_payload(f"oa:{activity_id}")
    await staff.press("取消活动")
    await staff.text("/my")
    await staff.text("好的")
    assert "什么也没有改变" in staff.texts() and "（招募中）" in staff.texts()
    async with db.uow() as uow:
        assert (await uow.activities.get(activity_id)).status is ActivityStatus.PUBLISHED
    assert await _cancel_notices(db, volunteer_user) == []
    await staff.press("取消活动")  # asked again, the reason is taken
    await staff.text("暴雨预警，活动延期")
    assert "已取消" in staff.texts()


async def test_text_after_leaving_an_edit_question_changes_nothing(db, clock, chat_user) -> None:
    activity_id, _ = await _published(db, clock, "3012", title="科普讲座")
    staff = chat_user("3012")
    await staff.send_payload(f"oa:{activity_id}")
    await staff.press("修改")
    await staff.press("名称")
    await staff.text("/my")
    await staff.text("你好")
    assert "什么也没有改变" in staff.texts()
    async with db.uow() as uow:
        assert (await uow.activities.get(activity_id)).title == "科普讲座"


async def test_staff_card_without_links_shows_no_bare_payload_as_the_link(db, clock, chat_user) -> None:
    activity_id, _ = await _published(db, clock, "3013")
    staff = chat_user("3013")  # no links configured
    await staff.send_payload(f"oa:{activity_id}")
    assert "田间课堂" in staff.texts()
    assert "招募链接" not in staff.texts() and f"act-{activity_id}" not in staff.texts()
