"""Render channel-neutral replies (core.chat.messages) as the text of one WeChat reply.

WeChat has no buttons in a chat: choices become numbered lines ("回复 1：报名"), numbered 1..n across the
whole turn in the order core recorded them (core.chat.conversation picks the n-th offered payload when the
user answers with a digit). Passive replies carry no files: images and documents become links to
/media/<token> served by the app. Nothing here knows about volunteers or activities.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass

from bots.media import MediaBatch
from bots.numbered import Words, numbered_text
from core.chat.messages import Document, Image, Reply
from locales import translator

PASSIVE_LIMIT_BYTES = 2048  # WeChat: text in a passive reply, UTF-8 bytes


@dataclass(frozen=True)
class MediaLinks:
    """Where files are served from; no public URL means links cannot be given."""

    batch: MediaBatch | None
    public_url: str

    def url(self, data: bytes, filename: str, mime: str) -> str | None:
        if self.batch is None or not self.public_url:
            return None
        token = self.batch.put(data, filename, mime)
        return f"{self.public_url.rstrip('/')}/media/{token}" if token else None

    async def save(self) -> None:
        """Before the reply that names them leaves."""
        if self.batch is not None:
            await self.batch.save()


NO_MEDIA = MediaLinks(None, "")
WORDS = Words("wechat.text.option", "wechat.text.ask_location", "wechat.text.ask_contact")


def render_text(replies: Sequence[Reply], language: str, media: MediaLinks = NO_MEDIA) -> str:
    """All replies of a turn as one text (bots.numbered); images and documents as /media links."""
    t = translator(language)

    def file_line(reply: Image | Document) -> str:
        mime = (
            reply.mime
            if isinstance(reply, Document)
            else mimetypes.guess_type(reply.filename)[0] or "image/png"
        )
        url = media.url(reply.data, reply.filename, mime)
        if url is None:
            return t("wechat.media.unavailable")
        if isinstance(reply, Document):
            return t("wechat.media.document", url=url, filename=reply.filename)
        return t("wechat.media.image", url=url)

    return numbered_text(replies, language, WORDS, file_line)


def cdata_safe(text: str) -> str:
    """wechatpy puts text into CDATA unescaped (PITFALLS): a "]]>" would end it and break the XML."""
    return text.replace("]]>", "]]&gt;")


def passive_size(text: str) -> int:
    return len(cdata_safe(text).encode())


def split_passive(text: str, limit: int = PASSIVE_LIMIT_BYTES) -> tuple[str, str]:
    """The longest head that fits a passive reply (cut at a line end where one fits), and the rest."""
    if passive_size(text) <= limit:
        return text, ""
    cut = 0
    position = 0
    for line in text.splitlines(keepends=True):
        position += len(line)
        if passive_size(text[:position]) > limit:
            break
        cut = position
    if cut == 0:
        cut = _longest_prefix(text, limit)
    return text[:cut].rstrip("\n"), text[cut:].lstrip("\n")


def truncate(text: str, note: str, limit: int = PASSIVE_LIMIT_BYTES) -> str:
    """``text`` cut to fit with ``note`` after it, when no active sender can deliver the rest."""
    if passive_size(text) <= limit:
        return text
    head, _ = split_passive(text, limit - passive_size(note) - 1)
    return f"{head}\n{note}"


def _longest_prefix(text: str, limit: int) -> int:
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if passive_size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
