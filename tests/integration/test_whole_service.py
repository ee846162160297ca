"""Tried as a new user would, the whole service in one go (issue: attendance, hours and certificates):
an organizer publishes an activity starting within the hour from the template in chat, a volunteer
finds it and signs up, checks in by location at the venue, checks out at the end, the organizer
confirms the hours, and the volunteer's certificate verifies at /verify. Real Telegram Update JSON
through the webhook; time moves only by the fake clock."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader

from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.users import ensure_user, grant_role
from tests.builders import make_org
from tests.fakes.telegram_updates import Person
from tests.integration.test_attendance_journeys import (
    north_of,
)
from tests.integration.test_telegram_webhook import _register
from tests.integration.two_channels import (
    app_client,
    chat,
    mode,
    settings,
)

__all__ = ["app_client", "chat", "mode", "settings"]  # the real app with both channels

ORGANIZER = Person(id=5_500_000_001, first_name="组织者", language_code="zh-hans")
NEWCOMER = Person(id=5_500_000_002, first_name="新志愿者", language_code="zh-hans")


async def test_publish_within_the_hour_sign_up_check_in_out_confirm_and_a_certificate_that_verifies(
    db, clock, chat, app_client, fake_telegram
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(ORGANIZER.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, org.id)
        await uow.commit()
    organizer = chat(ORGANIZER)

    # 09:00 in Nanjing: the organizer publishes a talk at 09:40 from the template.
    await organizer.say("/organizer")
    await organizer.press("用模板创建活动")
    template = organizer.last[-1]["text"]
    filled = (
        template.replace("社区防诈骗科普讲座", "家庭用电安全科普")
        .replace("开始时间：2026-12-08 09:00", "开始时间：2026-12-01 09:40")
        .replace("结束时间：2026-12-08 11:30", "结束时间：2026-12-01 11:40")
    )
    assert "请确认活动方案" in await organizer.say(filled)
    assert "已发布" in await organizer.press("立即发布")

    # A newcomer registers, finds it and signs up: inside the 3 days, briefed in the reply.
    volunteer = chat(NEWCOMER)
    await _register(volunteer, "13900001234")
    await volunteer.say("/find")
    await volunteer.press("近期全部")
    assert "家庭用电安全科普" in await volunteer.press("家庭用电安全科普")
    text = await volunteer.press("我要报名")
    assert "报名成功" in text and "行前说明" in text

    # 09:35 at the venue (the template's check-in point, 40 m off): in; 11:40: out.
    venue = north_of((32.0603, 118.7969), 40)
    clock.set(clock.now() + timedelta(minutes=35))
    text = await volunteer.send(volunteer.updates.location(*venue, person=NEWCOMER))
    assert "✅ 签到成功：“家庭用电安全科普”" in text
    clock.set(clock.now() + timedelta(hours=2, minutes=5))
    text = await volunteer.send(volunteer.updates.location(*venue, person=NEWCOMER))
    assert "✅ 签退成功" in text and "= 2.0 小时，待组织方确认后计入" in text

    # The organizer confirms the hours.
    await organizer.say("/organizer")
    await organizer.press("本组织活动")
    await organizer.press("家庭用电安全科普")
    await organizer.press("工时确认")
    assert "已确认 1 条服务记录" in await organizer.press("确认 1")

    # The volunteer's certificate: a PDF in the chat, and its number verifies.
    text = await volunteer.say("/hours")
    assert "已确认：2.0 小时" in text
    await volunteer.say("/certificate")
    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok and c.params["chat_id"] == NEWCOMER.id]
    pdf = "\n".join(p.extract_text() for p in PdfReader(BytesIO(sent.params["document"].data)).pages)
    match = re.search(r"STVS-\d{4}-[A-Z0-9]{8}", pdf)
    assert match and "家庭用电安全科普" in pdf and "2.0 小时" in pdf and "张三" in pdf
    page = await app_client.get(f"/verify/{match.group(0)}")
    html = await page.text()
    assert page.status == 200 and "张*" in html and "张三" not in html and "2.0" in html
