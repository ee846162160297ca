"""core.ports.Links: Telegram's deep links t.me/<bot>?start=<payload> and their QR codes (2-6.1 a), a
PNG made by segno alone (no Pillow); where the WeChat account's parametric QR code for the same
payload is (bots.wechat.qrcodes); and, in ``stvs demo``, the playground's page opened as a newcomer
who scanned the code."""

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
        _checked(payload)
        if channel is not Channel.TELEGRAM or not self._bot_username:
            return None
        return f"https://t.me/{self._bot_username}?start={payload}"

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        url = self.link(channel, payload)
        return qr_png(url) if url is not None else None


def qr_png(url: str) -> bytes:
    buffer = BytesIO()
    # Level M survives a smudged or partly covered print (15 %) and keeps the code small.
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def _checked(payload: str) -> str:
    if not PAYLOAD.match(payload):
        raise ValueError(f"deep-link payload must be 1-64 of [A-Za-z0-9_-]: {payload!r}")
    return payload


class PlaygroundLinks:
    """The demo's links (Channel.WEB): the playground's page, its newcomer pane opened with the
    payload as a scanned code would open the bot (``…/playground/?start=act-12``). QR codes, survey
    links and posters can so be tried in the demo, where no chat platform is reached."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def link(self, channel: Channel, payload: str) -> str | None:
        if channel is not Channel.WEB:
            return None
        return f"{self.base_url}/playground/?start={_checked(payload)}"

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        url = self.link(channel, payload)
        return qr_png(url) if url is not None else None


class DeepLinks:
    """core.ports.Links for every channel on: Telegram's links (None until the bot's username is
    known), the WeChat account's codes (None without its API) and the demo playground's; any may be
    missing."""

    def __init__(
        self,
        telegram: TelegramLinks | None = None,
        wechat: SceneCodes | None = None,
        web: PlaygroundLinks | None = None,
    ) -> None:
        self.telegram = telegram
        self.wechat = wechat
        self.web = web

    def _of(self, channel: Channel) -> TelegramLinks | PlaygroundLinks | None:
        return self.web if channel is Channel.WEB else self.telegram

    def link(self, channel: Channel, payload: str) -> str | None:
        links = self._of(channel)
        return links.link(channel, payload) if links is not None else None

    def qr_png(self, channel: Channel, payload: str) -> bytes | None:
        links = self._of(channel)
        return links.qr_png(channel, payload) if links is not None else None

    def wechat_qr(self, payload: str) -> str | None:
        return self.wechat.link(payload) if self.wechat is not None else None
