"""Files the app serves for a short while at /media/<token>: images and documents for channels whose
passive replies cannot carry them (WeChat passive replies take only uploaded media ids).

Kept in the database (table ``media``), so a link works on whichever instance of the server the
user's request reaches. A turn's files are collected while its reply is rendered (``MediaBatch``,
which hands out the tokens at once) and written in one transaction before the reply leaves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from core.ports import Clock, UnitOfWorkFactory

TTL = timedelta(minutes=10)
MAX_BYTES = 20 << 20  # a file over this is not offered as a link


@dataclass(frozen=True)
class Media:
    data: bytes
    filename: str
    mime: str


class MediaStore:
    def __init__(self, uows: UnitOfWorkFactory, clock: Clock, *, ttl: timedelta = TTL) -> None:
        self.uows = uows
        self.clock = clock
        self.ttl = ttl

    def batch(self) -> MediaBatch:
        return MediaBatch(self)

    async def save(self, items: dict[str, Media]) -> None:
        if not items:
            return
        now = self.clock.now()
        async with self.uows() as uow:
            await uow.media.purge(now)
            for token, item in items.items():
                await uow.media.put(token, item.filename, item.mime, item.data, now + self.ttl)
            await uow.commit()

    async def get(self, token: str) -> Media | None:
        async with self.uows() as uow:
            found = await uow.media.get(token, self.clock.now())
        if found is None:
            return None
        filename, mime, data = found
        return Media(data, filename, mime)


@dataclass
class MediaBatch:
    """The files of one reply: a token now, the bytes written by ``save``."""

    store: MediaStore
    items: dict[str, Media] = field(default_factory=dict)

    def put(self, data: bytes, filename: str, mime: str) -> str | None:
        if len(data) > MAX_BYTES:
            return None
        token = secrets.token_urlsafe(18)
        self.items[token] = Media(data, filename[:200], mime[:100])
        return token

    async def save(self) -> None:
        await self.store.save(self.items)
        self.items = {}
