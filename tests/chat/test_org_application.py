"""Founding an org in chat (1-5.2, 1-5.3, 1-5.3.3 c) and its review by the parent org's staff (1-5.4)."""

from __future__ import annotations

from core.domain.codes import Channel, OrgKind
from core.domain.organization import OrgStatus
from core.domain.people import Actor, Role
from core.services.access import load_actor
from core.services.reviews import submit_org_application
from core.services.users import ensure_user, grant_role
from locales import translator
from tests.builders import make_org, org_form
from tests.chat.people import notices_of, org_with_staff, volunteer

PARENT = "江苏省科技志愿服务总队"


async def _apply_in_chat(applicant, name: str = "玄武区青少年科普志愿服务队") -> None:
    await applicant.text("/menu")
    await applicant.press("申请成立组织")
    assert "第 1 步" in applicant.texts() and "例如" in applicant.texts()
    await applicant.text(name)
    await applicant.press("志愿服务队")
    await applicant.press(PARENT)
    await applicant.text("科学普及")
    await applicant.press("科普讲座")
    await applicant.press("场馆讲解")
    await applicant.press("完成")
    await applicant.text("具有理工科背景，每月至少参加 1 次活动")
    await applicant.text("王队长")
    await applicant.text("138-1234-5678")
    await applicant.text("30")


async def test_forbidden_word_is_refused_naming_the_word_and_asked_again(db, clock, chat_user) -> None:
    await org_with_staff(db, clock, "6101", PARENT)
    applicant_id, _ = await volunteer(db, clock, name="赵申请")
    applicant = chat_user(applicant_id)
    await applicant.text("/neworg")
    await applicant.text("中国青少年科普志愿服务队")
    assert "不能含有“中国”" in applicant.texts()
    assert "第 1 步" in applicant.texts()  # the same question again
    await applicant.text("全 球科普志愿服务队")
    assert "“全球”" in applicant.texts()
    await applicant.text("玄武区科普志愿服务队")
    assert "组织类型" in applicant.texts()


async def test_every_step_refuses_a_bad_answer_with_the_reason(db, clock, chat_user) -> None:
    await org_with_staff(db, clock, "6102", PARENT)
    applicant_id, _ = await volunteer(db, clock, name="钱申请")
    applicant = chat_user(applicant_id)
    await applicant.text("/neworg")
    await applicant.text(PARENT)  # taken, and a 总队 is not applied for in chat
    assert "总队" in applicant.texts() and "第 1 步" in applicant.texts()
    await applicant.text("玄武区科普志愿服务队")
    await applicant.text("team")
    assert "请点击下方的按钮" in applicant.texts() and "志愿者协会" in applicant.buttons()
    await applicant.press("志愿者协会")
    await applicant.press(PARENT)
    await applicant.text("科学普及")
    await applicant.press("完成")
    assert "至少选择一项" in applicant.texts()
    await applicant.press("农技推广")
    await applicant.press("完成")
    await applicant.text("热爱科普")
    await applicant.text("王队长")
    await applicant.text("12345")
    assert "手机号格式不正确" in applicant.texts() and "13812345678" in applicant.texts()
    await applicant.text("13812345678")
    await applicant.text("很多")
    assert "1 到 100000" in applicant.texts()
    await applicant.text("0")
    assert "1 到 100000" in applicant.texts()
    await applicant.text("３０人")
    assert "成员人数：30" in applicant.texts() and "志愿者协会" in applicant.texts()
    await applicant.press("取消")
    assert "没有保存" in applicant.texts()
    async with db.uow() as uow:
        assert await uow.orgs.list(OrgStatus.APPLIED) == []


async def test_application_reaches_the_parent_staff_who_approve_it_in_chat(db, clock, chat_user) -> None:
    parent_id = await org_with_staff(db, clock, "6103", PARENT)
    applicant_id, _ = await volunteer(db, clock, name="孙申请")
    applicant = chat_user(applicant_id)
    await _apply_in_chat(applicant)
    assert "玄武区青少年科普志愿服务队" in applicant.texts() and "科普讲座、场馆讲解" in applicant.texts()
    await applicant.press("提交申请")
    assert "申请已提交" in applicant.texts()
    async with db.uow() as uow:
        org = await uow.orgs.by_name("玄武区青少年科普志愿服务队")
        assert org.status is OrgStatus.APPLIED and org.parent_id == parent_id
        assert org.service_items == ["c2", "c3"] and org.leader_contact == "13812345678"
        assert org.member_count == 30
        org_id = org.id
    [told] = await notices_of(db, "6103")
    assert told.message_key == "notice.org_applied" and told.choices == [
        ["chat.reviews.button.review", f"rev.o:{org_id}"]
    ]
    assert "玄武区青少年科普志愿服务队" in translator("zh_CN")(told.message_key, **told.params)

    staff = chat_user("6103")
    await staff.send_payload(told.choices[0][1])  # the notice's button
    assert "王队长" in staff.texts() and "科学普及" in staff.texts()
    await staff.press("通过")
    assert "已通过" in staff.texts()
    async with db.uow() as uow:
        org = await uow.orgs.get(org_id)
        assert org.status is OrgStatus.APPROVED and org.reviewed_at is not None
    [approved] = await notices_of(db, applicant_id)
    assert approved.message_key == "notice.org_approved"
    await staff.send_payload(f"rev.oa:{org_id}")  # a second press of an old button
    assert "已处理" in staff.texts()


async def test_reject_asks_for_the_reason_and_the_applicant_is_told_it(db, clock, chat_user) -> None:
    parent_id = await org_with_staff(db, clock, "6104", PARENT)
    applicant_id, _ = await volunteer(db, clock, name="李申请")
    async with db.uow() as uow:
        user = await uow.users.by_identity("telegram", applicant_id)
        actor = await load_actor(uow, user.id)
        org = await submit_org_application(
            uow, clock, actor, org_form("鼓楼区农技志愿服务队", parent_id=parent_id)
        )
        await uow.commit()
    staff = chat_user("6104")
    await staff.text("/reviews")
    assert "组织申请 1 项" in staff.texts()
    await staff.press("鼓楼区农技志愿服务队")
    await staff.press("驳回")
    assert "原因" in staff.texts() and "例如" in staff.texts()
    await staff.text("   ")
    assert "必须写明原因" in staff.texts()
    await staff.text("服务项目与上级组织不符，请调整后重新申请")
    assert "已驳回" in staff.texts()
    async with db.uow() as uow:
        org = await uow.orgs.get(org.id)
        assert (
            org.status is OrgStatus.REJECTED
            and org.status_reason == "服务项目与上级组织不符，请调整后重新申请"
        )
    [rejected] = await notices_of(db, applicant_id)
    text = translator("zh_CN")(rejected.message_key, **rejected.params)
    assert rejected.message_key == "notice.org_rejected" and "服务项目与上级组织不符" in text


async def test_staff_of_another_org_cannot_see_or_review_the_application(db, clock, chat_user) -> None:
    parent_id = await org_with_staff(db, clock, "6105", PARENT)
    await org_with_staff(db, clock, "6106", "浙江省科技志愿服务总队")
    applicant_id, _ = await volunteer(db, clock, name="周申请")
    async with db.uow() as uow:
        user = await uow.users.by_identity("telegram", applicant_id)
        actor = await load_actor(uow, user.id)
        org = await submit_org_application(
            uow, clock, actor, org_form("秦淮区科普志愿服务队", parent_id=parent_id)
        )
        await uow.commit()
    assert await notices_of(db, "6106") == []
    other = chat_user("6106")
    await other.text("/reviews")
    assert "没有待您审核" in other.texts()
    await other.send_payload(f"rev.o:{org.id}")
    assert "归属管理单位" in other.texts() and "通过" not in " ".join(other.buttons())
    await other.send_payload(f"rev.oa:{org.id}")
    assert "归属管理单位" in other.texts()
    async with db.uow() as uow:
        assert (await uow.orgs.get(org.id)).status is OrgStatus.APPLIED


async def test_an_unregistered_user_is_asked_to_register_first(db, clock, chat_user) -> None:
    stranger = chat_user("6107")
    await stranger.text("/neworg")
    assert "请先注册" in stranger.texts() and "注册志愿者" in stranger.buttons()


async def test_a_name_taken_meanwhile_is_asked_again_at_submit(db, clock, chat_user) -> None:
    await org_with_staff(db, clock, "6108", PARENT)
    applicant_id, _ = await volunteer(db, clock, name="吴申请")
    applicant = chat_user(applicant_id)
    await _apply_in_chat(applicant, "栖霞区科普志愿服务队")
    async with db.uow() as uow:
        await make_org(uow, clock, "栖霞区科普志愿服务队")
        await uow.commit()
    await applicant.press("提交申请")
    assert "已被使用" in applicant.texts() and "第 1 步" in applicant.texts()


async def test_an_admin_reviews_top_level_applications(db, clock, chat_user) -> None:
    async with db.uow() as uow:
        admin = await ensure_user(uow, clock, Channel.TELEGRAM, "6109")
        await grant_role(uow, clock, Actor.system(), admin.id, Role.PLATFORM_ADMIN)
        actor = await load_actor(uow, admin.id)
        org = await submit_org_application(
            uow, clock, actor, org_form("江苏省农学会科技志愿服务总队", kind=OrgKind.BRIGADE)
        )
        await uow.commit()
    reviewer = chat_user("6109")
    await reviewer.text("/reviews")
    await reviewer.press("江苏省农学会科技志愿服务总队")
    assert "总队" in reviewer.texts()
    await reviewer.press("通过")
    async with db.uow() as uow:
        assert (await uow.orgs.get(org.id)).status is OrgStatus.APPROVED
