"""The volunteer journeys of core.chat, channel-neutral (2-7.1 registration, sign-up, waitlist)."""

from __future__ import annotations

from core.domain.people import ConsentKind
from core.domain.signup import SignupStatus
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_volunteer
from tests.fakes.clock import FakeClock


async def _seed(db: Database, clock: FakeClock, capacity: int = 1) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, capacity=capacity, title="青少年科普讲座")
        await uow.commit()
    return activity.id


async def register(user, name: str = "张三", phone: str = "13812345678") -> None:
    await user.text("/start")
    assert "注册" in user.texts()
    await user.press("注册志愿者")
    await user.press("中文")
    assert "隐私声明" in user.texts()
    await user.press("同意")
    assert "出生日期" in user.texts()
    await user.text("1995-03-08")
    await user.text(name)
    await user.contact(phone)
    await user.press("农学")
    await user.press("完成")
    await user.press("科普讲座")
    await user.press("完成")
    assert "地区" in user.texts()
    await user.text("江苏省南京市玄武区")
    await user.press("南京市玄武区科技志愿服务队")


async def test_registration_in_chinese_records_consent_before_data(db, clock, chat_user) -> None:
    await _seed(db, clock)
    user = chat_user("7001")
    await register(user)
    assert "注册成功" in user.texts()
    assert "KJ2026" in user.texts()
    assert "已加入" in user.texts()
    async with db.uow() as uow:
        u = await uow.users.by_identity("telegram", "7001")
        volunteer = await uow.volunteers.by_user(u.id)
        consent = await uow.consents.active(u.id, ConsentKind.PRIVACY_NOTICE)
        assert volunteer.name == "张三" and volunteer.phone == "13812345678"
        assert volunteer.skills == ["agriculture"] and volunteer.service_areas == ["c2"]
        assert consent is not None and consent.granted_at <= volunteer.registered_at


async def test_declining_privacy_stores_no_personal_data(db, clock, chat_user) -> None:
    user = chat_user("7002")
    await user.text("/start")
    await user.press("注册志愿者")
    await user.press("中文")
    await user.press("不同意")
    assert "无法为您登记" in user.texts()
    async with db.uow() as uow:
        u = await uow.users.by_identity("telegram", "7002")
        assert await uow.volunteers.by_user(u.id) is None
        assert await uow.consents.for_user(u.id) == []


async def test_bad_inputs_are_refused_with_the_reason_and_asked_again(db, clock, chat_user) -> None:
    user = chat_user("7003")
    await user.text("/start")
    await user.press("注册志愿者")
    await user.press("中文")
    await user.press("同意")
    await user.text("March 8")
    assert "2000-01-31" in user.texts()
    await user.text("2000-02-30")
    assert "日历上没有 2000-02-30 这一天" in user.texts()
    await user.text("1995-03-08")
    await user.text("13812345678")  # the phone, typed one question early: not a name
    assert "不能是手机号等号码" in user.texts() and "例如：张三" in user.texts()
    await user.text("李四")
    await user.text("12345")
    assert "手机号格式不正确" in user.texts() and "13812345678" in user.texts()
    await user.contact("+86 139 1234 5678", own=False)
    assert "本人" in user.texts()
    await user.text("139-1234-5678")
    assert "专业领域" in user.texts()


async def test_under_14_needs_guardian_consent(db, clock, chat_user) -> None:
    user = chat_user("7004")
    await user.text("/start")
    await user.press("注册志愿者")
    await user.press("中文")
    await user.press("同意")
    await user.text("2015-06-01")
    assert "监护人" in user.texts()
    await user.text("王监护")
    await user.text("13700000000")
    await user.press("监护人已阅读并同意")
    assert "真实姓名" in user.texts()
    async with db.uow() as uow:
        u = await uow.users.by_identity("telegram", "7004")
        guardian = await uow.consents.active(u.id, ConsentKind.GUARDIAN)
        assert guardian.details["guardian_name"] == "王监护"


async def test_sign_up_full_waitlist_and_promotion_on_cancel(db, clock, chat_user) -> None:
    activity_id = await _seed(db, clock, capacity=1)
    first, second = chat_user("8001"), chat_user("8002")
    await register(first, "甲")
    await register(second, "乙", "13900000002")
    await first.text(f"/start act-{activity_id}")
    assert "青少年科普讲座" in first.texts() and "剩余 1 / 共 1" in first.texts()
    assert "服务类别：科普讲座" in first.texts() and "活动内容：讲座与问答" in first.texts()
    await first.press("我要报名")
    assert "报名成功" in first.texts()
    await second.text(f"/start act-{activity_id}")
    await second.press("我要报名")
    assert "名额已满" in second.texts()
    await second.press("加入候补")
    assert "第 1 位" in second.texts()
    await second.press("我的活动")
    await second.press("青少年科普讲座")
    await second.press("取消报名")
    # a place on the waitlist is not a place: leaving it frees nothing, and the question says so
    assert "确定要退出“青少年科普讲座”" in second.texts() and "候补的排位不再保留" in second.texts()
    await second.press("保留报名")
    await first.press("我的活动")
    await first.press("青少年科普讲座")
    await first.press("取消报名")
    await first.press("确定取消")
    assert "已取消" in first.texts()
    async with db.uow() as uow:
        signups = await uow.signups.for_activity(activity_id)
        assert [s.status for s in signups] == [SignupStatus.CANCELLED, SignupStatus.CONFIRMED]
        notices = await uow.notices.due(clock.now(), 10)
        assert [n.message_key for n in notices] == ["notice.promoted"]


async def test_english_user_gets_english(db, clock, chat_user) -> None:
    await _seed(db, clock)
    user = chat_user("9001", "en")
    await user.text("/start")
    await user.press("Register")
    await user.press("English")
    assert "Privacy notice" in user.texts()
    await user.press("I agree")
    await user.text("1990-01-01")
    assert "real name" in user.texts()


async def test_help_menu_and_cancel_work_from_any_step(db, clock, chat_user) -> None:
    user = chat_user("9002")
    await user.text("/start")
    await user.press("注册志愿者")
    await user.press("中文")
    await user.text("/help")
    assert "/cancel" in user.texts()
    await user.text("/cancel")
    assert "已取消当前操作" in user.texts()
    assert "找活动" in user.buttons()


async def test_find_near_me_lists_activities_by_distance(db, clock, chat_user) -> None:
    await _seed(db, clock)
    async with db.uow() as uow:
        await make_volunteer(uow, clock)
        await uow.commit()
    user = chat_user("9003")
    await user.text("/find")
    await user.press("我附近")
    await user.location(39.99, 116.31)
    assert "青少年科普讲座" in " ".join(user.buttons())
    assert "km" in " ".join(user.buttons())
    await user.text("/find")
    await user.press("我附近")
    await user.location(95.0, 10.0)
    assert "超出范围" in user.texts()
    # Typed words are no point: why, and how this channel sends one; typed coordinates are one.
    await user.text("/find")
    await user.press("我附近")
    await user.text("家附近")
    assert "没有收到位置" in user.texts() and "📍 发送我的位置" in user.texts()
    await user.text("39.99, 116.31")
    assert "青少年科普讲座" in " ".join(user.buttons())


async def test_numbered_options_on_a_channel_without_buttons(db, clock, chat_user) -> None:
    """WeChat shows choices as numbers: "2" picks the second choice offered; full-width digits too."""
    from core.domain.codes import Channel

    user = chat_user("o-wechat-1", channel=Channel.WECHAT)
    await user.text("/start")
    await user.text("1")  # 注册志愿者
    await user.text("２")  # the second language choice: English
    assert "Privacy notice" in user.texts()
    await user.text("1")
    assert "birth date" in user.texts()
    await user.text("1")  # no choices were offered with that question: "1" is text, refused as a date
    assert "2000-01-31" in user.texts()


async def test_digits_stay_text_where_buttons_exist(db, clock, chat_user) -> None:
    user = chat_user("o-telegram-1")
    await user.text("/start")
    await user.press("注册志愿者")
    await user.text("2")
    assert "请点击上方的按钮" in user.texts()


async def test_profile_is_edited_with_the_registration_questions(db, clock, chat_user) -> None:
    await _seed(db, clock)
    user = chat_user("9100")
    await register(user)
    await user.text("/profile")
    await user.press("修改资料")
    await user.press("手机号")
    await user.text("123")
    assert "手机号格式不正确" in user.texts()
    await user.text("13600001111")
    assert "已保存" in user.texts() and "13600001111" in user.texts()
    await user.press("修改资料")
    await user.press("服务意向")
    await user.press("农技推广")
    await user.press("完成")
    assert "农技推广" in user.texts()
    async with db.uow() as uow:
        u = await uow.users.by_identity("telegram", "9100")
        volunteer = await uow.volunteers.by_user(u.id)
        assert volunteer.phone == "13600001111" and volunteer.service_areas == ["c2", "b3"]
        actions = [e.action for e in await uow.audit.for_entity("volunteer", volunteer.id)]
        assert actions.count("volunteer.update") == 2
