"""core.ports.Messenger for WeChat: notices and broadcasts to an openid. Inside the user's customer-
service window (5 messages within 48 hours of their last message) a text with numbered choices;
outside it, or when WeChat says the window is gone, a template message (fields of at most 20
characters, no newlines, colours or emoji — WeChat's rules)."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bots.wechat.api import (
    API_FREQ_LIMIT,
    NOT_SUBSCRIBED,
    OUT_OF_WINDOW,
    TOO_MANY_CS_MESSAGES,
    WeChatApi,
    WeChatError,
    WeChatUnreachable,
)
from bots.wechat.render import render_text
from bots.wechat.window import close_window, take_window
from core.chat.messages import Link, Reply, Say
from core.chat.turn import Translate, Translators
from core.domain.codes import Channel
from core.ports import Clock, DeliveryFailed
from storage.database import SqlUnitOfWork

log = logging.getLogger(__name__)

TEXT_LIMIT_BYTES = 2048  # a customer-service text, as a passive reply
FIELD_LIMIT = 20  # characters per template field
SOURCES = ("title", "text", "time", "hint")  # what a template field can be filled with
DEFAULT_FIELDS = "first=title,keyword1=text,keyword2=time,remark=hint"
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_EMOJI_PARTS = {"So", "Sk", "Cs", "Co", "Cn", "Cf"}  # symbols, modifiers, joiners and private use


@dataclass(frozen=True)
class Template:
    """The notice template: its id, and which data field gets what (``first=title,keyword1=text``)."""

    template_id: str
    fields: tuple[tuple[str, str], ...]
    timezone: str = "Asia/Shanghai"

    @classmethod
    def parse(
        cls, template_id: str, mapping: str = DEFAULT_FIELDS, timezone: str = "Asia/Shanghai"
    ) -> Template:
        fields = []
        for item in (part.strip() for part in mapping.split(",") if part.strip()):
            name, _, source = (piece.strip() for piece in item.partition("="))
            if not _FIELD.match(name) or source not in SOURCES:
                raise ValueError(f"template field {item!r}: expected name=one of {', '.join(SOURCES)}")
            fields.append((name, source))
        if not fields:
            raise ValueError("no template fields")
        return cls(template_id.strip(), tuple(fields), timezone)


def template_field(text: str) -> str:
    """One line of at most 20 characters, without emoji or control characters."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _EMOJI_PARTS | {"Cc"}
    )
    line = " ".join(kept.split())
    return line if len(line) <= FIELD_LIMIT else line[: FIELD_LIMIT - 1] + "…"


def template_data(
    template: Template, replies: Sequence[Reply], t: Translate, now: datetime
) -> tuple[dict[str, str], str | None]:
    """The template's fields from the replies' text, and the address of the first link, if any."""
    lines = [
        line.strip()
        for reply in replies
        if isinstance(reply, Say)
        for line in reply.text.splitlines()
        if line.strip()
    ]
    if len(lines) > 1:
        title, text = lines[0], " ".join(lines[1:])
    else:
        title, text = t("wechat.send.title"), " ".join(lines)
    values = {
        "title": title,
        "text": text,
        "time": now.astimezone(ZoneInfo(template.timezone)).strftime("%Y-%m-%d %H:%M"),
        "hint": t("wechat.send.hint"),
    }
    data = {name: template_field(values[source]) for name, source in template.fields}
    url = next((reply.url for reply in replies if isinstance(reply, Link)), None)
    return data, url


class WeChatMessenger:
    """Sends to a WeChat openid; raises DeliveryFailed (permanent when the user unfollowed)."""

    def __init__(
        self,
        api: WeChatApi,
        uows: Callable[[], SqlUnitOfWork],
        clock: Clock,
        translators: Translators,
        template: Template,
    ) -> None:
        self.api = api
        self.uows = uows
        self.clock = clock
        self.translators = translators
        self.template = template

    async def close(self) -> None:
        await self.api.close()

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        if not replies:
            return
        openid, now = external_id, self.clock.now()
        async with self.uows() as uow:
            user = await uow.users.by_identity(Channel.WECHAT, openid)
            in_window = await take_window(uow, openid, now)
            await uow.commit()
        language = user.language if user is not None else "zh_CN"
        t = self.translators(language)
        if in_window:
            try:
                await self.api.send_text(openid, cut_bytes(render_text(replies, language)))
            except WeChatError as error:
                if error.errcode not in (OUT_OF_WINDOW, TOO_MANY_CS_MESSAGES):
                    raise _failed(error) from error
                log.info("WeChat window of %s is closed (%s): sending a template", openid, error.errcode)
                async with self.uows() as uow:
                    await close_window(uow, openid)
                    await uow.commit()
            except WeChatUnreachable as error:
                raise DeliveryFailed(f"network: {error}") from error
            else:
                if user is not None and user.id is not None:
                    await self._remember_offered(user.id, replies, now)
                return
        await self._send_template(openid, replies, t, now)

    async def _send_template(
        self, openid: str, replies: Sequence[Reply], t: Translate, now: datetime
    ) -> None:
        if not self.template.template_id:
            raise DeliveryFailed(
                "the user's customer-service window is closed and no template is set (STVS_WECHAT_TEMPLATE_NOTICE)"
            )
        data, url = template_data(self.template, replies, t, now)
        try:
            await self.api.send_template(openid, self.template.template_id, data, url)
        except WeChatError as error:
            raise _failed(error) from error
        except WeChatUnreachable as error:
            raise DeliveryFailed(f"network: {error}") from error

    async def _remember_offered(self, user_id: int, replies: Sequence[Reply], now: datetime) -> None:
        """A reply of "2" then picks the second choice, as after a conversation turn."""
        offered = offered_payloads(replies)
        if not offered:
            return
        async with self.uows() as uow:
            state = await uow.dialogs.for_user(user_id, now)
            state.offered = offered
            await uow.dialogs.save(state)
            await uow.commit()


def offered_payloads(replies: Sequence[Reply]) -> list[str]:
    """The payloads behind the numbers render_text shows, in the same order."""
    return [choice.payload for reply in replies if isinstance(reply, Say) for choice in reply.choices]


def cut_bytes(text: str, limit: int = TEXT_LIMIT_BYTES) -> str:
    """At most ``limit`` bytes of UTF-8, cut at a character boundary, with an ellipsis when cut."""
    if len(text.encode()) <= limit:
        return text
    return text.encode()[: limit - len("…".encode())].decode(errors="ignore") + "…"


def _failed(error: WeChatError) -> DeliveryFailed:
    if error.errcode == NOT_SUBSCRIBED:
        return DeliveryFailed(f"unsubscribed: {error}", permanent=True)
    if error.errcode == API_FREQ_LIMIT:
        return DeliveryFailed(f"rate limited: {error}", retry_after=60)
    return DeliveryFailed(str(error))
