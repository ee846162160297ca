"""QR codes of deep links in core.chat: who gets them, and what is said when links are not set up."""

from __future__ import annotations

from core.chat.conversation import Conversation
from core.chat.messages import Image
from core.chat.routes import build_routes
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.policy import Policy
from core.services.users import ensure_user, grant_role
from locales import translator
from tests.builders import make_activity, make_admin, make_org
from tests.chat.conftest import ChatUser


class FakeLinks:
    def link(self, channel: Channel, payload: str) -> str | None:
        return f"https://example.test/{channel}/{payload}"

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        return b"\x89PNG fake " + payload.encode()

    def wechat_qr(self, payload: str) -> str | None:
        return None


async def _seed(db, clock, staff_id: str) -> tuple[int, int]:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, title="青少年科普讲座")
        staff = await ensure_user(uow, clock, Channel.TELEGRAM, staff_id)
        await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return activity.id, org.id


async def test_staff_get_qr_codes_of_activities_and_org_invitations(db, clock) -> None:
    activity_id, org_id = await _seed(db, clock, "7201")
    conversation = Conversation(db.uow, clock, Policy(), translator, build_routes(), links=FakeLinks())
    staff = ChatUser(conversation, "7201")
    await staff.text(f"/start act-{activity_id}")
    await staff.press("二维码")
    [image] = [r for r in staff.last if isinstance(r, Image)]
    assert image.data.startswith(b"\x89PNG") and image.filename == f"act-{activity_id}.png"
    assert "青少年科普讲座" in image.caption and f"telegram/act-{activity_id}" in image.caption
    await staff.text(f"/qr org-{org_id}")
    [image] = [r for r in staff.last if isinstance(r, Image)]
    assert "南京市玄武区科技志愿服务队" in image.caption and f"telegram/org-{org_id}" in image.caption
    await staff.text("/qr")
    assert "/qr org-3" in staff.texts()


async def test_volunteers_see_no_qr_button_and_are_refused_with_the_reason(db, clock) -> None:
    activity_id, org_id = await _seed(db, clock, "7202")
    conversation = Conversation(db.uow, clock, Policy(), translator, build_routes(), links=FakeLinks())
    volunteer = ChatUser(conversation, "7299")
    await volunteer.text(f"/start act-{activity_id}")
    assert "青少年科普讲座" in volunteer.texts() and "二维码" not in volunteer.buttons()
    await volunteer.text(f"/qr act-{activity_id}")
    assert "只有活动或组织所属组织的工作人员" in volunteer.texts()
    await volunteer.text(f"/qr org-{org_id}")
    assert "工作人员权限" in volunteer.texts()
    assert not any(isinstance(r, Image) for r in volunteer.last)


async def test_without_links_no_qr_code_is_offered_and_staff_are_told_why(db, clock, chat_user) -> None:
    activity_id, _ = await _seed(db, clock, "7203")
    staff = chat_user("7203")
    await staff.text(f"/start act-{activity_id}")
    assert "二维码" not in staff.buttons()
    await staff.send_payload(f"oa:{activity_id}")
    assert "调查二维码" not in staff.buttons()
    await staff.text(f"/qr act-{activity_id}")
    assert "还没有配置链接和二维码" in staff.texts()


class TelegramOnlyLinks(FakeLinks):
    """As the app is wired today: links in Telegram only."""

    def link(self, channel: Channel, payload: str) -> str | None:
        return super().link(channel, payload) if channel is Channel.TELEGRAM else None


async def test_in_wechat_qr_codes_are_not_offered_and_the_administrator_makes_them(db, clock) -> None:
    activity_id, org_id = await _seed(db, clock, "7204")
    async with db.uow() as uow:
        wechat_staff = await ensure_user(uow, clock, Channel.WECHAT, "oStaff7204")
        await grant_role(uow, clock, Actor.system(), wechat_staff.id, Role.ORG_STAFF, org_id)
        await uow.commit()
    links = TelegramOnlyLinks()
    conversation = Conversation(db.uow, clock, Policy(), translator, build_routes(), links=links)
    in_telegram = ChatUser(conversation, "7204")
    await in_telegram.send_payload(f"oa:{activity_id}")
    assert "调查二维码" in in_telegram.buttons() and f"telegram/act-{activity_id}" in in_telegram.texts()
    in_wechat = ChatUser(conversation, "oStaff7204", channel=Channel.WECHAT)
    await in_wechat.send_payload(f"oa:{activity_id}")
    assert "调查二维码" not in in_wechat.buttons() and "招募链接" not in in_wechat.texts()
    await in_wechat.text(f"/start act-{activity_id}")
    assert "二维码" not in in_wechat.buttons()
    await in_wechat.text(f"/qr survey-{activity_id}")
    assert f"stvs wechat qrcode survey-{activity_id}" in in_wechat.texts()
    assert "Telegram" not in in_wechat.texts()
