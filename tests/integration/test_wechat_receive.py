"""WeChat end to end: XML as WeChat posts it (plaintext and safe mode), signed as WeChat signs it, posted
to /wechat of the real aiohttp app; the passive reply read back as WeChat would read it (decrypted,
parsed with defusedxml) and what the user would see asserted. Numbered options answered with digits."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import prcoords
import pytest
from aiohttp.test_utils import TestClient, TestServer
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto

from bots.app import SERVICES, build_app
from bots.bootstrap import bootstrap
from bots.media import Media, MediaStore
from bots.settings import Settings
from bots.wechat.receive import MAX_BODY_BYTES, WECHAT_RECEIVER, gcj_to_wgs
from bots.wechat.render import (
    PASSIVE_LIMIT_BYTES,
    MediaLinks,
    passive_size,
    render_text,
    split_passive,
)
from core.chat.messages import AskContact, AskLocation, Choice, Image, Reply, Say
from core.domain.activity import distance_m
from core.domain.codes import Channel
from core.domain.people import ConsentKind
from core.policy import Policy
from core.ports import DeliveryFailed
from core.services.users import ensure_user
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.wechat_messages import ACCOUNT, AES_KEY, APP_ID, TOKEN, Signer, WeChatMessages, sign

PUBLIC_URL = "https://stvs.example.org"
ORG = "南京市玄武区科技志愿服务队"
VENUE = (32.0415, 118.7781)  # WGS-84
OPTION = re.compile(r"^(?:回复|Reply) (\d+)[：:] ?(.*)$")


class FakeMessenger:
    """core.ports.Messenger: what the receiver sends actively."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Reply]]] = []
        self.down = False

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        if self.down:
            raise DeliveryFailed("server: 503")
        self.sent.append((external_id, list(replies)))

    def texts(self) -> list[str]:
        return [r.text for _, replies in self.sent for r in replies if isinstance(r, Say)]


class WeChatUser:
    """One WeChat user talking to the Official Account through /wechat."""

    def __init__(self, client: TestClient, signer: Signer, messages: WeChatMessages, openid: str) -> None:
        self.client, self.signer, self.messages, self.openid = client, signer, messages, openid
        self.last = ""

    async def post(self, xml: str, **wrap: Any) -> tuple[int, str]:
        # Each post one second later: events are told apart by FromUserName + CreateTime.
        self.messages.clock.advance(seconds=1)
        query, body = self.signer.wrap(xml, openid=self.openid, **wrap)
        response = await self.client.post("/wechat", params=query, data=body)
        return response.status, await response.text()

    async def send(self, xml: str) -> str:
        status, body = await self.post(xml)
        assert status == 200, body
        self.last = self.read(body)
        return self.last

    def read(self, body: str) -> str:
        """The text the user sees; "" for "success" (nothing shown)."""
        if body == "success":
            return ""
        root = fromstring(self.signer.open_reply(body))
        assert root.findtext("MsgType") == "text"
        assert root.findtext("ToUserName") == self.openid and root.findtext("FromUserName") == ACCOUNT
        content = root.findtext("Content") or ""
        assert len(content.encode()) <= PASSIVE_LIMIT_BYTES
        return content

    async def say(self, text: str) -> str:
        return await self.send(self.messages.text(self.openid, text))

    async def pick(self, label_part: str) -> str:
        """Answers with the number of the first option whose label contains label_part."""
        for line in self.last.splitlines():
            match = OPTION.match(line)
            if match and label_part in match.group(2):
                return await self.say(match.group(1))
        raise AssertionError(f"no option {label_part!r} in {self.last!r}")

    def options(self) -> list[str]:
        return [m.group(2) for line in self.last.splitlines() if (m := OPTION.match(line))]

    async def subscribe(self, scene: str | None = None) -> str:
        return await self.send(self.messages.subscribe(self.openid, scene))

    async def scan(self, scene: str) -> str:
        return await self.send(self.messages.scan(self.openid, scene))

    async def click(self, key: str) -> str:
        return await self.send(self.messages.click(self.openid, key))

    async def location(self, latitude: float, longitude: float) -> str:
        return await self.send(self.messages.location(self.openid, latitude, longitude, "南京市玄武区"))


@pytest.fixture(params=["plain", "aes"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(mode: str, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_aes_key=AES_KEY if mode == "aes" else "",
        public_url=PUBLIC_URL,
    )


@pytest.fixture
async def app_client(db: Database, clock: FakeClock, settings: Settings) -> AsyncIterator[TestClient]:
    services = bootstrap(settings, clock=clock, database=db)
    app = build_app(services, run_scheduler=False)
    app[WECHAT_RECEIVER].overflow_delay_s = 0
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def signer(clock: FakeClock, mode: str) -> Signer:
    return Signer(clock, crypto=WeChatCrypto(TOKEN, AES_KEY, APP_ID) if mode == "aes" else None)


@pytest.fixture
def wechat(app_client: TestClient, signer: Signer, clock: FakeClock):
    messages = WeChatMessages(clock)
    return lambda openid="oStvsUser0000000000000001": WeChatUser(app_client, signer, messages, openid)


@pytest.fixture
def messenger(app_client: TestClient) -> FakeMessenger:
    fake = FakeMessenger()
    app_client.app[SERVICES].messengers[Channel.WECHAT] = fake
    return fake


async def _activity(db: Database, clock: FakeClock, **changes: Any) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_name(ORG) or await make_org(uow, clock, ORG)
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, **changes)
        await uow.commit()
    return activity.id


async def _volunteer(db: Database, clock: FakeClock, openid: str, name: str, phone: str) -> None:
    """A volunteer registered earlier, known by their WeChat openid."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, openid)
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(
            name=name, phone=phone, region="江苏省南京市", skills=("information_tech",), service_areas=("c2",)
        )
        await register_volunteer(uow, clock, user.id, form, policy=Policy())
        await uow.commit()


async def _user_exists(db: Database, openid: str) -> bool:
    async with db.uow() as uow:
        return await uow.users.by_identity(Channel.WECHAT, openid) is not None


# ---- the handshake ------------------------------------------------------------------------------


async def test_server_verification_echoes_echostr_only_when_signed(app_client, signer, clock) -> None:
    good = signer.handshake("5837195632177263813")
    response = await app_client.get("/wechat", params=good)
    assert response.status == 200 and await response.text() == "5837195632177263813"

    bad = good | {"signature": "0" * 40}
    assert (await app_client.get("/wechat", params=bad)).status == 403
    clock.advance(minutes=6)
    assert (await app_client.get("/wechat", params=good)).status == 403


async def test_healthz_says_wechat_is_on(app_client) -> None:
    body = await (await app_client.get("/healthz")).json()
    assert body["channels"]["wechat"] == "on"


# ---- journeys -----------------------------------------------------------------------------------


async def test_follow_and_register_answering_numbered_options_with_digits(db, clock, wechat) -> None:
    await _activity(db, clock)
    user = wechat("oRegister000000000000000001")
    text = await user.subscribe()
    assert "注册" in text and user.options() == ["注册志愿者", "提出需求"]
    assert "语言" in await user.pick("注册志愿者") and user.options() == ["中文", "English"]
    assert "隐私声明" in await user.pick("中文")
    assert "出生日期" in await user.pick("同意")
    await user.say("1995-03-08")
    text = await user.say("张三")
    assert translator("zh_CN")("wechat.text.ask_contact") in text  # WeChat cannot share a contact
    await user.say("13812345678")
    await user.pick("信息技术")
    await user.pick("完成")
    await user.pick("科普讲座")
    assert "地区" in await user.pick("完成")
    await user.say("江苏省南京市玄武区")
    text = await user.pick(ORG)
    # A name is letters only (no "]]>"): user text echoed in CDATA is checked in
    # test_user_text_with_cdata_end_stays_well_formed.
    assert "注册成功！张三" in text
    assert "找活动" in user.options()
    async with db.uow() as uow:
        found = await uow.users.by_identity(Channel.WECHAT, user.openid)
        volunteer = await uow.volunteers.by_user(found.id)
        assert volunteer.name == "张三" and volunteer.phone == "13812345678"
        assert volunteer.skills == ["information_tech"]


async def test_find_card_sign_up_cancel_and_waitlist(db, clock, wechat) -> None:
    activity_id = await _activity(db, clock, capacity=1, title="社区防诈骗科普讲座")
    first, second = wechat("oFirst0000000000000000000001"), wechat("oSecond000000000000000000001")
    await _volunteer(db, clock, first.openid, "甲", "13812345678")
    await _volunteer(db, clock, second.openid, "乙", "13912345678")

    assert "近期全部" in (await first.click("FIND")) and "近期全部" in first.options()
    await first.pick("近期全部")
    text = await first.pick("社区防诈骗科普讲座")
    assert "剩余 1 / 共 1" in text
    assert "报名成功" in await first.pick("我要报名")

    await second.say("/find")
    await second.pick("近期全部")
    await second.pick("社区防诈骗科普讲座")
    assert "名额已满" in await second.pick("我要报名")
    assert "第 1 位" in await second.pick("加入候补")

    await first.click("MY")
    await first.pick("社区防诈骗科普讲座")
    await first.pick("取消报名")
    assert "已取消" in await first.pick("确定取消")
    async with db.uow() as uow:
        statuses = [s.status.value for s in await uow.signups.for_activity(activity_id)]
        assert statuses == ["cancelled", "confirmed"]


async def test_scene_qr_code_opens_the_activity_card_for_follow_and_scan(db, clock, wechat) -> None:
    activity_id = await _activity(db, clock, title="青少年科普讲座")
    newcomer = wechat("oNewcomer00000000000000000001")
    text = await newcomer.subscribe(f"act-{activity_id}")
    assert "青少年科普讲座" in text and "我要报名" in newcomer.options()

    follower = wechat("oFollower00000000000000000001")
    await _volunteer(db, clock, follower.openid, "丙", "13712345678")
    assert "青少年科普讲座" in await follower.scan(f"act-{activity_id}")
    assert "报名成功" in await follower.pick("我要报名")


async def test_feedback_and_a_redelivered_message_is_handled_once(db, clock, wechat) -> None:
    user = wechat("oFeedback00000000000000000001")
    await _volunteer(db, clock, user.openid, "丁", "13612345678")
    assert "意见" in await user.click("FEEDBACK")
    xml = user.messages.text(user.openid, "字体太小]]>看不清")
    assert "编号 1" in await user.send(xml)
    # WeChat's retry: the same MsgId again, answered "success" and written nothing.
    assert await user.send(xml) == ""
    async with db.uow() as uow:
        items = await uow.feedback.open_for_orgs(None, 10)
        assert [item.text for item in items] == ["字体太小]]>看不清"]
        # The user wrote: the customer-service window (bots.wechat.window) is open for active replies.
        assert await uow.wechat_windows.get(user.openid) is not None


# ---- coordinates --------------------------------------------------------------------------------


def _east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    latitude, longitude = point
    return latitude, longitude + metres / (111_195 * math.cos(math.radians(latitude)))


async def test_a_gcj02_position_300_m_from_the_venue_is_judged_after_conversion(db, clock, wechat) -> None:
    await _activity(db, clock, title="玄武湖科普", latitude=VENUE[0], longitude=VENUE[1])
    standing = _east_of(VENUE, 300)  # where the user really is (WGS-84)
    gcj = prcoords.wgs_gcj(prcoords.Coords(*standing))  # what WeChat sends

    # Unconverted, the point is about 0.8 km from the venue: a 500 m check-in radius would refuse it.
    raw_m = distance_m(*VENUE, gcj.lat, gcj.lon)
    assert 700 < raw_m < 900 and raw_m > Policy().default_checkin_radius_m
    converted = gcj_to_wgs(gcj.lat, gcj.lon)
    assert distance_m(*VENUE, *converted) == pytest.approx(300, abs=2)

    user = wechat("oNearMe000000000000000000001")
    await user.say("/find")
    text = await user.pick("我附近")
    assert translator("zh_CN")("wechat.text.ask_location") in text
    await user.location(gcj.lat, gcj.lon)
    assert any("玄武湖科普" in option and "0.3km" in option for option in user.options()), user.last


async def test_location_events_are_answered_success_and_store_nothing(db, wechat) -> None:
    user = wechat("oReporting00000000000000000001")
    assert await user.send(user.messages.location_event(user.openid, 32.04, 118.78)) == ""
    assert await user.send(user.messages.unsubscribe(user.openid)) == ""
    assert not await _user_exists(db, user.openid)


# ---- what WeChat cannot show ---------------------------------------------------------------------


async def test_unreadable_messages_get_a_short_help(wechat) -> None:
    user = wechat("oImages000000000000000000001")
    # An image is a photo now (a make-up request's evidence); a voice message is still unreadable.
    for xml in (user.messages.media(user.openid, "voice"), user.messages.of_type(user.openid, "hologram")):
        text = await user.send(xml)
        assert text.startswith("目前只能处理文字和位置消息") and "/help" in text


async def test_user_text_with_cdata_end_stays_well_formed(wechat) -> None:
    user = wechat("oCdata0000000000000000000001")
    text = await user.say("/a]]>b")
    assert "/a]]&gt;b" in text


async def test_a_turn_over_the_time_limit_answers_success_and_sends_actively(
    app_client, wechat, messenger
) -> None:
    receiver = app_client.app[WECHAT_RECEIVER]
    receiver.reply_within_s = 0.05
    handle = receiver.conversation.handle

    async def slow_handle(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # a turn that outlasts the time allowed for the passive reply
        return await handle(*args, **kwargs)

    receiver.conversation = SimpleNamespace(handle=slow_handle)
    user = wechat("oSlow0000000000000000000001")
    assert await user.say("/help") == ""
    await asyncio.gather(*receiver.pending)
    [(openid, replies)] = messenger.sent
    assert openid == user.openid and "常用命令" in replies[0].text and "回复 1：" in replies[0].text


async def test_a_long_reply_is_split_passive_then_active(db, clock, wechat, messenger, app_client) -> None:
    activity_id = await _activity(db, clock, title="长介绍的活动", guarantees="午餐、交通补贴、保险。" * 150)
    user = wechat("oLong0000000000000000000001")
    head = await user.scan(f"act-{activity_id}")
    await asyncio.gather(*app_client.app[WECHAT_RECEIVER].pending)
    [rest] = messenger.texts()
    # Cut at the end of the line before the long one; the rest, numbers and all, goes out actively.
    assert "【长介绍的活动】" in head and rest.startswith("保障：") and "回复 1：我要报名" in rest
    assert passive_size(head) <= PASSIVE_LIMIT_BYTES


async def test_the_rest_of_a_long_reply_that_wechat_refuses_is_said_from_the_outbox(
    db, clock, wechat, messenger, app_client
) -> None:
    activity_id = await _activity(db, clock, title="长介绍的活动", guarantees="午餐、交通补贴、保险。" * 150)
    user = wechat("oLong0000000000000000000003")
    messenger.down = True  # the customer-service API answers 5xx, or not at all
    head = await user.scan(f"act-{activity_id}")
    await asyncio.gather(*app_client.app[WECHAT_RECEIVER].pending)
    assert "【长介绍的活动】" in head and messenger.texts() == []

    messenger.down = False
    messengers = app_client.app[SERVICES].messengers
    assert (await dispatch_due(db.uow, clock, messengers, translator)).sent == 1
    [rest] = messenger.texts()  # the same rest, numbers and all, as it would have gone at once
    assert rest.startswith("保障：") and "回复 1：我要报名" in rest
    assert (await dispatch_due(db.uow, clock, messengers, translator)).sent == 0


async def test_a_long_reply_without_a_sender_is_cut_with_a_note(db, clock, wechat) -> None:
    activity_id = await _activity(db, clock, title="长介绍的活动", guarantees="午餐、交通补贴、保险。" * 150)
    user = wechat("oLong0000000000000000000002")
    text = await user.scan(f"act-{activity_id}")
    assert text.endswith("（内容过长，未能全部显示）")


# ---- bad inputs ---------------------------------------------------------------------------------

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oBad]]></FromUserName>
<CreateTime>1796086800</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&lol3;</Content>
<MsgId>1</MsgId></xml>"""


async def test_bad_signature_replay_oversize_entities_and_malformed_xml_are_refused(
    db, clock, wechat, mode
) -> None:
    user = wechat("oBad0000000000000000000000001")
    xml = user.messages.text(user.openid, "/help")
    query, body = user.signer.wrap(xml, openid=user.openid)
    forged = query | ({"msg_signature": "0" * 40} if mode == "aes" else {"signature": "0" * 40})
    assert (await user.client.post("/wechat", params=forged, data=body)).status == 403

    now = int(clock.now().timestamp())
    for timestamp in (now - 310, now + 310):  # signed properly, but too old or from the future
        assert (await user.post(xml, timestamp=str(timestamp)))[0] == 403

    padding = "字" * (MAX_BODY_BYTES // 3 + 10)
    assert (await user.post(user.messages.text(user.openid, padding)))[0] == 413
    assert (await user.post(BOMB))[0] == 400
    assert (await user.post("<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName>"))[0] == 400
    assert (await user.post("<root>not WeChat</root>"))[0] == 400
    assert not await _user_exists(db, user.openid)
    assert await user.say("/help")  # the same user, properly signed, is answered


@pytest.mark.parametrize("mode", ["aes"])
async def test_plaintext_post_is_refused_when_the_account_is_in_safe_mode(app_client, clock) -> None:
    messages = WeChatMessages(clock)
    timestamp, nonce = str(int(clock.now().timestamp())), "1234"
    query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    body = messages.text("oPlain00000000000000000000001", "/help").encode()
    assert (await app_client.post("/wechat", params=query, data=body)).status == 403


# ---- rendering ----------------------------------------------------------------------------------


def test_choices_are_numbered_across_the_whole_turn_in_english() -> None:
    replies = [
        Say("Pick one", (Choice("Sign up", "a.s:1"),)),
        Say("Or", (Choice("Waitlist", "a.w:1"), Choice("Menu", "menu"))),
        AskLocation("Where are you?", "Send location"),
        AskContact("Your phone?", "Share"),
    ]
    text = render_text(replies, "en")
    assert text.split("\n\n")[:2] == ["Pick one\nReply 1: Sign up", "Or\nReply 2: Waitlist\nReply 3: Menu"]
    t = translator("en")
    assert f"Where are you?\n{t('wechat.text.ask_location')}" in text
    assert text.endswith(f"Your phone?\n{t('wechat.text.ask_contact')}")


async def test_images_become_links_served_by_the_app(app_client) -> None:
    services = app_client.app[SERVICES]
    reply = Image(b"\x89PNG fake", "qr-act-1.png", "活动二维码")
    links = MediaLinks(services.media.batch(), PUBLIC_URL)
    text = render_text([reply], "zh_CN", links)
    url = re.search(r"https://\S+", text).group(0)
    assert (await app_client.get(url.removeprefix(PUBLIC_URL))).status == 404  # not saved yet
    await links.save()
    response = await app_client.get(url.removeprefix(PUBLIC_URL))
    assert response.status == 200 and await response.read() == b"\x89PNG fake"
    assert response.content_type == "image/png"
    assert (await app_client.get("/media/unknown-token")).status == 404
    assert "尚未配置公开网址" in render_text([reply], "zh_CN", MediaLinks(services.media.batch(), ""))


def test_split_passive_cuts_at_a_line_end_within_2048_bytes_counting_the_defused_cdata_end() -> None:
    text = "\n".join(f"第 {n} 行 ]]> 内容" for n in range(200))
    head, rest = split_passive(text)
    assert passive_size(head) <= PASSIVE_LIMIT_BYTES and head + "\n" + rest == text
    assert split_passive("短") == ("短", "")


async def test_beneficiary_answers_the_satisfaction_survey_from_a_scene_qr_code(db, clock, wechat) -> None:
    """3-8.1.2.1 over WeChat: scan the survey QR code at the end, answer 1-5 with digits, comment."""
    activity_id = await _activity(db, clock, title="社区健康讲座")
    clock.advance(days=11)  # the activity (ten days out in the builder) has begun
    farmer = wechat("oFarmer000000000000000000001")
    text = await farmer.subscribe(f"survey-{activity_id}")
    assert "社区健康讲座" in text and "5 非常满意" in farmer.options()
    for _ in range(5):
        await farmer.say("5")
    assert "留言" in farmer.last or "跳过" in " ".join(farmer.options())
    await farmer.say("讲得很清楚，谢谢志愿者")
    async with db.uow() as uow:
        (response,) = await uow.surveys.for_activity(activity_id)
        assert set(response.answers.values()) == {5} and response.comment == "讲得很清楚，谢谢志愿者"


async def test_a_media_link_works_on_any_instance_of_the_server_until_it_expires(db, clock) -> None:
    """The files live in the database: the instance that answers the link need not be the one that
    made it (several instances behind a load balancer, on PostgreSQL)."""
    made_here, served_there = MediaStore(db.uow, clock), MediaStore(db.uow, clock)
    batch = made_here.batch()
    token = batch.put(b"name,phone\n", "signups-1.csv", "text/csv")
    await batch.save()
    assert await served_there.get(token) == Media(b"name,phone\n", "signups-1.csv", "text/csv")
    clock.advance(minutes=11)
    assert await served_there.get(token) is None
    later = made_here.batch()
    later.put(b"png", "qr.png", "image/png")
    await later.save()  # and the expired file is gone from the table
    async with db.uow() as uow:
        assert await uow.media.get(token, clock.now() - timedelta(hours=1)) is None
