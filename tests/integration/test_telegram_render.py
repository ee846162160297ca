"""render() through the real aiogram Bot against the fake Bot API: the exact calls Telegram receives."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter

from bots.telegram.adapter import webhook_answer
from bots.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, render, split_text
from core.chat.messages import AskContact, AskLocation, Choice, Document, Image, Link, Say
from tests.fakes.telegram_api import FakeTelegramAPI, UploadedFile

# Shared fixtures; once tests/conftest.py lists "tests.fakes.telegram_api" in pytest_plugins, drop these.

CHAT = 5_012_345_678
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Sleeps:
    """Records flood waits instead of sleeping."""

    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


async def test_say_with_choices_sends_an_inline_keyboard_with_columns_per_row(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    choices = tuple(Choice(f"活动 {n}", f"act:{n}") for n in range(1, 4))

    await render(telegram_bot, CHAT, [Say("请选择活动：", choices, columns=2)])

    assert fake_telegram.methods() == ["sendMessage"]
    assert fake_telegram.last("sendMessage").params == {
        "chat_id": CHAT,
        "text": "请选择活动：",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "活动 1", "callback_data": "act:1"}, {"text": "活动 2", "callback_data": "act:2"}],
                [{"text": "活动 3", "callback_data": "act:3"}],
            ]
        },
    }
    assert fake_telegram.messages(CHAT)[-1]["reply_markup"]["inline_keyboard"][1] == [
        {"text": "活动 3", "callback_data": "act:3"}
    ]


async def test_user_text_is_html_escaped_and_shown_verbatim(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [Say("您的反馈：<b>& 谢谢</b>")])

    assert fake_telegram.last("sendMessage").params["text"] == "您的反馈：&lt;b&gt;&amp; 谢谢&lt;/b&gt;"
    assert fake_telegram.sent_texts(CHAT) == ["您的反馈：<b>& 谢谢</b>"]


async def test_long_text_is_split_on_lines_with_the_keyboard_on_the_last_part(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    lines = [f"{n:04d} " + "志愿服务记录" * 14 for n in range(100)]  # 89 characters a line
    text = "\n".join(lines) + "。"
    assert len(text) == 9000

    await render(telegram_bot, CHAT, [Say(text, (Choice("更多", "more"),))])

    calls = fake_telegram.calls("sendMessage")
    assert [c.status for c in calls] == [200, 200, 200]
    assert all(len(c.params["text"]) <= TEXT_LIMIT for c in calls)
    assert ["reply_markup" in c.params for c in calls] == [False, False, True]
    assert calls[-1].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "更多", "callback_data": "more"}]]
    }
    assert "\n".join(c.params["text"] for c in calls) == text  # cut at line ends only


def test_a_line_longer_than_the_limit_is_cut_inside_without_breaking_characters() -> None:
    text = "😀" * 2100  # 4200 UTF-16 code units

    parts = split_text(text)

    assert "".join(parts) == text
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, 104]


async def test_clear_keyboard_without_choices_removes_the_reply_keyboard(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [Say("已收到位置", clear_keyboard=True)])

    assert fake_telegram.last("sendMessage").params["reply_markup"] == {"remove_keyboard": True}


async def test_ask_location_shows_a_one_time_location_button(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [AskLocation("请发送您的位置以签到", "📍 发送位置")])

    assert fake_telegram.last("sendMessage").params == {
        "chat_id": CHAT,
        "text": "请发送您的位置以签到",
        "parse_mode": "HTML",
        "reply_markup": {
            "keyboard": [[{"text": "📍 发送位置", "request_location": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        },
    }
    # a reply keyboard belongs to the chat, not to the message
    assert "reply_markup" not in fake_telegram.messages(CHAT)[-1]


async def test_ask_contact_shows_a_one_time_contact_button(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [AskContact("请分享手机号", "📱 分享手机号")])

    assert fake_telegram.last("sendMessage").params["reply_markup"] == {
        "keyboard": [[{"text": "📱 分享手机号", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


async def test_image_is_uploaded_with_filename_bytes_and_escaped_caption(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [Image(PNG, "checkin-qr.png", caption="签到码 <A&B>")])

    call = fake_telegram.last("sendPhoto")
    assert fake_telegram.methods() == ["sendPhoto"]
    assert call.params == {
        "chat_id": CHAT,
        "photo": UploadedFile("checkin-qr.png", PNG),
        "caption": "签到码 &lt;A&amp;B&gt;",
        "parse_mode": "HTML",
    }
    assert call.result["caption"] == "签到码 <A&B>"


async def test_image_with_a_long_caption_sends_the_caption_first(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    caption = "说" * (CAPTION_LIMIT + 1)

    await render(telegram_bot, CHAT, [Image(PNG, "poster.png", caption=caption)])

    assert fake_telegram.methods() == ["sendMessage", "sendPhoto"]
    assert fake_telegram.sent_texts(CHAT) == [caption]
    photo = fake_telegram.last("sendPhoto").params
    assert "caption" not in photo
    assert photo["photo"].filename == "poster.png"


async def test_document_is_uploaded_with_filename_and_bytes(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    pdf = b"%PDF-1.7\n" + b"0" * 5000

    await render(telegram_bot, CHAT, [Document(pdf, "证书-2026.pdf", caption="志愿服务证书")])

    call = fake_telegram.last("sendDocument")
    assert call.params["document"].filename == "证书-2026.pdf"
    assert call.params["document"].data == pdf
    assert call.params["caption"] == "志愿服务证书"
    assert call.result["document"]["file_size"] == len(pdf)
    assert call.result["document"]["mime_type"] == "application/pdf"


async def test_link_is_a_message_with_an_inline_url_button(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    await render(telegram_bot, CHAT, [Link("填写满意度问卷", "https://wj.example.cn/s/abc?u=1&x=2")])

    assert fake_telegram.last("sendMessage").params == {
        "chat_id": CHAT,
        "text": "填写满意度问卷",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [[{"text": "🔗 wj.example.cn", "url": "https://wj.example.cn/s/abc?u=1&x=2"}]]
        },
    }


async def test_replies_are_sent_in_order(fake_telegram: FakeTelegramAPI, telegram_bot: Bot) -> None:
    await render(
        telegram_bot,
        CHAT,
        [Say("一"), Image(PNG, "a.png"), Say("二"), Document(b"x", "b.txt"), AskLocation("三", "位置")],
    )

    assert fake_telegram.methods() == [
        "sendMessage",
        "sendPhoto",
        "sendMessage",
        "sendDocument",
        "sendMessage",
    ]
    assert fake_telegram.sent_texts(CHAT) == ["一", "二", "三"]
    assert "caption" not in fake_telegram.last("sendPhoto").params


async def test_flood_wait_is_waited_out_then_the_message_is_sent(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.fail_next("sendMessage", 429, retry_after=3)
    sleeps = Sleeps()

    await render(telegram_bot, CHAT, [Say("提醒：明天 9:00 集合")], sleep=sleeps)

    assert [(c.method, c.status) for c in fake_telegram.calls()] == [
        ("sendMessage", 429),
        ("sendMessage", 200),
    ]
    assert sleeps.waited == [3]
    assert fake_telegram.sent_texts(CHAT) == ["提醒：明天 9:00 集合"]


async def test_flood_wait_with_a_real_sleep(fake_telegram: FakeTelegramAPI, telegram_bot: Bot) -> None:
    fake_telegram.fail_next("sendPhoto", 429, retry_after=1)

    await render(telegram_bot, CHAT, [Image(PNG, "a.png")])

    assert [c.status for c in fake_telegram.calls("sendPhoto")] == [429, 200]
    assert fake_telegram.last("sendPhoto").params["photo"].data == PNG  # the upload is sent again in full


async def test_repeated_flood_wait_is_raised_to_the_caller(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.fail_next("sendMessage", 429, retry_after=2, times=5)
    sleeps = Sleeps()

    with pytest.raises(TelegramRetryAfter) as raised:
        await render(telegram_bot, CHAT, [Say("a"), Say("b")], sleep=sleeps)

    assert raised.value.retry_after == 2
    assert len(fake_telegram.calls("sendMessage")) == 2  # bounded: one retry
    assert fake_telegram.sent_texts() == []


async def test_long_flood_wait_is_not_waited_in_the_turn(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.fail_next("sendMessage", 429, retry_after=600)
    sleeps = Sleeps()

    with pytest.raises(TelegramRetryAfter):
        await render(telegram_bot, CHAT, [Say("a")], sleep=sleeps)

    assert sleeps.waited == []


async def test_blocked_user_raises_forbidden_and_stops_the_turn(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.fail_next("sendMessage", 403, chat_id=CHAT)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await render(telegram_bot, CHAT, [Say("a"), Say("b")])

    assert len(fake_telegram.calls("sendMessage")) == 1


@pytest.mark.parametrize(
    "reply",
    [
        Say("请选择活动：<活动>", tuple(Choice(f"活动 {n}", f"act:{n}") for n in range(1, 4)), columns=2),
        Say("已收到位置", clear_keyboard=True),
        AskLocation("请发送您的位置", "📍 发送位置"),
        AskContact("请分享手机号", "📱 分享手机号"),
    ],
)
@pytest.mark.parametrize(
    "defaults", [None, DefaultBotProperties(link_preview_is_disabled=True, protect_content=True)]
)
async def test_a_message_in_the_webhook_answer_is_the_call_the_client_would_make(
    fake_telegram: FakeTelegramAPI,
    reply: Say | AskLocation | AskContact,
    defaults: DefaultBotProperties | None,
) -> None:
    """webhook_answer writes the fields itself: Telegram must receive exactly what aiogram's client
    sends for the same message, the bot's defaults included."""
    bot = Bot(
        fake_telegram.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.base_url, is_local=True)),
        default=defaults,
    )
    try:
        await render(bot, CHAT, [reply])
        kept = await render(bot, CHAT, [reply], keep_last=True)
        assert kept is not None
        # What Telegram does with the answer: the JSON's "method" is called with the other fields.
        params = json.loads(json.dumps(webhook_answer(bot, kept)))
        method = params.pop("method")
        async with aiohttp.ClientSession() as session:
            await session.post(f"{fake_telegram.base_url}/bot{fake_telegram.token}/{method}", json=params)
    finally:
        await bot.session.close()
    sent, answered = fake_telegram.calls("sendMessage")
    assert answered.params == sent.params
