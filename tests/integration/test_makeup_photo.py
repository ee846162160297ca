"""The photo on a make-up request (补录, CVST 2 6.3 c): a volunteer may attach one photo as evidence
after the reason, or skip; staff deciding the request see 查看照片 and get the image. Through the real
endpoints: Telegram updates to the webhook (the photo fetched with getFile from the fake Bot API) and
WeChat image messages to /wechat (fetched with media/get from the fake WeChat API), on both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from core.domain.attendance import PHOTO_MAX_BYTES
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.users import ensure_user, grant_role
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI, UploadedFile
from tests.fakes.wechat_api import TEST_APP_SECRET, FakeWeChatAPI
from tests.integration.test_attendance_journeys import (
    ORG,
    STAFF,
    TITLE,
    VOLUNTEER,
    _open_request,
    _world,
    on_telegram,
)
from tests.integration.test_wechat_receive import WeChatUser
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import PUBLIC_URL

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40  # a group photo, as far as we care
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 30
WECHAT_VOLUNTEER = "oMakeupPhoto000000000000001"
WECHAT_STAFF = "oMakeupStaff000000000000001"


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api


@pytest.fixture
def settings_changes(fake_wechat: FakeWeChatAPI) -> dict[str, Any]:
    """The WeChat API on (the fake one), so image messages can be fetched."""
    return {"wechat_app_secret": TEST_APP_SECRET, "wechat_api_base": fake_wechat.base_url}


async def _requests(db: Database) -> list[Any]:
    async with db.uow() as uow:
        found = await uow.makeups.pending_for_orgs(None, 10)
        return [(r.id, r.has_photo, await uow.makeups.photo(r.id or 0)) for r in found]


async def _to_photo_step(volunteer, reason: str = "现场手机没有信号") -> str:
    await volunteer.say("/makeup")
    await volunteer.press(TITLE)
    await volunteer.say("09:00-10:30")
    return await volunteer.say(reason)


# ---- Telegram ------------------------------------------------------------------------------------


async def test_telegram_photo_is_kept_with_the_request_and_staff_see_it(
    db, clock: FakeClock, chat, fake_telegram: FakeTelegramAPI
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    clock.set(world.ends + timedelta(hours=3))

    text = await _to_photo_step(volunteer)
    assert "如有现场照片（例如活动合影），请发送一张作为佐证，不超过 5 MB" in text
    thumb, full = fake_telegram.put_file(JPEG[:300]), fake_telegram.put_file(JPEG)
    text = await volunteer.send(volunteer.updates.photo(thumb, full, person=VOLUNTEER))
    assert text.startswith(f"补录申请已提交（附照片 1 张）：“{TITLE}”，申请 1.5 小时。")
    assert len(fake_telegram.downloads) == 1  # the largest size only
    [(request_id, has_photo, photo)] = await _requests(db)
    assert has_photo and photo == ("image/jpeg", JPEG)

    text = await _open_request(staff, "王补录")
    assert "照片：志愿者附有一张现场照片。" in text
    text = await staff.press("查看照片")
    sent = fake_telegram.calls("sendPhoto")[-1]
    assert sent.params["chat_id"] == STAFF.id and sent.params["caption"] == "补录申请所附的现场照片"
    assert isinstance(sent.params["photo"], UploadedFile) and sent.params["photo"].data == JPEG
    assert text.startswith("以上是志愿者为这条补录申请附的照片。")
    text = await staff.press("批准")
    assert "已批准补录 1.5 小时" in text


async def test_telegram_photo_over_the_cap_is_refused_and_the_step_waits(
    db, clock: FakeClock, chat, fake_telegram: FakeTelegramAPI
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer = chat(VOLUNTEER)
    clock.set(world.ends + timedelta(hours=3))
    await _to_photo_step(volunteer)

    # Declared over the cap by Telegram: not even fetched.
    huge = {"file_id": "AgACAgADhuge", "file_unique_id": "AQADhuge", "file_size": PHOTO_MAX_BYTES + 1}
    text = await volunteer.send(volunteer.updates.photo(huge, person=VOLUNTEER))
    assert text.startswith("这张照片超过 5 MB，无法保存。请发送一张较小的照片")
    # An image sent as a file, its size known only from getFile.
    big = fake_telegram.put_file(b"\x89PNG" + b"\0" * PHOTO_MAX_BYTES, "group.png")
    del big["file_size"]
    text = await volunteer.send(volunteer.updates.document(big, "group.png", "image/png", person=VOLUNTEER))
    assert text.startswith("这张照片超过 5 MB")
    assert fake_telegram.downloads == [] and await _requests(db) == []

    text = await volunteer.say("好的")
    assert text.startswith("请发送一张照片（例如活动合影），或跳过。")
    text = await volunteer.press("跳过")
    assert text.startswith(f"补录申请已提交：“{TITLE}”")
    [(_, has_photo, photo)] = await _requests(db)
    assert not has_photo and photo is None


async def test_telegram_png_sent_as_a_file_is_taken(db, clock: FakeClock, chat, fake_telegram) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer = chat(VOLUNTEER)
    clock.set(world.ends + timedelta(hours=3))
    await _to_photo_step(volunteer)
    file = fake_telegram.put_file(PNG, "合影.png")
    text = await volunteer.send(
        volunteer.updates.document(file, "合影.png", "image/png", caption="合影", person=VOLUNTEER)
    )
    assert text.startswith("补录申请已提交（附照片 1 张）")
    [(_, _, photo)] = await _requests(db)
    assert photo == ("image/png", PNG)


async def test_telegram_photo_that_cannot_be_fetched_is_asked_again(
    db, clock: FakeClock, chat, fake_telegram
) -> None:
    world = await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer = chat(VOLUNTEER)
    clock.set(world.ends + timedelta(hours=3))
    await _to_photo_step(volunteer)
    gone = {"file_id": "AgACAgADunknown", "file_unique_id": "AQADunknown", "file_size": 2048}
    text = await volunteer.send(volunteer.updates.photo(gone, person=VOLUNTEER))
    assert text.startswith("没能收到这张照片，请重新发送一次，或跳过。")
    text = await volunteer.send(volunteer.updates.photo(fake_telegram.put_file(JPEG), person=VOLUNTEER))
    assert text.startswith("补录申请已提交（附照片 1 张）")


async def test_telegram_photo_outside_the_step_is_answered_politely(db, clock, chat, fake_telegram) -> None:
    await _world(db, clock, on_telegram(VOLUNTEER, "王补录"))
    volunteer = chat(VOLUNTEER)
    text = await volunteer.send(volunteer.updates.photo(fake_telegram.put_file(JPEG), person=VOLUNTEER))
    assert text.startswith("现在不需要照片。如要为补录申请附照片，请先发送 /makeup")
    assert await _requests(db) == []


# ---- WeChat ----------------------------------------------------------------------------------------


async def test_wechat_image_is_fetched_kept_and_shown_to_staff_on_wechat(
    db, clock: FakeClock, wechat, fake_wechat: FakeWeChatAPI, app_client
) -> None:
    world = await _world(db, clock, (Channel.WECHAT, WECHAT_VOLUNTEER, "微信补录"))
    async with db.uow() as uow:
        org = await uow.orgs.by_name(ORG)
        user = await ensure_user(uow, clock, Channel.WECHAT, WECHAT_STAFF, language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    volunteer = wechat(WECHAT_VOLUNTEER)
    # One message source for both: WeChat's MsgIds are unique across users.
    staff = WeChatUser(app_client, volunteer.signer, volunteer.messages, WECHAT_STAFF)
    clock.set(world.ends + timedelta(hours=3))

    await volunteer.say("/makeup")
    await volunteer.pick(TITLE)
    await volunteer.say("09:00-10:30")
    text = await volunteer.say("到场时手机没电")
    assert "如有现场照片" in text and volunteer.options() == ["跳过", "主菜单"]
    media_id = fake_wechat.put_media(PNG, "image/png")
    text = await volunteer.send(volunteer.messages.image(WECHAT_VOLUNTEER, media_id))
    assert text.startswith("补录申请已提交（附照片 1 张）")
    assert fake_wechat.media_fetches == [media_id]
    [(_, has_photo, photo)] = await _requests(db)
    assert has_photo and photo == ("image/png", PNG)

    await staff.say("/makeups")
    await staff.pick("微信补录")
    assert "照片：志愿者附有一张现场照片。" in staff.last
    text = await staff.pick("查看照片")
    [url] = re.findall(re.escape(PUBLIC_URL) + r"(/media/\S+)", text)
    served = await app_client.get(url)
    assert served.status == 200 and served.content_type == "image/png" and await served.read() == PNG
    assert "批准" in staff.options()


async def test_wechat_image_that_cannot_be_fetched_or_is_too_large_leaves_the_step_open(
    db, clock: FakeClock, wechat, fake_wechat: FakeWeChatAPI
) -> None:
    world = await _world(db, clock, (Channel.WECHAT, WECHAT_VOLUNTEER, "微信补录"))
    volunteer = wechat(WECHAT_VOLUNTEER)
    clock.set(world.ends + timedelta(hours=3))
    await volunteer.say("/makeup")
    await volunteer.pick(TITLE)
    await volunteer.say("09:00-10:30")
    await volunteer.say("到场时手机没电")

    text = await volunteer.send(volunteer.messages.image(WECHAT_VOLUNTEER, "MEDIA_unknown"))
    assert text.startswith("没能收到这张照片，请重新发送一次，或跳过。")
    big = fake_wechat.put_media(b"\xff\xd8" + b"\0" * PHOTO_MAX_BYTES)
    text = await volunteer.send(volunteer.messages.image(WECHAT_VOLUNTEER, big))
    assert text.startswith("这张照片超过 5 MB")
    assert await _requests(db) == []
    text = await volunteer.pick("跳过")
    assert text.startswith(f"补录申请已提交：“{TITLE}”")


async def test_wechat_image_outside_the_step_is_answered_politely(db, clock, wechat, fake_wechat) -> None:
    user = wechat("oPhotoOutside000000000000001")
    text = await user.send(user.messages.image(user.openid, fake_wechat.put_media(JPEG)))
    assert text.startswith("现在不需要照片。")
