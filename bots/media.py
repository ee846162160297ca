"""Files the app serves for a short while at /media/<token>: images and documents for channels whose
passive replies cannot carry them (WeChat passive replies take only uploaded media ids).

In memory and per process: behind several instances the link works only on the instance that made it,
so a load balancer needs sticky routing for /media, or the active sender's media upload instead."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

TTL_S = 600.0
MAX_TOTAL_BYTES = 32 << 20
MAX_ITEMS = 256


@dataclass(frozen=True)
class Media:
    data: bytes
    filename: str
    mime: str
    expires_at: float


class MediaStore:
    """put() → an unguessable token; get() within ``ttl_s``. The oldest items go first when full."""

    def __init__(
        self,
        *,
        ttl_s: float = TTL_S,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_items: int = MAX_ITEMS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_total_bytes = max_total_bytes
        self.max_items = max_items
        self._monotonic = monotonic
        self._items: OrderedDict[str, Media] = OrderedDict()
        self._total = 0

    def put(self, data: bytes, filename: str, mime: str) -> str:
        if len(data) > self.max_total_bytes:
            raise ValueError(f"file of {len(data)} bytes is over the store's {self.max_total_bytes}")
        self._expire()
        while self._items and (
            len(self._items) >= self.max_items or self._total + len(data) > self.max_total_bytes
        ):
            self._drop_oldest()
        token = secrets.token_urlsafe(18)
        self._items[token] = Media(data, filename, mime, self._monotonic() + self.ttl_s)
        self._total += len(data)
        return token

    def get(self, token: str) -> Media | None:
        self._expire()
        return self._items.get(token)

    def __len__(self) -> int:
        self._expire()
        return len(self._items)

    def _expire(self) -> None:
        now = self._monotonic()
        while self._items and next(iter(self._items.values())).expires_at <= now:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, media = self._items.popitem(last=False)
        self._total -= len(media.data)
