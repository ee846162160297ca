"""Creating an activity from a filled-in template over Telegram (3-6.1.5): staff get the template as a
message to copy, send it back filled in, publish it from the summary's buttons, and a volunteer then
finds the activity."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from core.domain.activity import ActivityStatus
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.ports import ActivityQuery
from core.services.users import ensure_user, grant_role
from storage.database import Database
from tests.builders import make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_USERNAME, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.test_telegram_webhook import Chat

STAFF = Person(id=5_000_000_201, first_name="工作人员", language_code="zh-hans")
VOLUNTEER = Person(id=5_000_000_202, first_name="志愿者", language_code="zh-hans")


@pytest.fixture
def chat(app_client: TestClient, fake_telegram: FakeTelegramAPI, clock: FakeClock):
    updates = TelegramUpdates(clock=clock)
    return lambda person: Chat(app_client, fake_telegram, person, updates)


async def _org_with_staff(db: Database, clock: FakeClock) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        staff = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id))
        await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return org.id


async def test_staff_fill_in_the_template_publish_and_a_volunteer_finds_it(db, clock, chat) -> None:
    org_id = await _org_with_staff(db, clock)
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("用模板创建活动")
    explanation, template = (m["text"] for m in staff.last)
    assert "复制下一条消息" in explanation and "c2 科普讲座" in explanation
    assert "开始时间：2026-12-08 09:00" in template.splitlines()

    filled = (
        template.replace("社区防诈骗科普讲座", "湿地生态科普行")
        .replace("：科普讲座", "：e1")
        .replace("2026-12-08", "2026-12-12")
        .replace("2026-12-12 09:00", "2026-12-12 08:30")
        .replace("招募人数（1 到 10000）：20", "招募人数（1 到 10000）：15")
    )
    text = await staff.say(filled.replace("活动目的：", "活动目标："))
    assert "2 处需要修改" in text and "“活动目标”：没有这个字段" in text and "活动目的：没有填写" in text
    text = await staff.say(filled)
    assert "请确认活动方案" in text and "湿地生态科普行" in text and "名额：15" in text
    assert "已发布" in await staff.press("立即发布")
    assert f"t.me/{TEST_BOT_USERNAME}?start=act-" in staff.text

    async with db.uow() as uow:
        (activity,) = await uow.activities.search(
            ActivityQuery(statuses=frozenset(ActivityStatus), org_ids=(org_id,))
        )
        assert activity.status is ActivityStatus.PUBLISHED and activity.capacity == 15
        assert activity.starts_at.isoformat() == "2026-12-12T00:30:00+00:00"

    volunteer = chat(VOLUNTEER)
    await volunteer.say("/find")
    await volunteer.press("近期全部")
    text = await volunteer.press("湿地生态科普行")
    assert "湿地生态科普行" in text and "生态环保" in text and "剩余 15 / 共 15" in text
