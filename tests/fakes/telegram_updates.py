"""Telegram Update JSON as Telegram sends it to a webhook (or returns it from getUpdates).

    updates = TelegramUpdates()
    updates.start("act_42")                              # /start act_42, with its bot_command entity
    updates.callback("signup:42", message=sent_message)  # a button pressed under a message we sent
    first = updates.location(31.23, 121.47, live_period=900)
    updates.live_location(first, 31.24, 121.48)          # the same message, edited: edited_message

Each factory counts its own update_id, message_id and date, so a test's updates are deterministic.
Field names and shapes follow the Bot API (https://core.telegram.org/bots/api#update).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes.telegram_api import TEST_BOT_ID, TEST_BOT_NAME, TEST_BOT_USERNAME, Clock

Update = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """A Telegram user in a private chat with the bot (chat id = user id)."""

    id: int
    first_name: str
    last_name: str = ""
    username: str = ""
    language_code: str = "zh-hans"
    is_premium: bool = False

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        if self.is_premium:
            user["is_premium"] = True
        return user

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat


SAMPLE_ZH = Person(id=5_012_345_678, first_name="志愿者", username="volunteer_zh", language_code="zh-hans")
SAMPLE_ZH_2 = Person(id=5_087_654_321, first_name="志愿者二", language_code="zh-hans")
SAMPLE_EN = Person(id=6_123_456_789, first_name="Volunteer", username="volunteer_en", language_code="en")

BOT_USER: dict[str, Any] = {
    "id": TEST_BOT_ID,
    "is_bot": True,
    "first_name": TEST_BOT_NAME,
    "username": TEST_BOT_USERNAME,
}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TelegramUpdates:
    """Builds updates with increasing update_id, per-chat message_id and date."""

    def __init__(
        self,
        *,
        person: Person = SAMPLE_ZH,
        first_update_id: int = 734_000_001,
        clock: Clock | None = None,
        start: datetime | None = None,
    ) -> None:
        self.person = person
        self._next_update_id = first_update_id
        self._message_ids: dict[int, int] = {}
        self._clock = clock
        self._start = start or datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        self._ticks = 0
        self._next_callback = 4_567_890_123_456_789_000

    # ---- messages -------------------------------------------------------------------------------

    def text(
        self, text: str, *, person: Person | None = None, entities: list[dict[str, Any]] | None = None
    ) -> Update:
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.message(content, person=person)

    def command(
        self, name: str, args: str = "", *, mention: bool = False, person: Person | None = None
    ) -> Update:
        """``/name args`` with the bot_command entity Telegram adds; ``mention`` writes /name@bot."""
        command = f"/{name}@{TEST_BOT_USERNAME}" if mention else f"/{name}"
        text = f"{command} {args}" if args else command
        entity = {"offset": 0, "length": _utf16_len(command), "type": "bot_command"}
        return self.text(text, person=person, entities=[entity])

    def start(self, payload: str = "", *, person: Person | None = None) -> Update:
        """What a deep link t.me/<bot>?start=<payload> sends: ``/start <payload>``."""
        return self.command("start", payload, person=person)

    def location(
        self,
        latitude: float,
        longitude: float,
        *,
        accuracy: float | None = None,
        live_period: int | None = None,
        heading: int | None = None,
        person: Person | None = None,
    ) -> Update:
        """A location message; with ``live_period`` (seconds, or 0x7FFFFFFF for "until stopped") it starts
        a live location, whose moves then arrive as ``live_location`` edits."""
        return self.message(
            {"location": _location(latitude, longitude, accuracy, live_period, heading)}, person=person
        )

    def live_location(
        self,
        started: Update,
        latitude: float,
        longitude: float,
        *,
        accuracy: float | None = None,
        heading: int | None = None,
        stopped: bool = False,
    ) -> Update:
        """A move of the live location started by ``started``: the same message as an ``edited_message``.
        When sharing stops, Telegram sends a last edit without ``live_period``."""
        original = started["message"]
        live_period = None if stopped else original["location"].get("live_period")
        message = copy.deepcopy(original)
        message["location"] = _location(latitude, longitude, accuracy, live_period, heading)
        message["edit_date"] = self._date()
        return self._update("edited_message", message)

    def contact(
        self,
        phone_number: str,
        *,
        own: bool = True,
        contact_user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        person: Person | None = None,
    ) -> Update:
        """A shared contact. ``own`` (the request_contact button) gives the sender's user_id and name;
        otherwise a contact card of someone else: ``contact_user_id`` if they use Telegram, else none."""
        sender = person or self.person
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact["first_name"] = first_name or sender.first_name
            if last_name or sender.last_name:
                contact["last_name"] = last_name or sender.last_name
            contact["user_id"] = sender.id
        else:
            contact["first_name"] = first_name or "王"
            if last_name:
                contact["last_name"] = last_name
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
        return self.message({"contact": contact}, person=sender)

    def forwarded(
        self,
        *,
        text: str | None = None,
        location: tuple[float, float] | None = None,
        origin: dict[str, Any] | None = None,
        person: Person | None = None,
    ) -> Update:
        """A forwarded message (text or location) carrying ``forward_origin`` (default: from another user)."""
        content: dict[str, Any] = {"forward_origin": origin or self.origin_user(SAMPLE_ZH_2)}
        if location is not None:
            content["location"] = _location(location[0], location[1], None, None, None)
        else:
            content["text"] = text if text is not None else "转发的消息"
        return self.message(content, person=person)

    def origin_user(self, sender: Person) -> dict[str, Any]:
        return {"type": "user", "date": self._date(), "sender_user": sender.user()}

    def origin_hidden_user(self, name: str) -> dict[str, Any]:
        return {"type": "hidden_user", "date": self._date(), "sender_user_name": name}

    def origin_channel(self, chat_id: int, title: str, message_id: int, username: str = "") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "title": title, "type": "channel"}
        if username:
            chat["username"] = username
        return {"type": "channel", "date": self._date(), "chat": chat, "message_id": message_id}

    def message(self, content: dict[str, Any], *, person: Person | None = None) -> Update:
        """A message from ``person`` in their private chat with the bot, with any content fields."""
        sender = person or self.person
        message = {
            "message_id": self._message_id(sender.id),
            "from": sender.user(),
            "chat": sender.private_chat(),
            "date": self._date(),
            **copy.deepcopy(content),
        }
        return self._update("message", message)

    def photo(
        self, *sizes: dict[str, Any], caption: str | None = None, person: Person | None = None
    ) -> Update:
        """A photo: one PhotoSize per file given (``FakeTelegramAPI.put_file`` results, or made-up ids),
        smallest first, as Telegram sends them; each is given a width and height that grow."""
        photo = [{**size, "width": 320 * n, "height": 240 * n} for n, size in enumerate(sizes, 1)]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self.message(content, person=person)

    def document(
        self,
        file: dict[str, Any],
        file_name: str,
        mime_type: str,
        *,
        caption: str | None = None,
        person: Person | None = None,
    ) -> Update:
        """A file sent as a document (an image sent "as a file" keeps its type and full size)."""
        content: dict[str, Any] = {"document": {**file, "file_name": file_name, "mime_type": mime_type}}
        if caption is not None:
            content["caption"] = caption
        return self.message(content, person=person)

    def sticker(self, emoji: str = "👍", *, person: Person | None = None) -> Update:
        sticker = {
            "file_id": "CAACAgIAAxkBAAEfakeSticker",
            "file_unique_id": "AgADfakeSticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.message({"sticker": sticker}, person=person)

    def edited_text(self, sent: Update, text: str) -> Update:
        """``sent`` (a text message) edited by its sender: an ``edited_message``."""
        message = copy.deepcopy(sent["message"])
        message["text"], message["edit_date"] = text, self._date()
        return self._update("edited_message", message)

    def in_chat(
        self, kind: str, chat: dict[str, Any], content: dict[str, Any], *, person: Person | None = None
    ) -> Update:
        """A message in a group, supergroup or channel (``kind`` "message" or "channel_post")."""
        message: dict[str, Any] = {
            "message_id": self._message_id(chat["id"]),
            "chat": chat,
            "date": self._date(),
            **copy.deepcopy(content),
        }
        if kind == "message":
            message["from"] = (person or self.person).user()
        return self._update(kind, message)

    def other(self, kind: str, payload: dict[str, Any]) -> Update:
        """Any other update type (inline_query, poll, my_chat_member…) with the payload given."""
        return self._update(kind, copy.deepcopy(payload))

    # ---- buttons --------------------------------------------------------------------------------

    def callback(
        self,
        data: str,
        *,
        message: dict[str, Any] | None = None,
        message_text: str = "请选择：",
        person: Person | None = None,
    ) -> Update:
        """A press on an inline button. ``message`` is the bot's message carrying the keyboard (e.g. a
        sendMessage result from the fake API); otherwise one is made up with a single button for ``data``."""
        sender = person or self.person
        if message is None:
            message = {
                "message_id": self._message_id(sender.id),
                "from": dict(BOT_USER),
                "chat": sender.private_chat(),
                "date": self._date(),
                "text": message_text,
                "reply_markup": {"inline_keyboard": [[{"text": message_text, "callback_data": data}]]},
            }
        query = {
            "id": str(self._next_callback),
            "from": sender.user(),
            "message": copy.deepcopy(message),
            "chat_instance": str(-(sender.id * 7_919 + TEST_BOT_ID) % 10**18),
            "data": data,
        }
        self._next_callback += 1
        return self._update("callback_query", query)

    # ---- plumbing -------------------------------------------------------------------------------

    def _update(self, kind: str, payload: dict[str, Any]) -> Update:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        return update

    def _message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 1000) + 1
        return self._message_ids[chat_id]

    def _date(self) -> int:
        if self._clock is not None:
            return int(self._clock.now().timestamp())
        self._ticks += 1
        return int(self._start.timestamp()) + self._ticks


def _location(
    latitude: float, longitude: float, accuracy: float | None, live_period: int | None, heading: int | None
) -> dict[str, Any]:
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if accuracy is not None:
        location["horizontal_accuracy"] = accuracy
    if live_period is not None:
        location["live_period"] = live_period
    if heading is not None:
        location["heading"] = heading
    return location
