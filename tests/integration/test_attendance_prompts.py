"""What the attendance side says, as the volunteer and the staff member read it through the real Telegram
webhook: a wrong check-in code worded for an online or an on-site activity, with the retry each needs;
examples of a make-up's time and hours that the question accepts; the next star named, in hours as the
product prints them; and no service certificate of no confirmed hours (2-6.3, 3-5.3.2, 4-5.5, 4-6.2.1)."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import online
from tests.integration.test_attendance_journeys import (
    STAFF,
    TITLE,
    VENUE,
    VOLUNTEER,
    _code_from_staff,
    _file_makeup,
    _location,
    _open_request,
    _records,
    _world,
    north_of,
    on_telegram,
)
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import inline_buttons


def _other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# ---- a wrong code, online and on site --------------------------------------------------------------


async def test_a_wrong_code_online_sends_the_volunteer_to_the_online_activity_to_type_it_again(
    db, clock, chat
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), **online())
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=5))
    code = await _code_from_staff(staff)

    await volunteer.say("/checkin")
    text = await volunteer.say(_other_than(code))
    assert (
        "签到码不正确或已过期。签到码每隔几分钟更换一次，请以组织者在线上活动中公布的当前签到码重新输入。"
        in text
    )
    assert "现场" not in text  # no one is on site of an online activity
    buttons = inline_buttons(volunteer)
    assert buttons[0] == "重新输入签到码" and "重新发送" not in buttons

    text = await volunteer.press("重新输入签到码")
    assert f"请输入组织者提供的 6 位签到码以签到：“{TITLE}”。" in text
    assert f"✅ 签到成功：“{TITLE}”" in await volunteer.say(code)


async def test_a_wrong_code_on_site_still_points_to_the_leader_and_offers_to_send_the_location_again(
    db, clock, chat
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), checkin_code_required=True)
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=15))
    code = await _code_from_staff(staff)

    await volunteer.say("/checkin")
    await _location(volunteer, north_of(VENUE, 30))
    text = await volunteer.say(_other_than(code))
    assert "签到码每隔几分钟更换一次，请向现场负责人确认当前的签到码后重新输入。" in text
    assert inline_buttons(volunteer)[0] == "重新发送"


# ---- make-up: the examples are a time and hours the question accepts ---------------------------------


async def test_make_up_time_examples_are_the_schedule_of_an_afternoon_activity(db, clock, chat) -> None:
    starts = clock.now() + timedelta(days=1, hours=5)  # 14:00 in Nanjing
    await _world(
        db, clock, on_telegram(VOLUNTEER, "王补录"), starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    volunteer = chat(VOLUNTEER)
    clock.set(starts + timedelta(hours=5))

    await volunteer.say("/makeup")
    text = await volunteer.press(TITLE)
    assert (
        f"“{TITLE}”计划时间 14:00–16:00。\n请输入您实际服务的时间，格式：开始-结束，例：14:00-16:00" in text
    )
    text = await volunteer.say("下午两点")
    assert "时间格式不对。请按“开始-结束”输入，例：14:00-16:00" in text
    text = await volunteer.say("16:00-14:00")
    assert "结束时间要晚于开始时间，例：14:00-16:00" in text
    text = await volunteer.say("14:00-16:00")  # the example, typed as shown
    assert text.startswith("请说明未能正常签到的原因")


async def test_fewer_hours_example_is_within_the_cap_and_accepted(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.ends + timedelta(hours=3))
    await _file_makeup(volunteer, "09:00-09:48", "现场手机没有信号")  # 0.8 hours

    await _open_request(staff, "王补录")
    text = await staff.press("批准较少时长")
    assert text.startswith("请输入批准的在岗小时数（大于 0，不超过 0.8），例：0.4")
    text = await staff.say("1.5")
    assert "请输入大于 0、不超过 0.8 的小时数，最多一位小数，例：0.4" in text
    text = await staff.say("一个半小时")
    assert "请输入数字（大于 0，不超过 0.8），例：0.4" in text
    assert await _records(db, world.volunteers[str(VOLUNTEER.id)]) == []
    text = await staff.say("0.4")  # the example, typed as shown
    assert "已批准补录 0.4 小时" in text

    text = await volunteer.say("/hours")
    assert "再服务 99.6 小时可达一星（累计 100 小时）。" in text


# ---- stars and the certificate ---------------------------------------------------------------------


async def test_the_next_star_is_named_and_its_hours_have_no_bare_decimal(db, clock, chat) -> None:
    await _world(db, clock, on_telegram(VOLUNTEER))
    text = await chat(VOLUNTEER).say("/hours")
    assert "再服务 100 小时可达一星（累计 100 小时）。" in text
    assert "100.0" not in text


async def test_no_service_certificate_of_no_confirmed_hours_and_the_ways_to_get_some(
    db, clock, chat, fake_telegram
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)

    text = await volunteer.say("/certificate")
    assert text.startswith("您还没有已确认的服务时长，暂时不能开具服务证明。")
    assert "签到、签退" in text and "申请补录" in text and "等组织方确认" in text  # how to get hours
    assert inline_buttons(volunteer)[:3] == ["📍 签到/签退", "申请补录", "我的时长"]
    assert not [c for c in fake_telegram.calls("sendDocument") if c.ok]
    async with db.uow() as uow:
        assert await uow.certificates.for_volunteer(world.volunteers[str(VOLUNTEER.id)]) == []
