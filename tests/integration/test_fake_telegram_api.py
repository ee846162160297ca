"""The fake Bot API behaves like api.telegram.org where our tests rely on it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI, parse_html
from tests.fakes.telegram_updates import SAMPLE_EN, SAMPLE_ZH, SAMPLE_ZH_2, TelegramUpdates

# Shared fixtures; once tests/conftest.py lists "tests.fakes.telegram_api" in pytest_plugins, drop these.

CHAT = SAMPLE_ZH.id


async def test_get_updates_honours_offset_and_forgets_confirmed_updates(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    updates = TelegramUpdates()
    first, second, third = (fake_telegram.push_update(updates.text(t)) for t in ("一", "二", "三"))

    everything = await telegram_bot.get_updates()
    after_first = await telegram_bot.get_updates(offset=second["update_id"])
    again = await telegram_bot.get_updates()

    assert [u.update_id for u in everything] == [first["update_id"], second["update_id"], third["update_id"]]
    assert [u.message.text for u in after_first if u.message] == ["二", "三"]
    # the confirmed ones are gone
    assert [u.update_id for u in again] == [second["update_id"], third["update_id"]]
    assert await telegram_bot.get_updates(offset=third["update_id"] + 1) == []


async def test_get_updates_waits_for_an_update_pushed_meanwhile(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    pushed = TelegramUpdates().start("act_42")

    async def push_later() -> None:
        await asyncio.sleep(0.1)
        fake_telegram.push_update(pushed)

    task = asyncio.create_task(push_later())
    received = await telegram_bot.get_updates(timeout=30)
    await task

    assert [u.update_id for u in received] == [pushed["update_id"]]


async def test_empty_long_poll_returns_after_at_most_about_a_second(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    started = time.monotonic()

    assert await telegram_bot.get_updates(timeout=30) == []

    assert 0.9 <= time.monotonic() - started < 3


async def test_injected_failure_hits_the_next_call_only(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.fail_next("sendMessage", 403)

    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await telegram_bot.send_message(CHAT, "a")
    sent = await telegram_bot.send_message(CHAT, "b")

    assert [(c.method, c.status) for c in fake_telegram.calls()] == [
        ("sendMessage", 403),
        ("sendMessage", 200),
    ]
    assert sent.message_id == 1
    assert fake_telegram.sent_texts(CHAT) == ["b"]


async def test_blocked_chat_answers_403_to_every_send(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.block_chat(CHAT)

    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await telegram_bot.send_message(CHAT, "a")
    await telegram_bot.send_message(SAMPLE_EN.id, "b")

    assert fake_telegram.sent_texts() == ["b"]


async def test_wrong_token_is_unauthorized_and_not_recorded(fake_telegram: FakeTelegramAPI) -> None:
    stranger = fake_telegram.make_bot("987654321:AAOtherBotToken")

    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await stranger.get_me()

    assert fake_telegram.calls() == []


async def test_unknown_method_is_not_found(fake_telegram: FakeTelegramAPI) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_telegram.base_url}/bot{TEST_BOT_TOKEN}/sendTelepathy", data={"chat_id": "1"}
        ) as resp,
    ):
        body = await resp.json()

    assert resp.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert fake_telegram.last("sendTelepathy").params == {"chat_id": 1}


async def test_get_me_describes_the_bot(telegram_bot: Bot) -> None:
    me = await telegram_bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456789, True, "stvs_test_bot")


async def test_html_that_telegram_cannot_parse_is_a_bad_request(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await telegram_bot.send_message(CHAT, "<b>未闭合", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "script"'):
        await telegram_bot.send_message(CHAT, "<script>", parse_mode="HTML")

    sent = await telegram_bot.send_message(
        CHAT, "  <b>粗</b> &amp; <a href='https://a.cn'>链接</a> 😀<i>x</i>\n", parse_mode="HTML"
    )

    assert sent.text == "粗 & 链接 😀x"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 1),
        ("text_link", 4, 2),
        ("italic", 9, 1),
    ]


def test_html_entities_are_counted_in_utf16() -> None:
    text, entities = parse_html("😀<b>é</b>&#128512;&lt;&#x4e2d;")

    assert text == "😀é😀<中"
    assert entities == [{"offset": 2, "length": 1, "type": "bold"}]


async def test_message_limits_are_enforced(fake_telegram: FakeTelegramAPI, telegram_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await telegram_bot.send_message(CHAT, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await telegram_bot.send_message(CHAT, " \n ")
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await telegram_bot.send_message(CHAT, "x", reply_markup=markup)

    assert fake_telegram.sent_texts() == []


async def test_edits_change_the_stored_message_and_unchanged_edits_fail(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="报名", callback_data="signup:1")]]
    )
    sent = await telegram_bot.send_message(CHAT, "活动 1", reply_markup=keyboard)

    edited = await telegram_bot.edit_message_text(
        text="活动 1（已报名）", chat_id=CHAT, message_id=sent.message_id
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await telegram_bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await telegram_bot.edit_message_text(text="x", chat_id=CHAT, message_id=999)

    assert isinstance(edited, Message)
    assert edited.reply_markup is None and edited.edit_date is not None
    assert fake_telegram.messages(CHAT) == [edited.model_dump(mode="json", exclude_none=True, by_alias=True)]
    assert await telegram_bot.delete_message(CHAT, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await telegram_bot.delete_message(CHAT, sent.message_id)


async def test_a_pressed_button_message_can_be_edited(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    pressed = fake_telegram.push_update(TelegramUpdates().callback("signup:7"))
    message = pressed["callback_query"]["message"]

    assert await telegram_bot.answer_callback_query(pressed["callback_query"]["id"], text="已报名") is True
    edited = await telegram_bot.edit_message_reply_markup(chat_id=CHAT, message_id=message["message_id"])

    assert isinstance(edited, Message) and edited.reply_markup is None
    assert fake_telegram.last("answerCallbackQuery").params == {
        "callback_query_id": pressed["callback_query"]["id"],
        "text": "已报名",
    }


async def test_webhook_is_reported_and_excludes_get_updates(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    fake_telegram.push_update(TelegramUpdates().text("待处理"))

    assert await telegram_bot.set_webhook(
        "https://stvs.example.cn/telegram/webhook",
        secret_token="s3cret_token",
        allowed_updates=["message"],
    )
    info = await telegram_bot.get_webhook_info()
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await telegram_bot.get_updates()
    await telegram_bot.delete_webhook(drop_pending_updates=True)

    assert (info.url, info.pending_update_count, info.allowed_updates) == (
        "https://stvs.example.cn/telegram/webhook",
        1,
        ["message"],
    )
    assert fake_telegram.calls("setWebhook")[0].params["allowed_updates"] == ["message"]
    assert fake_telegram.webhook_url == "" and fake_telegram.pending_updates() == []
    assert await telegram_bot.get_updates() == []


async def test_my_commands_are_kept_per_language(telegram_bot: Bot) -> None:
    await telegram_bot.set_my_commands([BotCommand(command="start", description="开始")])
    await telegram_bot.set_my_commands([BotCommand(command="start", description="Start")], language_code="en")

    assert [c.description for c in await telegram_bot.get_my_commands()] == ["开始"]
    assert [c.description for c in await telegram_bot.get_my_commands(language_code="en")] == ["Start"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await telegram_bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_chat_action_and_upload_of_a_file_id(fake_telegram: FakeTelegramAPI, telegram_bot: Bot) -> None:
    assert await telegram_bot.send_chat_action(CHAT, "upload_photo") is True
    sent = await telegram_bot.send_photo(CHAT, "AgACAgIAAxkBAAIB")

    assert sent.photo is not None and len(sent.photo) == 2
    assert fake_telegram.last("sendPhoto").params == {"chat_id": CHAT, "photo": "AgACAgIAAxkBAAIB"}


def _builders() -> list[tuple[str, dict[str, Any]]]:
    updates = TelegramUpdates()
    live = updates.location(31.2304, 121.4737, accuracy=12.5, live_period=900)
    return [
        ("text", updates.text("你好")),
        ("start", updates.start("act_42")),
        ("command@bot", updates.command("find", "科普", mention=True, person=SAMPLE_EN)),
        ("callback", updates.callback("signup:42")),
        ("location", updates.location(31.2304, 121.4737)),
        ("live start", live),
        ("live move", updates.live_location(live, 31.2310, 121.4740, accuracy=8)),
        ("own contact", updates.contact("8613800138000")),
        ("other contact", updates.contact("+8613900139000", own=False, contact_user_id=SAMPLE_ZH_2.id)),
        ("forwarded location", updates.forwarded(location=(39.9, 116.4))),
        ("forwarded hidden", updates.forwarded(text="x", origin=updates.origin_hidden_user("匿名"))),
        (
            "forwarded channel",
            updates.forwarded(origin=updates.origin_channel(-1001234567890, "科协", 77, "kx")),
        ),
    ]


@pytest.mark.parametrize(("name", "update"), _builders(), ids=[name for name, _ in _builders()])
def test_built_updates_are_valid_telegram_updates(name: str, update: dict[str, Any]) -> None:
    parsed = Update.model_validate(update)

    assert parsed.update_id == update["update_id"]
    # nothing unknown to aiogram, nothing lost
    assert parsed.model_dump(mode="json", exclude_none=True, by_alias=True) == update


def test_built_updates_carry_what_the_adapter_reads() -> None:
    updates = TelegramUpdates()
    start = Update.model_validate(updates.start("act_42")).message
    live = updates.location(31.2304, 121.4737, live_period=900)
    moved = Update.model_validate(updates.live_location(live, 31.24, 121.48, accuracy=8)).edited_message
    own = Update.model_validate(updates.contact("8613800138000")).message
    other = Update.model_validate(updates.contact("+8613900139000", own=False)).message
    forwarded = Update.model_validate(updates.forwarded(location=(39.9, 116.4))).message

    assert start is not None and start.text == "/start act_42"
    assert start.entities is not None and (start.entities[0].type, start.entities[0].length) == (
        "bot_command",
        6,
    )
    assert start.from_user is not None and start.from_user.language_code == "zh-hans"
    assert moved is not None and moved.location is not None and moved.location.live_period == 900
    assert moved.message_id == live["message"]["message_id"] and moved.edit_date is not None
    assert moved.location.horizontal_accuracy == 8
    assert own is not None and own.contact is not None and own.from_user is not None
    assert own.contact.user_id == own.from_user.id
    assert other is not None and other.contact is not None and other.contact.user_id is None
    assert forwarded is not None and forwarded.forward_origin is not None and forwarded.location is not None
    assert updates.start()["update_id"] > updates.text("x")["update_id"] - 2


async def test_a_real_dispatcher_polls_the_fake(fake_telegram: FakeTelegramAPI, telegram_bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(f"收到：{message.text}")

    polling = asyncio.create_task(
        dispatcher.start_polling(
            telegram_bot, polling_timeout=1, handle_signals=False, close_bot_session=False
        )
    )
    fake_telegram.push_update(TelegramUpdates(person=SAMPLE_EN).start("act_42"))
    for _ in range(100):
        if fake_telegram.sent_texts():
            break
        await asyncio.sleep(0.02)
    await dispatcher.stop_polling()
    await polling

    assert fake_telegram.sent_texts(SAMPLE_EN.id) == ["收到：/start act_42"]
    # the chat was learnt from the update
    assert fake_telegram.messages(SAMPLE_EN.id)[-1]["chat"]["first_name"] == "Volunteer"


async def test_updates_are_delivered_to_the_webhook_with_its_secret(
    fake_telegram: FakeTelegramAPI, telegram_bot: Bot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(f"收到：{message.text}")

    app = web.Application()
    SimpleRequestHandler(
        dispatcher, telegram_bot, handle_in_background=False, secret_token="s3cret"
    ).register(app, path="/telegram")
    async with TestServer(app, host="127.0.0.1") as webhook:
        await telegram_bot.set_webhook(str(webhook.make_url("/telegram")), secret_token="s3cret")
        status = await fake_telegram.deliver_update(TelegramUpdates().text("你好"))
        await telegram_bot.set_webhook(str(webhook.make_url("/telegram")), secret_token="wrong")
        refused = await fake_telegram.deliver_update(TelegramUpdates().text("伪造"))

    assert (status, refused) == (200, 401)
    assert fake_telegram.sent_texts(CHAT) == ["收到：你好"]
