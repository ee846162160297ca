"""Requests to join an org that requires approval (2-7.1), decided by its staff in chat."""

from __future__ import annotations

from core.domain.volunteer import MembershipStatus
from locales import translator
from tests.chat.people import notices_of, org_with_staff, volunteer

ORG = "南京市玄武区科技志愿服务队"


async def _membership(db, volunteer_id: int, org_id: int):
    async with db.uow() as uow:
        membership = await uow.memberships.get(volunteer_id, org_id)
        return membership.status, membership.reason


async def test_staff_approve_a_request_to_join_and_the_volunteer_is_told(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6201", ORG, join_requires_approval=True)
    volunteer_ext, volunteer_id = await volunteer(db, clock, name="吴入队", org_id=org_id)
    staff = chat_user("6201")
    await staff.text("/reviews")
    assert "入队申请 1 项" in staff.texts()
    await staff.press("吴入队")
    assert ORG in staff.texts() and "KJ" in staff.texts() and "北京市海淀区" in staff.texts()
    await staff.press("通过")
    assert "已同意吴入队加入" in staff.texts()
    assert await _membership(db, volunteer_id, org_id) == (MembershipStatus.ACTIVE, None)
    [told] = await notices_of(db, volunteer_ext)
    assert told.message_key == "notice.membership_approved"
    assert ORG in translator("zh_CN")(told.message_key, **told.params)
    await staff.text("/reviews")
    assert "没有待您审核" in staff.texts()


async def test_staff_reject_a_request_with_a_reason_the_volunteer_sees(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6202", ORG, join_requires_approval=True)
    volunteer_ext, volunteer_id = await volunteer(db, clock, name="郑入队", org_id=org_id)
    staff = chat_user("6202")
    await staff.send_payload("rev")  # the organizer menu's button
    await staff.press("郑入队")
    await staff.press("驳回")
    assert "原因" in staff.texts()
    await staff.press("待审核列表")  # changed their mind: back to the list, nothing decided
    assert await _membership(db, volunteer_id, org_id) == (MembershipStatus.PENDING, None)
    await staff.press("郑入队")
    await staff.press("驳回")
    await staff.text("本队只招募玄武区居民")
    assert "已驳回" in staff.texts()
    assert await _membership(db, volunteer_id, org_id) == (MembershipStatus.REJECTED, "本队只招募玄武区居民")
    [told] = await notices_of(db, volunteer_ext)
    assert told.message_key == "notice.membership_rejected"
    assert "本队只招募玄武区居民" in translator("en")(told.message_key, **told.params)


async def test_staff_of_another_org_can_neither_see_nor_decide(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6203", ORG, join_requires_approval=True)
    await org_with_staff(db, clock, "6204", "南京市鼓楼区科技志愿服务队")
    _, volunteer_id = await volunteer(db, clock, name="王入队", org_id=org_id)
    other = chat_user("6204")
    await other.text("/reviews")
    assert "没有待您审核" in other.texts()
    await other.send_payload(f"rev.m:{volunteer_id}-{org_id}")
    assert "只有该组织的工作人员" in other.texts() and "王入队" not in other.texts()
    await other.send_payload(f"rev.ma:{volunteer_id}-{org_id}")
    assert "只有该组织的工作人员" in other.texts()
    await other.send_payload(f"rev.mr:{volunteer_id}-{org_id}")
    assert "只有该组织的工作人员" in other.texts()
    assert await _membership(db, volunteer_id, org_id) == (MembershipStatus.PENDING, None)


async def test_a_volunteer_without_a_staff_role_has_no_reviews(db, clock, chat_user) -> None:
    volunteer_ext, _ = await volunteer(db, clock, name="陈志愿")
    person = chat_user(volunteer_ext)
    await person.text("/reviews")
    assert "只有该组织的工作人员" in person.texts()
    await person.text("/feedbacklist")
    assert "只有该组织的工作人员" in person.texts()


async def test_reviews_in_english(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6205", ORG, join_requires_approval=True)
    await volunteer(db, clock, name="Li", org_id=org_id)
    staff = chat_user("6205", "en")
    await staff.text("/language")
    await staff.press("English")
    await staff.text("/reviews")
    assert "requests to join: 1" in staff.texts()
    await staff.press("Li")
    await staff.press("Reject")
    await staff.text(" ")
    assert "needs a reason" in staff.texts()


async def test_text_after_another_part_of_the_bot_was_opened_is_no_rejection_reason(
    db, clock, chat_user
) -> None:
    org_id = await org_with_staff(db, clock, "6206", ORG, join_requires_approval=True)
    _, volunteer_id = await volunteer(db, clock, name="孙入队", org_id=org_id)
    staff = chat_user("6206")
    await staff.send_payload(f"rev.m:{volunteer_id}-{org_id}")
    await staff.press("驳回")
    await staff.text("/my")  # a menu click leaves the dialog as it was
    await staff.text("好的")
    assert "什么也没有改变" in staff.texts() and "孙入队" in staff.texts()
    assert await _membership(db, volunteer_id, org_id) == (MembershipStatus.PENDING, None)
