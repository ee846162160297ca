"""Render channel-neutral replies (core.chat.messages) as Telegram Bot API calls for one chat.

Texts are ours and plain; user content may sit inside them, so every text is HTML-escaped and sent with
parse_mode=HTML. Choices become an inline keyboard, location and contact requests a one-time reply keyboard.
Nothing here knows about volunteers or activities: one reply in, one or more API calls out.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.chat.messages import AskContact, AskLocation, Choice, Document, Image, Link, Reply, Say

TEXT_LIMIT = 4096  # Bot API: message text after entity parsing, counted in UTF-16 code units
CAPTION_LIMIT = 1024
RETRIES_AFTER_FLOOD_WAIT = 1
MAX_FLOOD_WAIT = 30  # seconds; a longer wait goes back to the caller (the outbox reschedules) instead

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Sleep = Callable[[float], Awaitable[Any]]


async def render(
    bot: Bot,
    chat_id: int,
    replies: Sequence[Reply],
    *,
    sleep: Sleep = asyncio.sleep,
    keep_last: bool = False,
    flood_retries: int = RETRIES_AFTER_FLOOD_WAIT,
    pressed: int | None = None,
    sent: list[Reply] | None = None,
) -> SendMessage | None:
    """Send ``replies`` in order. A flood wait (429) is waited out and retried ``flood_retries`` times,
    then raised (the outbox passes 0: its Pacer pauses the whole channel instead);
    ``TelegramForbiddenError`` (the user blocked the bot) propagates at once. ``pressed`` is the id of
    the message whose button was pressed: a reply ``in_place`` edits it.

    With ``keep_last``, a final plain message is not sent but returned, for the caller to send another
    way (in the answer to a webhook); anything else is sent as usual and None returned. ``sent``
    gets each reply once all of its calls are made (or, the last, returned): when a call fails, the
    replies not in it are the ones still to say."""
    plan = [(reply, telegram_methods(chat_id, reply, pressed)) for reply in replies]
    methods = [method for _, calls in plan for method in calls]
    last = methods[-1] if keep_last and methods and isinstance(methods[-1], SendMessage) else None
    for reply, calls in plan:
        for method in calls:
            if method is not last:
                await _call(bot, method, sleep, flood_retries)
        if sent is not None:
            sent.append(reply)
    return last


def telegram_methods(chat_id: int, reply: Reply, pressed: int | None = None) -> list[TelegramMethod[Any]]:
    """The API calls for one reply, in order."""
    match reply:
        case Say(text=text, choices=choices, columns=columns, clear_keyboard=clear, in_place=in_place):
            markup: Markup | None = None
            if choices:
                markup = inline_keyboard(choices, columns)
            elif clear:
                markup = ReplyKeyboardRemove(remove_keyboard=True)
            if in_place and pressed is not None and len(split_text(text)) == 1:
                keyboard = markup if isinstance(markup, InlineKeyboardMarkup) else None
                return [_edit(chat_id, pressed, text, keyboard)]
            return _texts(chat_id, text, markup)
        case AskLocation(text=text, button=label):
            return _texts(chat_id, text, _request_keyboard(KeyboardButton(text=label, request_location=True)))
        case AskContact(text=text, button=label):
            return _texts(chat_id, text, _request_keyboard(KeyboardButton(text=label, request_contact=True)))
        case Image(data=data, filename=filename, caption=caption):
            lead, fields = _caption(chat_id, caption)
            return [*lead, SendPhoto(chat_id=chat_id, photo=BufferedInputFile(data, filename), **fields)]
        case Document(data=data, filename=filename, caption=caption):
            # The Bot API takes no MIME type: Telegram derives it from the file name.
            lead, fields = _caption(chat_id, caption)
            return [
                *lead,
                SendDocument(chat_id=chat_id, document=BufferedInputFile(data, filename), **fields),
            ]
        case Link(text=text, url=url):
            button = InlineKeyboardButton(text=_link_label(url), url=url)
            return _texts(chat_id, text, InlineKeyboardMarkup(inline_keyboard=[[button]]))
    raise TypeError(f"not a reply: {reply!r}")


def inline_keyboard(choices: Sequence[Choice], columns: int = 1) -> InlineKeyboardMarkup:
    per_row = max(columns, 1)
    buttons = [InlineKeyboardButton(text=c.label, callback_data=c.payload) for c in choices]
    return InlineKeyboardMarkup(
        inline_keyboard=[buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    )


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most ``limit`` UTF-16 code units, cut at line ends; a longer line is cut inside."""
    if _utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        for piece in _cut(line, limit):
            piece_size = _utf16_len(piece)
            if current and size + piece_size > limit:
                parts.append("".join(current))
                current, size = [], 0
            current.append(piece)
            size += piece_size
    parts.append("".join(current))
    # Telegram trims each message and refuses an empty one: drop the line break at a cut, and blank parts.
    return [part.rstrip("\r\n") for part in parts if part.strip()]


def _texts(chat_id: int, text: str, markup: Markup | None) -> list[TelegramMethod[Any]]:
    parts = split_text(text)
    return [
        SendMessage(
            chat_id=chat_id,
            text=_escape(part),
            parse_mode="HTML",
            reply_markup=markup if index == len(parts) - 1 else None,
        )
        for index, part in enumerate(parts)
    ]


def _edit(chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> EditMessageText:
    return EditMessageText(
        chat_id=chat_id, message_id=message_id, text=_escape(text), parse_mode="HTML", reply_markup=markup
    )


def _caption(chat_id: int, caption: str) -> tuple[list[TelegramMethod[Any]], dict[str, Any]]:
    """A caption over the limit goes first as its own message(s); the file then goes without one."""
    if not caption:
        return [], {}
    if _utf16_len(caption) > CAPTION_LIMIT:
        return _texts(chat_id, caption, None), {}
    return [], {"caption": _escape(caption), "parse_mode": "HTML"}


def _request_keyboard(button: KeyboardButton) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)


def _link_label(url: str) -> str:
    # The host shows where the button leads without a translated label.
    host = urlsplit(url).hostname or url
    return f"🔗 {host}"


async def _call(
    bot: Bot, method: TelegramMethod[Any], sleep: Sleep, retries: int = RETRIES_AFTER_FLOOD_WAIT
) -> Any:
    for attempt in range(retries + 1):
        try:
            return await bot(method)
        except TelegramRetryAfter as error:
            if attempt == retries or error.retry_after > MAX_FLOOD_WAIT:
                raise
            await sleep(error.retry_after)
        except TelegramBadRequest as error:
            # A refresh that changed nothing (pressed twice within a second): the card is as it should be.
            if isinstance(method, EditMessageText) and "message is not modified" in error.message:
                return None
            raise
    raise AssertionError("unreachable")


def _cut(line: str, limit: int) -> list[str]:
    """``line`` in pieces of at most ``limit`` UTF-16 code units, never inside a character."""
    if _utf16_len(line) <= limit:
        return [line]
    pieces: list[str] = []
    start = 0
    size = 0
    for index, char in enumerate(line):
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            pieces.append(line[start:index])
            start, size = index, 0
        size += width
    pieces.append(line[start:])
    return pieces


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
