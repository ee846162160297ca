"""Telegram (aiogram 3): turn updates into core.chat inputs, run the conversation, render the replies.
Handlers stay thin; every rule lives in core."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter
from aiogram.types import BotCommand, CallbackQuery, Message, Update

from bots.telegram.render import render
from core.chat.conversation import Conversation
from core.chat.messages import Button, Command, Contact, Incoming, Input, Location, Reply, Text
from core.chat.turn import Translators
from core.domain.codes import Channel
from core.ports import DeliveryFailed

log = logging.getLogger(__name__)

COMMANDS = ("start", "menu", "find", "my", "profile", "feedback", "link", "language", "cancel", "help")


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
        bot: Bot, update: Update, user_id: int, chat_id: int, language: str | None, given: Input
    ) -> None:
        incoming = Incoming(Channel.TELEGRAM, str(user_id), given, language_hint=language_of(language))
        try:
            outgoing = await conversation.handle(incoming, delivery_key=str(update.update_id))
        except Exception:
            # Never lost silently: logged with the update, and the user hears an apology.
            log.exception("update %s failed: %s", update.update_id, update.model_dump_json(exclude_none=True))
            await bot.send_message(chat_id, translators(language_of(language))("error.generic"))
            return
        if outgoing is not None and outgoing.replies:
            await render(bot, chat_id, outgoing.replies)

    @router.message(F.chat.type == "private")
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        given = message_input(message)
        if message.from_user is None:
            return
        if given is None:
            given = Text("")
        await run(
            bot, event_update, message.from_user.id, message.chat.id, message.from_user.language_code, given
        )

    @router.edited_message(F.location)
    async def on_live_location(message: Message, bot: Bot, event_update: Update) -> None:
        given = message_input(message)
        if message.from_user is None or given is None:
            return
        await run(
            bot, event_update, message.from_user.id, message.chat.id, message.from_user.language_code, given
        )

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        await query.answer()
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        given = Button(query.data or "")
        await run(bot, event_update, query.from_user.id, chat_id, query.from_user.language_code, given)

    dispatcher = Dispatcher()
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


def parse_update(body: bytes, bot: Bot) -> Update:
    """Raises ValueError on anything that is not a Telegram Update."""
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("not an update")
    return Update.model_validate(data, context={"bot": bot})
