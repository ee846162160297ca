"""Telegram (aiogram 3): turn updates into core.chat inputs, run the conversation, render the replies.
Handlers stay thin; every rule lives in core."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import Default
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import BotCommand, CallbackQuery, Message, Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bots.telegram.render import render
from core.chat.conversation import Conversation
from core.chat.messages import (
    Button,
    Contact,
    Incoming,
    Input,
    Location,
    Photo,
    Reply,
    Unreadable,
    typed,
)
from core.chat.turn import Translators
from core.domain.attendance import PHOTO_MAX_BYTES
from core.domain.codes import Channel
from core.ports import DeliveryFailed
from storage.database import unavailable

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
        return typed(message.text)
    return None


# What a user sends that the bot cannot read, and answers so; any other message without text, location,
# contact or photo is a service message (a pin, an auto-delete timer, a payment, a gift, a video chat
# scheduled, users shared…) and is answered with silence.
USER_CONTENT = frozenset(
    {
        "animation",
        "audio",
        "checklist",
        "dice",
        "document",
        "game",
        "live_photo",
        "paid_media",
        "poll",
        "rich_message",
        "sticker",
        "story",
        "video",
        "video_note",
        "voice",
    }
)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})  # a photo sent as a file
DOWNLOAD_TIMEOUT_S = 20


class _TooLarge(Exception):
    pass


class Redeliver(Exception):
    """The update could not be handled for now (the database is away): answer so that Telegram
    delivers it again."""


async def fetch_photo(bot: Bot, message: Message) -> Photo | None:
    """The photo a message carries (the largest size within PHOTO_MAX_BYTES, or an image sent as a
    file), fetched with getFile; None when it carries none. A photo over the cap is not downloaded."""
    if message.photo:
        fitting = [p for p in message.photo if p.file_size is None or p.file_size <= PHOTO_MAX_BYTES]
        if not fitting:
            return Photo(b"", "image/jpeg", too_large=True)
        file_id, mime = max(fitting, key=lambda p: p.width * p.height).file_id, "image/jpeg"
    elif message.document is not None and (message.document.mime_type or "") in IMAGE_TYPES:
        document = message.document
        mime = document.mime_type or "image/jpeg"
        if document.file_size is not None and document.file_size > PHOTO_MAX_BYTES:
            return Photo(b"", mime, too_large=True)
        file_id = document.file_id
    else:
        return None
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > PHOTO_MAX_BYTES:
            raise _TooLarge
        if not file.file_path:  # Telegram keeps no copy it can give
            return Photo(b"", mime)
        return Photo(await _download(bot, file.file_path), mime)
    except _TooLarge:
        return Photo(b"", mime, too_large=True)
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("a photo could not be fetched from Telegram: %s", type(error).__name__)
        return Photo(b"", mime)


async def _download(bot: Bot, file_path: str) -> bytes:
    api = bot.session.api
    if api.is_local and file_path.startswith("/"):  # a local Bot API server: the file is on its disk
        stream = await bot.download_file(file_path)  # its size was checked against getFile's
        assert stream is not None
        return stream.read()
    data = bytearray()
    chunks = bot.session.stream_content(api.file_url(bot.token, file_path), timeout=DOWNLOAD_TIMEOUT_S)
    async with aclosing(chunks):  # type: ignore[type-var]
        async for chunk in chunks:
            data += chunk
            if len(data) > PHOTO_MAX_BYTES:
                raise _TooLarge
    return bytes(data)


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
        pressed: int | None = None,
    ) -> SendMessage | None:
        """The replies of one turn, sent; with ``keep_last`` the final plain message is returned unsent,
        for the webhook's answer to carry (see ``webhook_answer``)."""
        incoming = Incoming(Channel.TELEGRAM, str(user_id), given, language_hint=language_of(language))
        try:
            outgoing = await conversation.handle(incoming, delivery_key=str(update.update_id))
        except Exception as error:
            # Never lost silently: logged (by its id, not its content, which is personal data), and
            # the user hears an apology. With the database away the update is not marked handled and
            # the webhook answers 503: Telegram delivers it again, and that delivery is answered.
            log.exception("update %s failed", update.update_id)
            await bot.send_message(chat_id, translators(language_of(language))("error.generic"))
            if unavailable(error):
                raise Redeliver(update.update_id) from error
            return None
        if outgoing is None or not outgoing.replies:
            return None
        sent: list[Reply] = []
        try:
            return await render(
                bot, chat_id, outgoing.replies, keep_last=keep_last, pressed=pressed, sent=sent
            )
        except (TelegramServerError, TelegramNetworkError, TelegramRetryAfter) as error:
            # The turn is written and marked handled, so Telegram's retry would find nothing to say:
            # what it could not say now goes to the outbox, and the dispatcher says it (core.chat.unsent).
            log.warning("update %s: a reply was not sent (%s)", update.update_id, type(error).__name__)
            rest = outgoing.replies[len(sent) :]
            await conversation.keep_unsent(Channel.TELEGRAM, str(user_id), outgoing.language, rest)
            return None

    # Plain async filters: aiogram runs a synchronous filter (magic F included) in a thread per update.
    async def private_chat(message: Message) -> bool:
        return message.chat.type == "private"

    async def has_location(message: Message) -> bool:
        return message.location is not None

    @router.message(private_chat)
    async def on_message(message: Message, bot: Bot, event_update: Update) -> SendMessage | None:
        if message.from_user is None:
            return None
        given = message_input(message) or await fetch_photo(bot, message)
        if given is None:
            kind = str(getattr(message.content_type, "value", message.content_type))
            if kind not in USER_CONTENT:
                return None  # a service message: nothing to answer
            given = Unreadable(kind)
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
        # The message the button was on: a reply in place (a progress card) edits it.
        pressed = query.message.message_id if query.message is not None else None
        return await run(
            bot, event_update, user.id, chat_id, user.language_code, given, keep_last=True, pressed=pressed
        )

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
            # A 429 goes back at once: the dispatcher's Pacer pauses the whole channel for it.
            await render(self.bot, int(external_id), replies, flood_retries=0)
        except TelegramForbiddenError as error:
            raise DeliveryFailed(f"blocked: {error.message}", permanent=True) from error
        except TelegramRetryAfter as error:
            raise DeliveryFailed("rate limited", retry_after=error.retry_after) from error
        except TelegramNetworkError as error:
            raise DeliveryFailed(f"network: {error.message}") from error
        except TelegramServerError as error:
            raise DeliveryFailed(f"server: {error.message}") from error


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


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """Raises ValueError on anything that is not a Telegram Update (not JSON, no integer update_id).
    None for an update to acknowledge and drop: one that fails validation (answering 400 would make
    Telegram redeliver it for ever; logged without its content, which is personal data) or one of a
    type this version does not know."""
    try:
        data = json.loads(body)
    except RecursionError as error:  # nested deeper than the parser goes
        raise ValueError("not an update") from error
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("not an update")
    try:
        update = Update.model_validate(data, context={"bot": bot})
    except ValidationError as error:
        where = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors(include_input=False)})
        log.warning(
            "Telegram update %s dropped: %d invalid fields (%s)",
            update_id,
            error.error_count(),
            ", ".join(where[:5]),
        )
        return None
    try:
        _ = update.event_type
    except UpdateTypeLookupError:
        log.warning("Telegram update %s dropped: an update type unknown to this version", update_id)
        return None
    return update
