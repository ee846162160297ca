"""Telegram (aiogram 3): turn updates into core.chat inputs, run the conversation, render the replies.
Handlers stay thin; every rule lives in core."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import Default
from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import SendMessage
from aiogram.types import BotCommand, CallbackQuery, Message, Update

from bots.telegram.render import render
from core.chat.conversation import Conversation
from core.chat.messages import Button, Command, Contact, Incoming, Input, Location, Reply, Text
from core.chat.turn import Translators
from core.domain.codes import Channel
from core.ports import DeliveryFailed

log = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "menu",
    "find",
    "checkin",
    "my",
    "hours",
    "certificate",
    "profile",
    "feedback",
    "link",
    "settings",
    "language",
    "cancel",
    "help",
)


def language_of(code: str | None) -> str:
    return "en" if (code or "").lower().startswith("en") else "zh_CN"


def message_input(message: Message) -> Input | None:
    if message.location is not None:
        loc = message.location
        return Location(
            latitude=loc.latitude,
            longitude=loc.longitude,
            accuracy_m=loc.horizontal_accuracy,
            live=loc.live_period is not None,
            forwarded=message.forward_origin is not None,
            # A live location's later points arrive as edits: only its first point is an answer.
            update=message.edit_date is not None,
        )
    if message.contact is not None:
        own = message.from_user is not None and message.contact.user_id == message.from_user.id
        return Contact(phone=message.contact.phone_number, own=own)
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            name = head.split("@", 1)[0]
            if name:
                return Command(name=name.lower(), args=args.strip())
        return Text(text)
    return None


def build_dispatcher(conversation: Conversation, translators: Translators) -> Dispatcher:
    router = Router(name="stvs")

    async def run(
        bot: Bot,
        update: Update,
        user_id: int,
        chat_id: int,
        language: str | None,
        given: Input,
        *,
        keep_last: bool,
    ) -> SendMessage | None:
        """The replies of one turn, sent; with ``keep_last`` the final plain message is returned unsent,
        for the webhook's answer to carry (see ``webhook_answer``)."""
        incoming = Incoming(Channel.TELEGRAM, str(user_id), given, language_hint=language_of(language))
        try:
            outgoing = await conversation.handle(incoming, delivery_key=str(update.update_id))
        except Exception:
            # Never lost silently: logged with the update, and the user hears an apology.
            log.exception("update %s failed: %s", update.update_id, update.model_dump_json(exclude_none=True))
            await bot.send_message(chat_id, translators(language_of(language))("error.generic"))
            return None
        if outgoing is None or not outgoing.replies:
            return None
        return await render(bot, chat_id, outgoing.replies, keep_last=keep_last)

    # Plain async filters: aiogram runs a synchronous filter (magic F included) in a thread per update.
    async def private_chat(message: Message) -> bool:
        return message.chat.type == "private"

    async def has_location(message: Message) -> bool:
        return message.location is not None

    @router.message(private_chat)
    async def on_message(message: Message, bot: Bot, event_update: Update) -> SendMessage | None:
        given = message_input(message)
        if message.from_user is None:
            return None
        if given is None:
            given = Text("")
        user = message.from_user
        return await run(
            bot, event_update, user.id, message.chat.id, user.language_code, given, keep_last=True
        )

    @router.edited_message(has_location)
    async def on_live_location(message: Message, bot: Bot, event_update: Update) -> SendMessage | None:
        given = message_input(message)
        if message.from_user is None or given is None:
            return None
        user = message.from_user
        return await run(
            bot, event_update, user.id, message.chat.id, user.language_code, given, keep_last=True
        )

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> SendMessage | None:
        # At once, so the spinner on the button stops; the reply follows in the webhook's answer.
        await query.answer()
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        given = Button(query.data or "")
        user = query.from_user
        return await run(bot, event_update, user.id, chat_id, user.language_code, given, keep_last=True)

    # The conversation keeps its own state in the database: aiogram's FSM would only cost a lookup.
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher


async def set_commands(bot: Bot, translators: Translators) -> None:
    """The command menu in Chinese (the default) and English."""
    for language, code in (("zh_CN", None), ("en", "en")):
        t = translators(language)
        commands = [BotCommand(command=name, description=t(f"chat.command.{name}")) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=code)


class TelegramMessenger:
    """core.ports.Messenger for notices: the same renderer as a conversation turn."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        try:
            await render(self.bot, int(external_id), replies)
        except TelegramForbiddenError as error:
            raise DeliveryFailed(f"blocked: {error.message}", permanent=True) from error
        except TelegramRetryAfter as error:
            raise DeliveryFailed("rate limited", retry_after=error.retry_after) from error
        except TelegramNetworkError as error:
            raise DeliveryFailed(f"network: {error.message}") from error


def webhook_answer(bot: Bot, method: SendMessage) -> dict[str, Any]:
    """A message carried in the answer to the webhook's POST, which Telegram then sends itself (Bot API,
    "Making requests when getting updates"): a round trip saved per update. Its result is never seen,
    and it carries no file. The fields as the client would send them: unset ones left out, a bot-wide
    default (aiogram's ``Default``) taken from the bot's settings."""
    body: dict[str, Any] = {"method": method.__api_method__}
    for key, value in method.model_dump(exclude_none=True, warnings=False).items():
        if isinstance(value, Default):
            value = bot.session.prepare_value(bot.default[value.name], bot=bot, files={}, _dumps_json=False)
            if value is None:
                continue
        body[key] = value
    return body


def parse_update(body: bytes, bot: Bot) -> Update:
    """Raises ValueError on anything that is not a Telegram Update."""
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("not an update")
    return Update.model_validate(data, context={"bot": bot})
