"""Telegram end to end: real Update JSON posted to /telegram/webhook of the real aiohttp app, the
real aiogram client answering through the fake Bot API, and what the user would see asserted."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bots.app import SERVICES
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.conftest import TELEGRAM_SECRET

SECRET = TELEGRAM_SECRET
VOLUNTEER_ZH = Person(id=5_000_000_001, first_name="志愿者", language_code="zh-hans")
VOLUNTEER_ZH_2 = Person(id=5_000_000_002, first_name="志愿者二", language_code="zh-hans")
VOLUNTEER_EN = Person(id=6_000_000_001, first_name="Volunteer", language_code="en")


class Chat:
    """One Telegram user talking to the bot through the webhook."""

    def __init__(
        self, client: TestClient, api: FakeTelegramAPI, person: Person, updates: TelegramUpdates
    ) -> None:
        self.client, self.api, self.person, self.updates = client, api, person, updates
        self.seen = 0

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        response = await self.client.post("/telegram/webhook", json=update, headers=headers)
        await self.api.answer_to_webhook(response)
        return response.status

    def new_messages(self) -> list[dict[str, Any]]:
        # The sent markup as well: Telegram returns inline keyboards in the Message, reply keyboards not.
        mine = [
            {**c.result, "sent_markup": c.params.get("reply_markup") or {}}
            for c in self.api.calls("sendMessage")
            if c.ok and c.result["chat"]["id"] == self.person.id
        ]
        fresh, self.seen = mine[self.seen :], len(mine)
        return fresh

    async def send(self, update: dict[str, Any]) -> str:
        assert await self.post(update) == 200
        self.last = self.new_messages()
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.last)

    async def say(self, text: str) -> str:
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return await self.send(self.updates.command(name, args, person=self.person))
        return await self.send(self.updates.text(text, person=self.person))

    async def press(self, label_part: str) -> str:
        for message in reversed(self.last):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label_part in button["text"]:
                        return await self.send(
                            self.updates.callback(
                                button["callback_data"], message=message, person=self.person
                            )
                        )
        raise AssertionError(f"no button {label_part!r} in {self.last}")

    async def share_contact(self, phone: str) -> str:
        return await self.send(self.updates.contact(phone, person=self.person))

    async def share_location(self, lat: float, lon: float) -> str:
        return await self.send(self.updates.location(lat, lon, person=self.person))


@pytest.fixture
def updates(clock: FakeClock) -> TelegramUpdates:
    return TelegramUpdates(clock=clock)


@pytest.fixture
def chat(app_client: TestClient, fake_telegram: FakeTelegramAPI, updates: TelegramUpdates):
    return lambda person=VOLUNTEER_ZH: Chat(app_client, fake_telegram, person, updates)


async def _activity(db: Database, clock: FakeClock, **changes: Any) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, **changes)
        await uow.commit()
    return activity.id


async def _register(chat: Chat, phone: str) -> None:
    await chat.say("/start")
    await chat.press("注册志愿者")
    await chat.press("中文")
    await chat.press("同意")
    await chat.say("1992-10-01")
    await chat.say("张三")
    assert chat.last[-1]["sent_markup"]["keyboard"][0][0]["request_contact"] is True
    await chat.share_contact(phone)
    await chat.press("信息技术")
    await chat.press("完成")
    await chat.press("科普讲座")
    await chat.press("完成")
    await chat.say("江苏省南京市玄武区")
    await chat.press("南京市玄武区科技志愿服务队")
    assert "注册成功" in chat.text


async def test_setmycommands_in_chinese_and_english_at_start(app_client, fake_telegram) -> None:
    calls = fake_telegram.calls("setMyCommands")
    assert {c.params.get("language_code") for c in calls} == {None, "en"}
    zh = next(c for c in calls if c.params.get("language_code") is None)
    assert {"command": "find", "description": "找活动"} in zh.params["commands"]


async def test_full_journey_register_sign_up_cancel_and_waitlist_promotion(
    db, clock, chat, fake_telegram, app_client
) -> None:
    activity_id = await _activity(db, clock, capacity=1, title="社区防诈骗科普讲座")
    first, second = chat(VOLUNTEER_ZH), chat(VOLUNTEER_ZH_2)
    await _register(first, "13812345678")
    await _register(second, "13912345678")

    text = await first.send(first.updates.start(f"act-{activity_id}", person=VOLUNTEER_ZH))
    assert "社区防诈骗科普讲座" in text and "剩余 1 / 共 1" in text
    assert "报名成功" in await first.press("我要报名")

    await second.send(second.updates.start(f"act-{activity_id}", person=VOLUNTEER_ZH_2))
    assert "名额已满" in await second.press("我要报名")
    assert "第 1 位" in await second.press("加入候补")

    await first.say("/my")
    await first.press("社区防诈骗科普讲座")
    await first.press("取消报名")
    assert "已取消" in await first.press("确定取消")

    services = app_client.app[SERVICES]
    result = await dispatch_due(db.uow, clock, services.messengers, translator)
    assert result.sent == 1
    assert "从候补转为正式参加" in second.new_messages()[-1]["text"]


async def test_english_speaker_registers_in_english(db, clock, chat) -> None:
    await _activity(db, clock)
    user = chat(VOLUNTEER_EN)
    assert "register in two minutes" in await user.say("/start")
    assert "Please choose a language" in await user.press("Register")
    assert "Privacy notice" in await user.press("English")
    await user.press("I agree")
    assert "real name" in await user.say("1990-01-01")


async def test_duplicate_update_is_processed_once(chat, fake_telegram) -> None:
    user = chat()
    update = user.updates.command("help", person=VOLUNTEER_ZH)
    assert await user.post(update) == 200
    assert await user.post(update) == 200
    assert len(fake_telegram.sent_texts(VOLUNTEER_ZH.id)) == 1


async def test_bad_secret_and_malformed_payloads_are_rejected(chat, fake_telegram) -> None:
    user = chat()
    update = user.updates.command("help", person=VOLUNTEER_ZH)
    assert await user.post(update, secret="wrong") == 401
    assert await user.post(update, secret=None) == 401
    response = await user.client.post(
        "/telegram/webhook", data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 400
    assert fake_telegram.sent_texts() == []


async def test_location_near_me_and_impossible_coordinates(db, clock, chat) -> None:
    await _activity(db, clock, title="中关村科普讲座")
    user = chat()
    await user.say("/find")
    await user.press("我附近")
    assert user.last[-1]["sent_markup"]["keyboard"][0][0]["request_location"] is True
    await user.share_location(39.985, 116.305)
    buttons = [
        b["text"]
        for m in user.last
        for row in m.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]
    assert any("中关村科普讲座" in b and "km" in b for b in buttons)


async def test_healthz_reports_channels(app_client) -> None:
    response = await app_client.get("/healthz")
    body = await response.json()
    assert body["status"] == "ok" and body["channels"]["telegram"] == "on"


STAFF_EN = Person(id=6_000_000_009, first_name="Organizer", language_code="en")


async def test_organizer_in_english_publishes_manages_and_exports(db, clock, chat, fake_telegram) -> None:
    from core.domain.people import Actor, Role
    from core.ports import ActivityQuery
    from core.services.signups import sign_up
    from core.services.users import ensure_user, grant_role
    from tests.builders import make_volunteer

    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市栖霞区科技志愿服务队")
        user = await ensure_user(uow, clock, "telegram", str(STAFF_EN.id), language="en")
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    staff = chat(STAFF_EN)
    assert "Organizer tools" in await staff.say("/organizer")
    assert "What is the activity called" in await staff.press("Publish an activity")
    await staff.say("Robotics workshop")
    await staff.press("Science education")
    await staff.press("Science education")
    await staff.press("Online")
    assert "2026-12-08 09:00" in await staff.say("tomorrow")  # the example: a week ahead, from the clock
    await staff.say("2026-12-12 10:00")
    await staff.say("12:00")
    assert "http" in await staff.say("not a link")
    await staff.say("https://meeting.example.cn/42")
    await staff.say("25")
    for answer in (
        "Spark interest in robotics",
        "Demo and hands-on",
        "Middle-school pupils",
        "Certificates",
        "none",
    ):
        await staff.say(answer)
    await staff.press("Low")
    await staff.press("No")
    assert "Robotics workshop" in staff.text and "Places: 25" in staff.text
    assert "Recruitment link: https://t.me/stvs_test_bot?start=act-" in await staff.press("Publish now")
    async with db.uow() as uow:
        (activity,) = await uow.activities.search(ActivityQuery(org_ids=(org.id,)))
        _, volunteer = await make_volunteer(uow, clock, name="Volunteer One")
        await sign_up(uow, clock, volunteer, activity.id)
        await uow.commit()
    await staff.press("View the activity")
    assert "confirmed 1" in staff.text
    fake_telegram.clear()
    await staff.press("Export the list")
    (upload,) = fake_telegram.calls("sendDocument")
    assert upload.params["document"].filename == f"signups-{activity.id}.csv"
    assert "Volunteer One" in upload.params["document"].data.decode("utf-8-sig")
    assert "No.,Name,Phone,Status" in upload.params["document"].data.decode("utf-8-sig")


async def test_the_answer_to_the_webhook_carries_one_call_that_telegram_makes(chat, fake_telegram) -> None:
    """Bot API, "Making requests when getting updates": the last reply of a turn goes back in the
    webhook's answer instead of as a call of its own; a button press is answered at once."""
    user = chat()
    response = await user.client.post(
        "/telegram/webhook",
        json=user.updates.command("start", person=VOLUNTEER_ZH),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    answer = await response.json()
    assert answer["method"] == "sendMessage"
    assert answer["chat_id"] == VOLUNTEER_ZH.id and answer["parse_mode"] == "HTML"
    assert "您好" in answer["text"]
    buttons = answer["reply_markup"]["inline_keyboard"]
    # The greeting is the turn's only reply: left to Telegram, the bot sent nothing itself.
    assert fake_telegram.sent_texts(VOLUNTEER_ZH.id) == []

    press = user.updates.callback(buttons[0][0]["callback_data"], person=VOLUNTEER_ZH)  # 注册志愿者
    response = await user.client.post(
        "/telegram/webhook", json=press, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert fake_telegram.last("answerCallbackQuery").params == {
        "callback_query_id": press["callback_query"]["id"]
    }
    answer = await response.json()
    assert answer["method"] == "sendMessage" and "语言" in answer["text"]
    await fake_telegram.answer_to_webhook(response)
    assert "语言" in fake_telegram.sent_texts(VOLUNTEER_ZH.id)[-1]


async def test_a_message_with_several_replies_sends_all_but_the_last_itself(
    db, clock, chat, fake_telegram
) -> None:
    await _activity(db, clock)
    user = chat()
    await _register(user, "13812345678")
    before = len(fake_telegram.calls("sendMessage"))
    await user.say("/cancel")  # "cancelled" and then the menu: two messages, in order
    texts = fake_telegram.sent_texts(VOLUNTEER_ZH.id)
    assert len(fake_telegram.calls("sendMessage")) == before + 2
    assert "已取消" in texts[-2] and "请选择" in texts[-1]
