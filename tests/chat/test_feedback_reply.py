"""Feedback is answered by the staff of the volunteer's org and closed; the author is told (2-8.2, 5-5.4.1)."""

from __future__ import annotations

from core.domain.codes import Channel
from locales import translator
from tests.chat.people import notices_of, org_with_staff, volunteer

ORG = "南京市玄武区科技志愿服务队"


async def _send_feedback(chat_user, external_id: str, text: str) -> None:
    author = chat_user(external_id)
    await author.text("/feedback")
    await author.text(text)
    assert "感谢您的反馈" in author.texts()


async def test_staff_reply_closes_the_feedback_and_the_author_gets_the_reply(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6301", ORG)
    author_ext, _ = await volunteer(db, clock, name="冯反馈", org_id=org_id)
    await _send_feedback(chat_user, author_ext, "希望活动通知能提前一周发布")
    staff = chat_user("6301")
    await staff.text("/feedbacklist")
    assert "希望活动通知" in " ".join(staff.buttons())
    await staff.press("希望活动通知")
    assert "冯反馈" in staff.texts() and ORG in staff.texts()
    await staff.press("回复")
    assert "例如" in staff.texts()
    await staff.text("   ")
    assert "不能为空" in staff.texts()
    await staff.text("感谢建议，下次活动将提前一周发布通知。")
    assert "已关闭" in staff.texts()
    async with db.uow() as uow:
        staff_user = await uow.users.by_identity(Channel.TELEGRAM, "6301")
        item = await uow.feedback.get(1)
        assert not item.open and item.replied_by == staff_user.id
        assert item.reply == "感谢建议，下次活动将提前一周发布通知。" and item.replied_at == clock.now()
    [told] = await notices_of(db, author_ext)
    assert told.message_key == "notice.feedback_reply"
    text = translator("zh_CN")(told.message_key, **told.params)
    assert "感谢建议，下次活动将提前一周发布通知。" in text and "希望活动通知能提前一周发布" in text
    await staff.text("/feedbacklist")
    assert "没有待回复" in staff.texts()
    await staff.send_payload("fbl.r:1")  # an old button: the answered item is shown, not answered twice
    assert "已回复" in staff.texts() and "回复" not in staff.buttons()


async def test_staff_of_an_unrelated_org_do_not_see_the_feedback(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6302", ORG)
    await org_with_staff(db, clock, "6303", "南京市鼓楼区科技志愿服务队")
    author_ext, _ = await volunteer(db, clock, name="褚反馈", org_id=org_id)
    await _send_feedback(chat_user, author_ext, "签到定位不准")
    other = chat_user("6303")
    await other.text("/feedbacklist")
    assert "没有待回复" in other.texts()
    await other.send_payload("fbl.o:1")
    assert "签到定位不准" not in other.texts() and "只有该组织的工作人员" in other.texts()
    await other.send_payload("fbl.r:1")
    assert "只有该组织的工作人员" in other.texts()
    assert await notices_of(db, author_ext) == []


async def test_a_volunteer_can_still_send_feedback_from_the_menu(db, clock, chat_user) -> None:
    author_ext, _ = await volunteer(db, clock, name="卫反馈")
    author = chat_user(author_ext)
    await author.text("/menu")
    await author.press("意见反馈")
    await author.text("小程序字体太小")
    assert "编号 1" in author.texts()


async def test_text_after_another_part_of_the_bot_was_opened_is_no_reply(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "6304", ORG)
    author_ext, _ = await volunteer(db, clock, name="秦反馈", org_id=org_id)
    await _send_feedback(chat_user, author_ext, "希望增加周末的活动")
    staff = chat_user("6304")
    await staff.text("/feedbacklist")
    await staff.press("希望增加周末")
    await staff.press("回复")
    await staff.text("/my")  # a menu click leaves the dialog as it was
    await staff.text("好的")
    assert "什么也没有改变" in staff.texts() and "希望增加周末的活动" in staff.texts()
    async with db.uow() as uow:
        [item] = await uow.feedback.open_for_orgs(None, 10)
        assert item.open
    assert await notices_of(db, author_ext) == []
