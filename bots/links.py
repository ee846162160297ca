"""core.ports.Links: Telegram's deep links t.me/<bot>?start=<payload> and their QR codes (2-6.1 a), a
PNG made by segno alone (no Pillow); and where the WeChat account's parametric QR code for the same
payload is (bots.wechat.qrcodes)."""

from __future__ import annotations

import re
from io import BytesIO
from typing import TYPE_CHECKING

import segno

from core.domain.codes import Channel

if TYPE_CHECKING:
    from bots.wechat.qrcodes import SceneCodes

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram accepts after ?start=
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")


class TelegramLinks:
    """Links of the Telegram bot; other channels get None. The username comes from the settings, or
    from getMe at start-up (``bot_username`` is set then); until it is known, there are no links."""

    def __init__(self, bot_username: str = "") -> None:
        self.bot_username = bot_username

    @property
    def bot_username(self) -> str:
        return self._bot_username

    @bot_username.setter
    def bot_username(self, value: str) -> None:
        value = value.strip().removeprefix("@")
        if value and not _USERNAME.match(value):
            raise ValueError(f"not a Telegram bot username: {value!r}")
        self._bot_username = value

    def link(self, channel: Channel, payload: str) -> str | None:
        if not PAYLOAD.match(payload):
            raise ValueError(f"deep-link payload must be 1-64 of [A-Za-z0-9_-]: {payload!r}")
        if channel is not Channel.TELEGRAM or not self._bot_username:
            return None
        return f"https://t.me/{self._bot_username}?start={payload}"

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        url = self.link(channel, payload)
        if url is None:
            return None
        buffer = BytesIO()
        # Level M survives a smudged or partly covered print (15 %) and keeps the code small.
        segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
        return buffer.getvalue()


class DeepLinks:
    """core.ports.Links for every channel on: Telegram's links (None until the bot's username is
    known) and the WeChat account's codes (None without its API); either may be missing."""

    def __init__(self, telegram: TelegramLinks | None = None, wechat: SceneCodes | None = None) -> None:
        self.telegram = telegram
        self.wechat = wechat

    def link(self, channel: Channel, payload: str) -> str | None:
        return self.telegram.link(channel, payload) if self.telegram is not None else None

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        return self.telegram.qr_png(channel, payload) if self.telegram is not None else None

    def wechat_qr(self, payload: str) -> str | None:
        return self.wechat.link(payload) if self.wechat is not None else None
