"""The times the publishing form gives as examples (3-6.1.5) are times it accepts when they are shown:
taken from the clock (09:00 a week ahead, two hours after the start given), never a fixed date that may
have passed."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.chat.people import org_with_staff


async def _form_at_the_start(db, clock, chat_user, external_id: str):
    await org_with_staff(db, clock, external_id, "南京市鼓楼区科技志愿服务队")
    staff = chat_user(external_id)
    await staff.text("/organizer")
    await staff.press("发布新活动")
    await staff.text("老年人智能手机课堂")
    await staff.press("健康助老类")
    await staff.press("科技助老")
    await staff.press("线下")
    return staff


async def test_start_and_end_examples_come_from_the_clock_and_are_accepted_as_shown(
    db, clock, chat_user
) -> None:
    clock.set(datetime(2027, 3, 15, 2, 0, tzinfo=UTC))  # 10:00 in Nanjing, months after any fixed example
    staff = await _form_at_the_start(db, clock, chat_user, "3101")
    assert staff.texts() == "开始时间？日期格式：2027-03-22 09:00"

    await staff.text("明天上午")
    assert "时间格式不对，请按 2027-03-22 09:00 的格式输入。" in staff.texts()
    await staff.text("2027-03-22 09:00")  # the example, typed as shown
    assert "已经过去" not in staff.texts()
    assert staff.texts() == "结束时间？例如 2027-03-22 11:00，同一天可只写 11:00"

    await staff.text("下午")
    assert "时间格式不对，请按 2027-03-22 11:00 的格式输入。" in staff.texts()
    await staff.text("11:00")  # the short form of the example
    assert "服务阵地" in staff.texts()  # on to the place


async def test_a_late_start_gets_an_end_example_on_the_next_day_without_the_short_form(
    db, clock, chat_user
) -> None:
    clock.set(datetime(2027, 3, 15, 2, 0, tzinfo=UTC))
    staff = await _form_at_the_start(db, clock, chat_user, "3102")
    await staff.text("2027-03-20 23:00")
    assert staff.texts() == "结束时间？例如 2027-03-21 01:00"  # "01:00" alone would be before the start
    await staff.text("2027-03-21 01:00")
    assert "服务阵地" in staff.texts()


async def test_times_are_read_as_a_chinese_keyboard_types_them(db, clock, chat_user) -> None:
    """A full-width colon and digits (０９：００) and slashes (2027/03/22) are the same time."""
    clock.set(datetime(2027, 3, 15, 2, 0, tzinfo=UTC))
    staff = await _form_at_the_start(db, clock, chat_user, "3103")
    await staff.text("２０２７/03/22 09：00")
    assert staff.texts().startswith("结束时间？例如 2027-03-22 11:00")
    await staff.text("11：30")
    assert "服务阵地" in staff.texts()
