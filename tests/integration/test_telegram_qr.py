"""QR codes of deep links over Telegram (2-6.1 a, 2-7.2): the bot's username comes from getMe at
start-up, staff press "二维码" on an activity card and get a PNG whose caption carries the t.me link."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bots.app import SERVICES
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.users import ensure_user, grant_role
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_USERNAME, FakeTelegramAPI, UploadedFile
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.test_telegram_webhook import Chat

STAFF = Person(id=5_000_000_101, first_name="工作人员", language_code="zh-hans")
VOLUNTEER = Person(id=5_000_000_102, first_name="志愿者", language_code="zh-hans")


@pytest.fixture
def chat(app_client: TestClient, fake_telegram: FakeTelegramAPI, clock: FakeClock):
    updates = TelegramUpdates(clock=clock)
    return lambda person: Chat(app_client, fake_telegram, person, updates)


async def _seed(db: Database, clock: FakeClock) -> tuple[int, int]:
    """An org with a published activity, and STAFF granted the org's staff role."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, title="社区防诈骗科普讲座")
        staff = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id))
        await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return activity.id, org.id


def _photos(api: FakeTelegramAPI, person: Person) -> list[tuple[UploadedFile, str]]:
    return [
        (c.params["photo"], c.params.get("caption", ""))
        for c in api.calls("sendPhoto")
        if c.ok and c.params["chat_id"] == person.id
    ]


async def test_username_is_fetched_once_at_start_up(app_client, fake_telegram) -> None:
    assert len(fake_telegram.calls("getMe")) == 1
    assert app_client.app[SERVICES].telegram_links.bot_username == TEST_BOT_USERNAME


async def test_staff_press_qr_on_the_card_and_get_a_png_with_the_deep_link(
    db, clock, chat, fake_telegram
) -> None:
    activity_id, _ = await _seed(db, clock)
    staff = chat(STAFF)
    await staff.send(staff.updates.start(f"act-{activity_id}", person=STAFF))
    assert "社区防诈骗科普讲座" in staff.text
    await staff.press("二维码")
    [(photo, caption)] = _photos(fake_telegram, STAFF)
    assert photo.data.startswith(b"\x89PNG") and photo.filename == f"act-{activity_id}.png"
    assert f"t.me/{TEST_BOT_USERNAME}?start=act-{activity_id}" in caption
    assert "社区防诈骗科普讲座" in caption


async def test_staff_get_the_join_org_invitation_qr(db, clock, chat, fake_telegram) -> None:
    _, org_id = await _seed(db, clock)
    staff = chat(STAFF)
    await staff.say(f"/qr org-{org_id}")
    [(photo, caption)] = _photos(fake_telegram, STAFF)
    assert photo.data.startswith(b"\x89PNG")
    assert (
        f"t.me/{TEST_BOT_USERNAME}?start=org-{org_id}" in caption and "南京市玄武区科技志愿服务队" in caption
    )


async def test_volunteers_get_no_qr_button_and_a_reason_when_they_ask(db, clock, chat, fake_telegram) -> None:
    activity_id, _ = await _seed(db, clock)
    volunteer = chat(VOLUNTEER)
    await volunteer.send(volunteer.updates.start(f"act-{activity_id}", person=VOLUNTEER))
    buttons = [
        b["text"]
        for m in volunteer.last
        for row in m.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]
    assert buttons and "二维码" not in buttons
    assert "工作人员" in await volunteer.say(f"/qr act-{activity_id}")
    assert _photos(fake_telegram, VOLUNTEER) == []


async def test_survey_and_need_qr_codes_for_staff(db, clock, chat, fake_telegram) -> None:
    """3-8.1.2.1 and 3-6.1.1: the survey and the need form are reached by QR code on site."""
    activity_id, org_id = await _seed(db, clock)
    staff = chat(STAFF)
    for payload in (f"survey-{activity_id}", f"need-{org_id}"):
        fake_telegram.clear()
        await staff.say(f"/qr {payload}")
        (photo,) = fake_telegram.calls("sendPhoto")
        assert photo.params["photo"].data.startswith(b"\x89PNG")
        assert f"t.me/{TEST_BOT_USERNAME}?start={payload}" in photo.params["caption"]
