"""Needs in chat (3-6.1.1): anyone sends one, staff review it before it is published, an org takes it,
and the requester hears of each step. The contact phone is kept only encrypted."""

from __future__ import annotations

from sqlalchemy import text

from core.domain.codes import ActivityMode, Channel
from core.domain.need import NeedStatus
from core.domain.people import ConsentKind
from locales import translator
from tests.chat.people import notices_of, org_with_staff

ORG = "玄武区科普志愿服务队"
OTHER_ORG = "鼓楼区农技志愿服务队"


async def _fill_in(requester, start: str = "/start need") -> None:
    await requester.text(start)
    await requester.text("梅园街道社区卫生服务中心")
    await requester.press("同意")
    await requester.text("138 1234 5678")
    await requester.text("为社区老人讲解如何识别电信诈骗")
    await requester.press("健康助老类")
    await requester.press("科技助老")
    await requester.press("社会公众")
    await requester.text("5")
    await requester.press("完成")
    await requester.press("线下")
    await requester.text("2026-12 周末上午")
    await requester.text("梅园街道社区活动室")


async def test_anyone_sends_a_need_by_deep_link_each_answer_checked(db, clock, chat_user) -> None:
    requester = chat_user("7001")
    await requester.text("/start need")
    assert "无需注册" in requester.texts()
    assert "第 1 步" in requester.texts() and "例如" in requester.texts()
    await requester.text("梅园街道社区卫生服务中心")
    assert "仅用于安排本次服务" in requester.texts()
    await requester.press("同意")
    assert "联系电话" in requester.texts() and "例如：13812345678" in requester.texts()
    await requester.text("12345")
    assert "联系电话格式不正确" in requester.texts() and "第 3 步" in requester.texts()
    await requester.text("138 1234 5678")
    await requester.text("为社区老人讲解如何识别电信诈骗，并现场教大家使用手机挂号")
    await requester.text("health")
    assert "请点击下方的按钮" in requester.texts() and "健康助老类" in requester.buttons()
    await requester.press("健康助老类")
    await requester.press("科技助老")
    await requester.press("社会公众")
    await requester.text("很多")
    assert "1 到 500" in requester.texts() and "例如：5" in requester.texts()
    await requester.text("501")
    assert "1 到 500" in requester.texts()
    await requester.text("５人")
    await requester.press("医学")
    assert "已选 1 项" in requester.texts() and "✅ 医学" in requester.buttons()
    await requester.press("完成")
    await requester.press("线下")
    await requester.text("2026-12 周末上午")
    await requester.text("   ")
    assert "需要地点" in requester.texts()
    await requester.text("梅园街道社区活动室")
    summary = requester.texts()
    assert "志愿者人数：5" in summary and "专业要求：医学" in summary and "科技助老" in summary
    assert "联系电话：13812345678" in summary and "任一组织" in summary
    await requester.press("提交需求")
    assert "需求已提交" in requester.texts()

    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7001")
        assert await uow.volunteers.by_user(user.id) is None  # no registration needed
        assert await uow.consents.active(user.id, ConsentKind.PRIVACY_NOTICE) is not None
        [need] = await uow.needs.for_user(user.id)
        assert need.status is NeedStatus.SUBMITTED and need.org_id is None
        assert need.phone == "13812345678" and need.volunteers_needed == 5
        assert need.expertise == ["medicine"] and need.service_objects == ["public"]
        assert need.mode is ActivityMode.OFFLINE and need.preferred_time == "2026-12 周末上午"
        raw = (await uow.session.execute(text("SELECT phone FROM needs"))).scalar_one()
    assert "13812345678" not in raw and "5678" not in raw  # encrypted at rest


async def test_online_need_skips_the_place_and_disagreeing_saves_nothing(db, clock, chat_user) -> None:
    requester = chat_user("7002", language="en")
    await requester.text("/need")
    await requester.text("Lin Hua")
    await requester.press("do not agree")
    assert "nothing was saved" in requester.texts()
    await requester.text("/need")
    await requester.text("Lin Hua")
    await requester.press("I agree")
    await requester.text("13912345678")
    await requester.text("An online Q&A on healthy diets for parents")
    await requester.press("Health and care")
    await requester.press("Back")
    assert "area of the service" in requester.texts()
    await requester.press("Health and care")
    await requester.press("Technology help for the elderly")
    await requester.press("The public")
    await requester.text("2")
    await requester.press("Done")
    await requester.press("Online")
    await requester.text("any weekday evening")
    assert "Expertise: any" in requester.texts() and "Place: -" in requester.texts()
    await requester.press("Submit need")
    assert "Your need was sent" in requester.texts()
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7002")
        [need] = await uow.needs.for_user(user.id)
        assert need.place == "" and need.expertise == [] and need.mode is ActivityMode.ONLINE


async def test_staff_approve_an_org_takes_it_and_the_requester_is_told(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "7101", ORG)
    requester = chat_user("7003")
    await _fill_in(requester, f"/start need-{org_id}")
    assert f"提交给：{ORG}" in requester.texts()
    await requester.press("提交需求")
    [told] = await notices_of(db, "7101")
    assert told.message_key == "notice.need_submitted" and told.choices[0][1].startswith("nd.o:")

    staff = chat_user("7101")
    await staff.text("/needs")
    assert "待处理的需求（1 项）" in staff.texts()
    await staff.press("梅园街道")
    assert "待审核" in staff.texts() and "138****5678" in staff.texts()  # reviewers see it masked
    assert "13812345678" not in staff.texts()
    await staff.press("通过")
    assert "已通过审核" in staff.texts()
    [approved] = await notices_of(db, "7003")
    assert approved.message_key == "notice.need_approved"
    await staff.press(f"以“{ORG}”承接")
    assert "已承接需求" in staff.texts() and "13812345678" in staff.texts()  # the taker arranges it
    notices = await notices_of(db, "7003")
    assert [n.message_key for n in notices] == ["notice.need_approved", "notice.need_taken"]
    assert ORG in translator("zh_CN")(notices[1].message_key, **notices[1].params)
    await staff.press("关闭需求")
    assert "已关闭" in staff.texts()
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7003")
        [need] = await uow.needs.for_user(user.id)
        assert need.status is NeedStatus.CLOSED and need.taken_by_org == org_id
        need_id = need.id
    assert (await notices_of(db, "7003"))[-1].message_key == "notice.need_closed"
    await staff.send_payload(f"nd.a:{need_id}")  # an old button pressed again
    assert "已经审核过了" in staff.texts()


async def test_reject_asks_for_the_reason_and_the_requester_is_told_it(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "7102", ORG)
    requester = chat_user("7004")
    await _fill_in(requester, f"/start need-{org_id}")
    await requester.press("提交需求")
    staff = chat_user("7102")
    await staff.text("/needs")
    await staff.press("梅园街道")
    await staff.press("驳回")
    assert "原因" in staff.texts() and "例如" in staff.texts()
    await staff.text("  ")
    assert "必须写明原因" in staff.texts()
    await staff.text("本组织暂无医学专业志愿者")
    assert "已驳回" in staff.texts()
    [rejected] = await notices_of(db, "7004")
    assert rejected.message_key == "notice.need_rejected"
    assert "本组织暂无医学专业志愿者" in translator("zh_CN")(rejected.message_key, **rejected.params)


async def test_staff_of_another_org_do_not_see_a_need_addressed_elsewhere(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "7103", ORG)
    await org_with_staff(db, clock, "7104", OTHER_ORG)
    requester = chat_user("7005")
    await _fill_in(requester, f"/start need-{org_id}")
    await requester.press("提交需求")
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7005")
        [need] = await uow.needs.for_user(user.id)
        need_id = need.id

    other = chat_user("7104")
    await other.text("/needs")
    assert "没有待处理的需求" in other.texts()
    await other.send_payload(f"nd.o:{need_id}")
    assert "只有需求所指定组织的工作人员" in other.texts() and "梅园街道" not in other.texts()
    await other.send_payload(f"nd.a:{need_id}")
    assert "只有需求所指定组织的工作人员" in other.texts()
    async with db.uow() as uow:
        assert (await uow.needs.get(need_id)).status is NeedStatus.SUBMITTED

    # A need addressed to no org is open to every org's staff.
    await _fill_in(chat_user("7006"))
    await chat_user("7006").send_payload("f.submit")
    await other.text("/needs")
    assert "待处理的需求（1 项）" in other.texts()


async def test_needs_list_is_for_staff_only(db, clock, chat_user) -> None:
    someone = chat_user("7007")
    await someone.text("/needs")
    assert "只有该组织的工作人员" in someone.texts()


async def test_need_form_works_on_a_numbered_channel(db, clock, chat_user) -> None:
    requester = chat_user("wx-7008", channel=Channel.WECHAT)
    await requester.text("/start need")
    await requester.text("梅园街道社区卫生服务中心")
    await requester.text("1")  # 1. 同意
    assert "例如：13812345678" in requester.texts()


async def test_a_text_after_leaving_the_rejection_question_rejects_nothing(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "7105", ORG)
    requester = chat_user("7006")
    await _fill_in(requester, f"/start need-{org_id}")
    await requester.press("提交需求")
    staff = chat_user("7105")
    await staff.text("/needs")
    await staff.press("梅园街道")
    await staff.press("驳回")
    await staff.text("/find")  # something else opened; the question is no longer the last thing asked
    await staff.text("本组织暂无医学专业志愿者")
    assert "已驳回" not in staff.texts()
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7006")
        [need] = await uow.needs.for_user(user.id)
        assert need.status is NeedStatus.SUBMITTED


async def test_a_landline_with_its_area_code_is_a_contact_and_nonsense_is_refused(
    db, clock, chat_user
) -> None:
    requester = chat_user("7009")
    await requester.text("/need")
    await requester.text("梅园街道新村社区居委会")
    await requester.press("同意")
    assert "座机号" in requester.texts() and "025-83331234" in requester.texts()
    await requester.text("请打居委会")
    refusal = requester.texts()
    assert "联系电话格式不正确" in refusal and "13812345678" in refusal and "025-83331234" in refusal
    await requester.text("8333 1234")
    assert "请加上区号" in requester.texts() and "第 3 步" in requester.texts()
    await requester.text("025 8333 1234 转 801")
    assert "第 4 步" in requester.texts()
    for answer in ("为社区老人讲解防诈骗", "健康助老类", "科技助老", "社会公众"):
        await (requester.text(answer) if answer.startswith("为") else requester.press(answer))
    await requester.text("5")
    await requester.press("完成")
    await requester.press("线下")
    await requester.text("2026-12 周末上午")
    await requester.text("梅园街道社区活动室")
    assert "联系电话：025-83331234-801" in requester.texts()
    await requester.press("提交需求")
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7009")
        [need] = await uow.needs.for_user(user.id)
        assert need.phone == "025-83331234-801"


async def test_every_question_of_the_need_form_offers_cancel(db, clock, chat_user) -> None:
    requester = chat_user("7010")
    await requester.text("/need")
    await requester.text("梅园街道社区卫生服务中心")
    await requester.press("同意")
    for answer in ("13812345678", "为社区老人讲解防诈骗"):
        assert "取消" in requester.buttons()
        await requester.text(answer)
    for answer in ("健康助老类", "科技助老", "社会公众"):
        assert "取消" in requester.buttons()
        await requester.press(answer)
    assert "第 8 步" in requester.texts() and requester.buttons() == ["取消"]
    await requester.text("5")
    assert "第 9 步" in requester.texts() and "取消" in requester.buttons()
    await requester.press("取消")
    assert "没有保存" in requester.texts()
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7010")
        assert await uow.needs.for_user(user.id) == []


async def test_one_answer_is_changed_at_the_summary_without_the_others(db, clock, chat_user) -> None:
    requester = chat_user("7011")
    await _fill_in(requester)
    assert "修改" in requester.buttons()
    await requester.press("修改")
    assert "要修改哪一项" in requester.texts() and "服务地点" in requester.buttons()
    await requester.press("返回核对")
    assert "请核对需求内容" in requester.texts()

    await requester.press("修改")
    await requester.press("联系电话")
    assert "第 3 步" in requester.texts() and "025-83331234" in requester.texts()
    await requester.text("025-83331234")
    summary = requester.texts()
    assert "联系电话：025-83331234" in summary and "需求方：梅园街道社区卫生服务中心" in summary
    assert "志愿者人数：5" in summary and "服务地点：梅园街道社区活动室" in summary

    await requester.press("修改")
    await requester.press("服务内容")  # asked within its area again: the area, then the kind
    await requester.press("科普教育类")
    assert "科普讲座" in requester.buttons()
    await requester.press("科普讲座")
    assert "服务内容：科普讲座" in requester.texts()

    await requester.press("修改")
    await requester.press("服务方式")
    await requester.press("线上")  # online: the place drops out
    assert "服务方式：线上" in requester.texts() and "服务地点：-" in requester.texts()
    await requester.press("修改")
    assert "服务地点" not in requester.buttons()
    await requester.press("服务方式")
    await requester.press("线下")  # offline again: the place is asked, then the summary
    assert "服务地点" in requester.texts() and "第 12 步" in requester.texts()
    await requester.text("梅园街道社区服务中心二楼")
    assert "服务地点：梅园街道社区服务中心二楼" in requester.texts()

    await requester.press("修改")
    await requester.press("专业要求")
    assert "✅ " not in " ".join(requester.buttons())  # none was picked before
    await requester.press("医学")
    await requester.press("完成")
    assert "专业要求：医学" in requester.texts()
    await requester.press("提交需求")
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7011")
        [need] = await uow.needs.for_user(user.id)
        assert need.phone == "025-83331234" and need.service_content.value == "c2"
        assert need.mode is ActivityMode.OFFLINE and need.place == "梅园街道社区服务中心二楼"
        assert need.expertise == ["medicine"] and need.volunteers_needed == 5


async def test_the_need_form_reads_right_on_a_numbered_channel(db, clock, chat_user) -> None:
    """Nothing to tap on WeChat: every instruction says to reply; a number stays the volunteers'
    count; several numbers pick several fields of expertise; 修改 works by its number too."""
    requester = chat_user("wx-7012", channel=Channel.WECHAT)
    said: list[str] = []

    async def reply(text: str) -> None:
        await requester.text(text)
        said.append(requester.texts())

    await reply("/need")
    await reply("梅园街道社区卫生服务中心")
    await reply("1")  # 同意
    await reply("025-83331234")
    await reply("为社区老人讲解如何识别电信诈骗")
    await reply("2")  # the second area
    back = next(i for i, label in enumerate(requester.buttons(), 1) if "返回" in label)
    await reply(str(back))
    assert "第 5 步" in requester.texts()
    group = next(i for i, label in enumerate(requester.buttons(), 1) if label == "健康助老类")
    await reply(str(group))
    await reply("1")  # the first kind of the area
    await reply("1")  # the first kind of people served
    assert "第 8 步" in requester.texts() and requester.buttons() == []
    assert "发送“取消”" in requester.texts()
    await reply("1")  # one volunteer: a number, not an option
    assert "第 9 步" in requester.texts() and "可一次回复多个" in requester.texts()
    await reply("1,2")
    assert "已选 2 项" in requester.texts()
    await reply(str(requester.buttons().index("完成 ✔") + 1))
    await reply(str(requester.buttons().index("线下") + 1))
    await reply("2026-12 周末上午")
    await reply("梅园街道社区活动室")
    assert "志愿者人数：1" in requester.texts() and requester.buttons()[:3] == ["提交需求", "修改", "取消"]
    await reply("2")  # 修改
    await reply(str(requester.buttons().index("志愿者人数") + 1))
    await reply("3")
    assert "志愿者人数：3" in requester.texts() and "联系电话：025-83331234" in requester.texts()
    await reply("1")  # 提交需求
    assert "需求已提交" in requester.texts()
    for message in said:
        assert "点“" not in message and "点击" not in message, message
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.WECHAT, "wx-7012")
        [need] = await uow.needs.for_user(user.id)
        assert need.volunteers_needed == 3 and len(need.expertise) == 2
