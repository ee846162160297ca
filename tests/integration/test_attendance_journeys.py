"""Check-in, check-out, hours, make-up requests and certificates end to end (2-6.3, 2-7.5.2, 4-5.5):
real Telegram Update JSON posted to /telegram/webhook and real WeChat XML (safe mode) posted to /wechat
of one real app, replies read back as each platform would show them, texts asserted as the volunteer
or the staff member sees them. Time moves only through the fake clock."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from typing import Any

import prcoords
import pytest
from pypdf import PdfReader

from core.domain.attendance import CheckMethod, RecordSource, RecordStatus
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.policy import Policy
from core.services.access import load_actor
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from scheduler.jobs import run_job
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, online
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import UploadedFile
from tests.fakes.telegram_updates import Person
from tests.integration.test_telegram_webhook import Chat
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import PUBLIC_URL, inline_buttons, organizer_card

ORG = "南京市玄武区科技志愿服务队"
TITLE = "玄武湖科普讲解"
VENUE = (32.0415, 118.7781)  # WGS-84
VOLUNTEER = Person(id=5_300_000_001, first_name="志愿者", language_code="zh-hans")
VOLUNTEER_2 = Person(id=5_300_000_002, first_name="志愿者二", language_code="zh-hans")
STAFF = Person(id=5_300_000_009, first_name="组织者", language_code="zh-hans")
WECHAT_OPENID = "oAttendance00000000000000001"
CODE = re.compile(r"签到码：(\d{6})")


# ---- the app: Telegram and WeChat (safe mode) on at once ------------------------------------------


# ---- the world: an org, its staff, an activity at the venue, volunteers signed up ------------------


@dataclass
class World:
    activity_id: int
    starts: datetime
    ends: datetime
    signups: dict[str, int]  # external id → sign-up id
    volunteers: dict[str, int]  # external id → volunteer id
    users: dict[str, int]  # external id → user id


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195, point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    latitude, longitude = point
    return latitude, longitude + metres / (111_195 * math.cos(math.radians(latitude)))


async def _world(
    db: Database,
    clock: FakeClock,
    *volunteers: tuple[Channel, str, str],
    staff: Person | None = STAFF,
    **changes: Any,
) -> World:
    """An activity tomorrow 09:00–12:00 (Nanjing time) at VENUE, radius 500 m, coefficient 1, its org's
    staff on Telegram, and each (channel, external id, name) a registered volunteer confirmed on it."""
    starts = clock.now() + timedelta(days=1)
    ends = starts + timedelta(hours=3)
    world = World(0, starts, ends, {}, {}, {})
    async with db.uow() as uow:
        org = await uow.orgs.by_name(ORG) or await make_org(uow, clock, ORG)
        admin = await make_admin(uow, clock)
        fields: dict[str, Any] = {
            "title": TITLE,
            "latitude": VENUE[0],
            "longitude": VENUE[1],
            "starts_at": starts,
            "ends_at": ends,
        }
        activity = await make_activity(uow, clock, admin, org.id, **{**fields, **changes})
        world.activity_id = activity.id
        if staff is not None:
            user = await ensure_user(uow, clock, Channel.TELEGRAM, str(staff.id), language="zh_CN")
            await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        for n, (channel, external_id, name) in enumerate(volunteers):
            user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
            await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
            form = RegistrationForm(
                name=name, phone=f"1390000{n:04d}", region="江苏省南京市玄武区", birth_date=date(1990, 5, 17)
            )
            volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
            signup = await sign_up(uow, clock, await load_actor(uow, user.id), activity.id)
            world.signups[external_id] = signup.id
            world.volunteers[external_id] = volunteer.id
            world.users[external_id] = user.id
        await uow.commit()
    return world


def on_telegram(person: Person, name: str = "李志愿") -> tuple[Channel, str, str]:
    return Channel.TELEGRAM, str(person.id), name


def _copied(row: object) -> SimpleNamespace:
    """What a stored row holds, read while its session is open (closing it expires the row)."""
    return SimpleNamespace(**{k: v for k, v in vars(row).items() if not k.startswith("_")})


async def _records(db: Database, volunteer_id: int) -> list[SimpleNamespace]:
    async with db.uow() as uow:
        return [_copied(r) for r in await uow.records.for_volunteer(volunteer_id)]


async def _attendance_open(db: Database, signup_id: int) -> bool | None:
    """None: never checked in; True: in; False: in and out."""
    async with db.uow() as uow:
        attendance = await uow.attendances.for_signup(signup_id)
        return None if attendance is None else attendance.open


async def _notices(db: Database, user_id: int) -> list[SimpleNamespace]:
    async with db.uow() as uow:
        return [_copied(n) for n in await uow.notices.for_user(user_id)]


async def _user_id(db: Database, person: Person) -> int:
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, str(person.id))
        assert user is not None and user.id is not None
        return user.id


async def _location(user: Chat, point: tuple[float, float], **fields: Any) -> str:
    return await user.send(user.updates.location(*point, person=user.person, **fields))


# ---- 1. Telegram: in, out, hours, confirmed by staff ----------------------------------------------


async def test_location_check_in_and_out_then_staff_confirm_the_hours(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    at_venue = north_of(VENUE, 50)

    clock.set(world.starts - timedelta(minutes=30))
    text = await _location(volunteer, at_venue)
    assert f"✅ 签到成功：“{TITLE}”" in text
    assert "时间：2026-12-02 08:30" in text and "距活动地点约 50 米" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is True

    clock.set(world.ends)
    text = await _location(volunteer, at_venue)
    assert f"✅ 签退成功：“{TITLE}”" in text and "时间：2026-12-02 12:00" in text
    assert re.search(r"本次服务时长：在岗 3\.0 小时 × 系数 1(\.00)? = 3\.0 小时，待组织方确认后计入。", text)
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is False

    text = await volunteer.say("/hours")
    assert "已确认：0.0 小时" in text and "待确认：3.0 小时" in text
    assert f"… 2026-12-02 {TITLE}：3.0 小时（待确认）" in text

    await organizer_card(staff, TITLE)
    text = await staff.press("工时确认")
    assert f"“{TITLE}”服务记录" in text
    assert re.search(r"1\. 李志愿 08:30–12:00：在岗 3\.0 小时 × 1(\.00)? = 3\.0 小时 · 待确认", text)
    text = await staff.press("确认 1")
    assert "已确认 1 条服务记录，志愿者会收到通知。" in text
    assert "3.0 小时 · 已确认" in text

    text = await volunteer.say("/hours")
    assert "已确认：3.0 小时" in text and "待确认：0.0 小时" in text
    assert f"✔ 2026-12-02 {TITLE}：3.0 小时（已确认）" in text
    [record] = await _records(db, world.volunteers[str(VOLUNTEER.id)])
    assert record.status is RecordStatus.CONFIRMED and not record.manual
    notices = await _notices(db, world.users[str(VOLUNTEER.id)])
    assert "notice.record_confirmed" in [n.message_key for n in notices]


async def test_hours_line_shows_the_coefficient_as_the_activity_set_it(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=30))
    await _location(volunteer, north_of(VENUE, 50))
    clock.set(world.ends)
    text = await _location(volunteer, north_of(VENUE, 50))
    assert "在岗 3.0 小时 × 系数 1 = 3.0 小时" in text, text


# ---- 2. Telegram: locations that do not count ------------------------------------------------------


async def test_location_two_km_away_is_refused_with_the_distance(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=10))

    text = await _location(volunteer, north_of(VENUE, 2_000))
    assert "未能完成签到/签退。" in text
    assert "您距活动地点约 2.0 公里，需在 500 米内。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None

    await volunteer.press("重新发送")  # tried again from where they stand now
    text = await _location(volunteer, north_of(VENUE, 120))
    assert "签到成功" in text and "距活动地点约 120 米" in text


async def test_forwarded_location_is_refused(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=10))

    forwarded = volunteer.updates.forwarded(location=north_of(VENUE, 20), person=VOLUNTEER)
    assert "forward_origin" in forwarded["message"]
    text = await volunteer.send(forwarded)
    assert "转发的位置不能用于签到。请在现场发送您自己当前的位置。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None


async def test_location_less_accurate_than_the_radius_is_refused(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=10))

    text = await _location(volunteer, north_of(VENUE, 20), accuracy=800)
    assert "定位精度约 800 米，超过签到范围 500 米。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None

    text = await _location(volunteer, north_of(VENUE, 20), accuracy=35)
    assert "签到成功" in text


async def test_live_location_moving_after_check_in_does_not_check_out(db, clock, chat, fake_telegram) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=5))

    started = volunteer.updates.location(*north_of(VENUE, 30), live_period=3600, person=VOLUNTEER)
    assert "签到成功" in await volunteer.send(started)
    sent_before = len(fake_telegram.calls())

    clock.set(world.ends)  # still sharing at the end, having walked about
    moved = volunteer.updates.live_location(started, *north_of(VENUE, 60))
    assert "edit_date" in moved["edited_message"]
    assert await volunteer.send(moved) == ""
    assert [c.method for c in fake_telegram.calls()[sent_before:]] == []  # no reply of any kind
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is True
    assert await _records(db, world.volunteers[str(VOLUNTEER.id)]) == []


# ---- 3. the window's edges -------------------------------------------------------------------------


async def test_check_in_opens_exactly_sixty_minutes_before_the_start(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    at_venue = north_of(VENUE, 40)

    clock.set(world.starts - timedelta(minutes=61))
    text = await volunteer.say("/checkin")  # the day's activity is asked for; too early is said with the time
    assert "请发送您现在的位置以签到" in text
    signup_id = world.signups[str(VOLUNTEER.id)]
    text = await _location(volunteer, at_venue)
    assert "还未到签到时间。签到从 2026-12-02 08:00 开始（活动 2026-12-02 09:00 开始）。" in text
    assert await _attendance_open(db, signup_id) is None

    clock.set(world.starts - timedelta(minutes=60))  # opens <= now: open at the very minute
    text = await _location(volunteer, at_venue)
    assert "签到成功" in text and "时间：2026-12-02 08:00" in text
    assert await _attendance_open(db, signup_id) is True


async def test_check_in_after_the_end_is_refused(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)

    clock.set(world.ends + timedelta(minutes=1))
    text = await _location(volunteer, north_of(VENUE, 40))
    assert "签到已于 2026-12-02 12:00 截止。如果您参加了活动但未能签到，请申请补录。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None


# ---- 4. WeChat (safe mode): GCJ-02 positions ----------------------------------------------------


async def test_wechat_checkin_button_then_a_gcj02_location_100_m_away_checks_in(
    db, clock, wechat, messenger, mode
) -> None:
    assert mode == "aes"
    world = await _world(db, clock, (Channel.WECHAT, WECHAT_OPENID, "周到"))
    user = wechat(WECHAT_OPENID)
    clock.set(world.starts - timedelta(minutes=20))

    text = await user.click("CHECKIN")
    assert f"请发送您现在的位置以签到：“{TITLE}”。" in text and "500 米以内" in text
    text = await user.location(40.0, -100.0)  # a position far outside China
    assert "收到的位置不在中国境内，无法用于签到。" in text
    assert await _attendance_open(db, world.signups[WECHAT_OPENID]) is None

    await user.pick("重新发送")
    standing = east_of(VENUE, 100)  # where the volunteer really is (WGS-84)
    gcj = prcoords.wgs_gcj(prcoords.Coords(*standing))  # what WeChat sends
    text = await user.location(gcj.lat, gcj.lon)
    assert f"✅ 签到成功：“{TITLE}”" in text and "距活动地点约 100 米" in text
    assert await _attendance_open(db, world.signups[WECHAT_OPENID]) is True


async def test_wechat_location_outside_china_is_refused_outside_any_flow(
    db, clock, wechat, messenger
) -> None:
    world = await _world(db, clock, (Channel.WECHAT, WECHAT_OPENID, "周到"))
    user = wechat(WECHAT_OPENID)
    clock.set(world.starts - timedelta(minutes=20))

    text = await user.location(40.0, -100.0)
    assert "收到的位置不在中国境内，无法用于签到。" in text
    assert await _attendance_open(db, world.signups[WECHAT_OPENID]) is None


# ---- 5. codes ---------------------------------------------------------------------------------


async def _code_from_staff(staff: Chat) -> str:
    text = await organizer_card(staff, TITLE)
    assert TITLE in text
    text = await staff.press("签到码")
    assert text.startswith(f"“{TITLE}”签到码：")
    found = CODE.search(text)
    assert found is not None, text
    return found.group(1)


async def test_rotating_code_after_the_location_wrong_code_refused_staff_code_accepted(
    db, clock, chat
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), checkin_code_required=True)
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    at_venue = north_of(VENUE, 30)
    clock.set(world.starts - timedelta(minutes=15))

    code = await _code_from_staff(staff)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    text = await volunteer.say("/checkin")
    assert f"请发送您现在的位置以签到：“{TITLE}”。" in text
    text = await _location(volunteer, at_venue)
    assert text == "位置已收到。本活动还需要签到码：请输入现场负责人出示的 6 位数字（例：123456）。"
    text = await volunteer.say(wrong)
    assert "签到码不正确或已过期。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None

    await volunteer.press("重新发送")
    await _location(volunteer, at_venue)
    text = await volunteer.say(code)
    assert f"✅ 签到成功：“{TITLE}”" in text and "距活动地点约 30 米" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is True


async def test_location_outside_a_flow_for_a_code_activity_then_the_code_checks_in(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), checkin_code_required=True)
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=15))
    code = await _code_from_staff(staff)

    await _location(volunteer, north_of(VENUE, 30))  # from the attachment menu, without /checkin
    text = await volunteer.say(code)
    assert "签到成功" in text, text


async def test_online_activity_checks_in_by_code(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), **online())
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=5))
    code = await _code_from_staff(staff)

    text = await volunteer.say("/checkin")
    assert f"请输入组织者提供的 6 位签到码以签到：“{TITLE}”。" in text
    text = await volunteer.say(code)
    assert f"✅ 签到成功：“{TITLE}”" in text and "距活动地点" not in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is True

    clock.set(world.ends)
    code = await _code_from_staff(staff)  # a new code by now
    await volunteer.say("/checkin")
    assert "请输入组织者提供的 6 位签到码以签退" in volunteer.text
    text = await volunteer.say(code)
    assert "✅ 签退成功" in text and re.search(r"在岗 3\.0 小时 × 系数 1(\.00)? = 3\.0 小时", text)


async def test_online_activity_refuses_a_location_sent_outside_a_flow(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), **online())
    volunteer = chat(VOLUNTEER)
    clock.set(world.starts - timedelta(minutes=5))

    text = await _location(volunteer, VENUE)
    assert "线上活动用签到码签到，不用位置。" in text
    assert await _attendance_open(db, world.signups[str(VOLUNTEER.id)]) is None


async def test_online_activity_code_typed_after_a_refused_location_checks_in(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), **online())
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=5))
    code = await _code_from_staff(staff)

    text = await _location(volunteer, VENUE)
    assert "请输入组织者提供的 6 位签到码" in text
    text = await volunteer.say(code)
    assert "签到成功" in text, text


async def test_online_activity_location_at_the_code_step_is_refused_and_the_code_still_works(
    db, clock, chat
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER), **online())
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=5))
    code = await _code_from_staff(staff)

    await volunteer.say("/checkin")
    text = await _location(volunteer, VENUE)
    assert "线上活动用签到码签到，不用位置。" in text, text
    text = await volunteer.say(code)
    assert "签到成功" in text, text


# ---- 6. the system closes a forgotten check-out ---------------------------------------------------


async def test_forgotten_check_out_is_closed_by_the_scheduler_for_review(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=10))
    assert "签到成功" in await _location(volunteer, north_of(VENUE, 40))

    clock.set(world.ends + timedelta(minutes=59))
    assert (
        await run_job("attendance-close-forgotten", db.uow, clock, Policy()) == 0
    )  # the grace period is not over

    clock.set(world.ends + timedelta(minutes=61))
    assert await run_job("attendance-close-forgotten", db.uow, clock, Policy()) == 1
    assert await run_job("attendance-close-forgotten", db.uow, clock, Policy()) == 0  # once only

    [record] = await _records(db, world.volunteers[str(VOLUNTEER.id)])
    assert record.status is RecordStatus.PENDING and record.needs_review
    assert record.ended_at == world.ends and record.credited_hours == Decimal("3.0")
    async with db.uow() as uow:
        attendance = await uow.attendances.for_signup(world.signups[str(VOLUNTEER.id)])
        assert attendance.checkout_method is CheckMethod.AUTO and attendance.checked_out_at == world.ends
    [notice] = [
        n
        for n in await _notices(db, world.users[str(VOLUNTEER.id)])
        if n.message_key == "notice.auto_check_out"
    ]
    assert notice.params["title"] == TITLE and notice.params["hours"] == "3.0"
    assert notice.params["end"] == "2026-12-02 12:00"

    await organizer_card(staff, TITLE)
    text = await staff.press("工时确认")
    assert "⚠ 系统代签退" in text

    text = await _location(volunteer, north_of(VENUE, 40))  # too late now: the system closed it
    assert text.startswith("现在不需要位置或联系方式。"), text
    assert "签退成功" not in text


# ---- 7. make-up requests ---------------------------------------------------------------------------


async def _file_makeup(volunteer: Chat, span: str, reason: str) -> str:
    text = await volunteer.say("/makeup")
    assert text.startswith("申请补录（CVST 2 6.3 c）：请选择活动。")
    text = await volunteer.press(TITLE)
    assert f"“{TITLE}”计划时间 09:00–12:00。" in text
    text = await volunteer.say(span)
    assert text.startswith("请说明未能正常签到的原因")
    text = await volunteer.say(reason)
    assert text.startswith("最后一步（可选）：如有现场照片")  # 2-6.3 c: the photo may be skipped
    return await volunteer.press("跳过")


async def _open_request(staff: Chat, name: str) -> str:
    await staff.say("/organizer")
    text = await staff.press("补录申请")
    assert text.startswith("待审核的补录申请：")
    return await staff.press(f"{name} · {TITLE}")


async def test_makeup_request_approved_with_fewer_hours(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.ends + timedelta(hours=3))  # never checked in: the phone had no signal

    text = await _file_makeup(volunteer, "09:00-10:30", "现场手机没有信号")
    assert text.startswith(f"补录申请已提交：“{TITLE}”，申请 1.5 小时。")
    staff_user = await _user_id(db, STAFF)
    [asked] = [n for n in await _notices(db, staff_user) if n.message_key == "notice.makeup_requested"]
    assert asked.params["title"] == TITLE

    text = await _open_request(staff, "王补录")
    assert re.search(r"申请时间：09:00–10:30，计划内 1\.5 小时，系数 1(\.00)?\n", text)
    assert "原因：现场手机没有信号" in text and "状态：待审核" in text
    text = await staff.press("批准较少时长")
    assert text.startswith("请输入批准的在岗小时数（大于 0，不超过 1.5）")
    text = await staff.say("1.0")
    assert "已批准补录 1.0 小时，记为人工记录，志愿者会收到通知。" in text

    [record] = await _records(db, world.volunteers[str(VOLUNTEER.id)])
    assert record.status is RecordStatus.CONFIRMED and record.manual
    assert record.source is RecordSource.MAKEUP
    assert record.onsite_hours == Decimal("1.0") and record.credited_hours == Decimal("1.0")
    keys = [n.message_key for n in await _notices(db, world.users[str(VOLUNTEER.id)])]
    assert "notice.makeup_approved" in keys
    text = await volunteer.say("/hours")
    assert "已确认：1.0 小时" in text


async def test_makeup_hours_above_the_cap_are_refused(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.ends + timedelta(hours=3))
    await _file_makeup(volunteer, "09:00-10:30", "现场手机没有信号")

    await _open_request(staff, "王补录")
    await staff.press("批准较少时长")
    text = await staff.say("2.0")
    assert "请输入大于 0、不超过 1.5 的小时数，最多一位小数，例：0.7" in text
    assert await _records(db, world.volunteers[str(VOLUNTEER.id)]) == []
    text = await staff.say("1.5")  # the question still waits for the hours
    assert "已批准补录 1.5 小时" in text
    [record] = await _records(db, world.volunteers[str(VOLUNTEER.id)])
    assert record.credited_hours == Decimal("1.5")


async def test_makeup_request_rejected_with_a_reason_reaches_the_volunteer(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER_2, "赵未到"))
    volunteer, staff = chat(VOLUNTEER_2), chat(STAFF)
    clock.set(world.ends + timedelta(hours=3))
    await _file_makeup(volunteer, "09:30-12:00", "忘记签到了")

    await _open_request(staff, "赵未到")
    text = await staff.press("驳回")
    assert text.startswith("请输入驳回原因（志愿者会看到）")
    text = await staff.say("当天签到表中无此人")
    assert "已驳回，志愿者会收到原因。" in text

    [told] = [
        n
        for n in await _notices(db, world.users[str(VOLUNTEER_2.id)])
        if n.message_key == "notice.makeup_rejected"
    ]
    assert told.params["reason"] == "当天签到表中无此人" and told.params["title"] == TITLE
    assert await _records(db, world.volunteers[str(VOLUNTEER_2.id)]) == []


# ---- 8. the certificate and its verify page ---------------------------------------------------


async def _certificate_number(db: Database, clock: FakeClock, chat) -> str:
    """A volunteer with 3.0 confirmed hours asks for the certificate in Telegram; its number."""
    world = await _world(db, clock, on_telegram(VOLUNTEER, "李志愿"))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.starts - timedelta(minutes=5))
    await _location(volunteer, north_of(VENUE, 30))
    clock.set(world.ends)
    await _location(volunteer, north_of(VENUE, 30))
    await organizer_card(staff, TITLE)
    await staff.press("工时确认")
    assert "已确认 1 条服务记录" in await staff.press("全部确认")
    clock.set(world.ends + timedelta(days=1))

    text = await volunteer.say("/certificate")
    assert "服务证明已开具（免费，CVST 4 5.5）。" in text and "已确认时长：3.0 小时" in text
    found = re.search(r"编号：(STVS-\d{4}-[0-9A-Z]{8})", text)
    assert found is not None, text
    number = found.group(1)
    assert f"任何人可在此核验：{PUBLIC_URL}/verify/{number}" in text
    return number


async def test_certificate_is_sent_as_a_pdf_holding_the_number_and_the_hours(
    db, clock, chat, fake_telegram
) -> None:
    number = await _certificate_number(db, clock, chat)

    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok]
    assert sent.params["chat_id"] == VOLUNTEER.id
    assert sent.result["caption"] == f"志愿服务记录证明 {number}"
    assert sent.result["document"]["mime_type"] == "application/pdf"
    document = sent.params["document"]
    assert isinstance(document, UploadedFile) and document.filename == f"{number}.pdf"
    pdf = "\n".join(page.extract_text() for page in PdfReader(BytesIO(document.data)).pages)
    assert "志愿服务记录证明" in pdf and number in pdf
    assert "3.0 小时" in pdf and TITLE in pdf and "李志愿" in pdf


async def test_verify_page_of_an_issued_certificate_shows_the_masked_name_and_hours(
    db, clock, chat, app_client
) -> None:
    number = await _certificate_number(db, clock, chat)

    page = await app_client.get(f"/verify/{number}")
    assert page.status == 200
    html = await page.text()
    assert number in html and "李*愿" in html and "李志愿" not in html and "3.0" in html


async def test_verify_page_of_an_unknown_number_is_404(app_client) -> None:
    missing = await app_client.get("/verify/STVS-2026-NOTREAL1")
    assert missing.status == 404
    assert "STVS-2026-NOTREAL1" in await missing.text()


# ---- the location consent, given and withdrawn in chat (PIPL art. 14, 15, 28) ----------------------


async def _coordinates(db: Database, signup_id: int) -> tuple[float | None, float | None]:
    async with db.uow() as uow:
        attendance = await uow.attendances.for_signup(signup_id)
        assert attendance is not None
        return attendance.checkin_latitude, attendance.checkout_latitude


async def test_location_consent_given_in_chat_keeps_coordinates_until_withdrawn(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    at_venue = north_of(VENUE, 50)

    await volunteer.say("/profile")
    text = await volunteer.press("我的授权")
    assert "您已给予以下同意" in text and "撤回：隐私声明" in inline_buttons(volunteer)
    text = await volunteer.press("同意：保存签到坐标")
    assert "30 天后自动删除" in text and "不同意也可以正常用位置签到" in text
    text = await volunteer.press("同意")
    assert "已同意：保存签到坐标" in text and "撤回：保存签到坐标" in inline_buttons(volunteer)

    clock.set(world.starts - timedelta(minutes=10))
    assert "签到成功" in await _location(volunteer, at_venue)
    signup = world.signups[str(VOLUNTEER.id)]
    assert (await _coordinates(db, signup))[0] == pytest.approx(at_venue[0])

    await volunteer.say("/profile")
    await volunteer.press("我的授权")
    text = await volunteer.press("撤回：保存签到坐标")
    assert "已撤回：保存签到坐标" in text and "同意：保存签到坐标" in inline_buttons(volunteer)

    clock.set(world.ends)
    assert "签退成功" in await _location(volunteer, at_venue)
    assert (await _coordinates(db, signup))[1] is None


async def test_a_forged_consent_button_grants_nothing(db, clock, chat) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER))
    volunteer = chat(VOLUNTEER)
    for forged in ("prof.gra:id_number", "prof.gra:guardian", "prof.gr:data_sharing"):
        await volunteer.send(volunteer.updates.callback(forged, person=VOLUNTEER))
    async with db.uow() as uow:
        kinds = {c.kind for c in await uow.consents.for_user(world.users[str(VOLUNTEER.id)]) if c.active}
    assert kinds == {ConsentKind.PRIVACY_NOTICE}
