"""The WeChat account's parametric QR code of the beneficiaries' survey (3-8.1.2.1), handed out in chat:
staff in WeChat open the survey card and get the address of the code's image; the first look makes
the code with qrcode/create (the fake WeChat API) and keeps what it holds, later looks draw the same
image without asking WeChat again, and an address the bot did not give out is not served. Through the
real app, both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from io import BytesIO
from typing import Any

import pytest
import segno

from bots.wechat.qrcodes import KEY_PREFIX
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.users import ensure_user, grant_role
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.fakes.wechat_messages import APP_ID
from tests.integration.test_matching_journeys import _ended_activity
from tests.integration.two_channels import PUBLIC_URL, app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]  # the two-channel app

STAFF = "oQrStaff0000000000000000001"


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI(app_id=APP_ID) as api:
        yield api


@pytest.fixture
def settings_changes(fake_wechat: FakeWeChatAPI) -> dict[str, Any]:
    """The account's API on: the secret, and the fake WeChat in place of api.weixin.qq.com."""
    return {"wechat_app_secret": fake_wechat.secret, "wechat_api_base": fake_wechat.base_url}


async def _at_the_card(db, clock, wechat) -> tuple[int, int, Any]:
    """An ended activity, and a staff member of its org in WeChat looking at its card."""
    activity_id = await _ended_activity(db, clock, high_privacy=False)
    async with db.uow() as uow:
        org_id = (await uow.activities.get(activity_id)).org_id
        user = await ensure_user(uow, clock, Channel.WECHAT, STAFF)
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, org_id)
        await uow.commit()
    staff = wechat(STAFF)
    await staff.say("/organizer")
    await staff.pick("本组织活动")
    await staff.pick("老年人心理健康讲座")
    return activity_id, org_id, staff


async def test_wechat_staff_get_the_survey_code_made_once_and_served_only_signed(
    db, clock, wechat, app_client, fake_wechat
) -> None:
    activity_id, org_id, staff = await _at_the_card(db, clock, wechat)
    text = await staff.pick("满意度调查")
    payload = f"survey-{activity_id}"
    assert "stvs wechat qrcode" not in text  # no administrator needed any more
    [path] = re.findall(re.escape(PUBLIC_URL) + r"(/wechat/qr/" + payload + r"\.png\?sig=[0-9a-f]{16})", text)
    assert fake_wechat.calls("qrcode/create") == []  # made on the first look, not before

    first = await app_client.get(path)
    assert first.status == 200 and first.content_type == "image/png"
    image = await first.read()
    [made] = fake_wechat.calls("qrcode/create")
    assert made.body["action_name"] == "QR_LIMIT_STR_SCENE"
    assert made.body["action_info"]["scene"]["scene_str"] == payload
    async with db.uow() as uow:
        content, _ = await uow.wechat_tokens.get(KEY_PREFIX + payload)
    assert content.startswith(f"http://weixin.qq.com/q/{payload}_")  # what WeChat answered
    drawn = BytesIO()
    segno.make(content, error="m").save(drawn, kind="png", scale=8, border=2)
    assert image == drawn.getvalue()  # the image holds what the code holds

    again = await app_client.get(path)
    assert again.status == 200 and await again.read() == image
    assert len(fake_wechat.calls("qrcode/create")) == 1  # kept: WeChat is asked once

    forged = path.replace(payload, f"survey-{activity_id + 1}")
    assert (await app_client.get(forged)).status == 404  # another payload under this signature
    unsigned = path.split("?")[0]
    assert (await app_client.get(unsigned)).status == 404
    assert (await app_client.get(unsigned, params={"sig": "签名"})).status == 404  # not even ASCII
    assert len(fake_wechat.calls("qrcode/create")) == 1


async def test_when_wechat_refuses_the_code_the_image_is_unavailable_and_nothing_is_kept(
    db, clock, wechat, app_client, fake_wechat
) -> None:
    activity_id, org_id, staff = await _at_the_card(db, clock, wechat)
    [path] = re.findall(re.escape(PUBLIC_URL) + r"(/wechat/qr/[\w.?=-]+)", await staff.pick("满意度调查"))
    fake_wechat.fail_next(45009, endpoint="qrcode/create")  # api freq out of limit
    assert (await app_client.get(path)).status == 503
    async with db.uow() as uow:
        assert await uow.wechat_tokens.get(KEY_PREFIX + f"survey-{activity_id}") is None
    assert (await app_client.get(path)).status == 200  # the next look makes it


async def test_the_qr_buttons_and_qr_command_give_wechat_staff_the_accounts_codes(
    db, clock, wechat, app_client, fake_wechat
) -> None:
    activity_id, org_id, staff = await _at_the_card(db, clock, wechat)
    text = await staff.pick("调查二维码")  # offered in WeChat now that the account can make codes
    assert "公众号的带参数二维码" in text and f"/wechat/qr/survey-{activity_id}.png?sig=" in text
    text = await staff.say(f"/qr org-{org_id}")
    [path] = re.findall(re.escape(PUBLIC_URL) + r"(/wechat/qr/org-\d+\.png\?sig=[0-9a-f]{16})", text)
    assert (await app_client.get(path)).status == 200
    [made] = fake_wechat.calls("qrcode/create")
    assert made.body["action_info"]["scene"]["scene_str"] == f"org-{org_id}"
