"""The customer-service window: since June 2023 a user's message lets the account send 5 messages
within 48 hours (outside it WeChat answers errcode 45015). Counted per openid in the database, so
every instance of the server sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.ports import WeChatWindowRepository

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5


class HasWindows(Protocol):
    """A unit of work holding the windows (core.ports.UnitOfWork is one)."""

    @property
    def wechat_windows(self) -> WeChatWindowRepository: ...


async def note_inbound(uow: HasWindows, openid: str, now: datetime) -> None:
    """The receiving side calls this for every message the user sends (text, location, image…): it
    (re)opens the window, 5 messages within 48 hours from ``now``. Part of the caller's transaction:
    the caller commits. Menu clicks, follows and scans open only 3 messages within a minute, which
    is not worth a notice; do not call it for those events."""
    await uow.wechat_windows.open(openid, now)


async def take_window(uow: HasWindows, openid: str, now: datetime) -> bool:
    """Counts one customer-service message against the user's window; False when it is closed."""
    return await uow.wechat_windows.take(openid, now - WINDOW, WINDOW_MESSAGES)


async def close_window(uow: HasWindows, openid: str) -> None:
    """WeChat refused a customer-service message (45015, 45047): templates until the user writes again."""
    await uow.wechat_windows.close(openid, WINDOW_MESSAGES)
