"""The real application with both channels on: Telegram (its client pointed at the fake Bot API, updates
posted to /telegram/webhook) and WeChat in safe mode (XML posted to /wechat), one database, the fake
clock. Journey modules import the fixtures below; one that needs other settings overrides
``settings_changes`` (its default, none, is in conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.app import build_app
from bots.bootstrap import bootstrap
from bots.settings import Settings
from bots.wechat.receive import WECHAT_RECEIVER
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.fakes.wechat_messages import AES_KEY, APP_ID, TOKEN, WeChatMessages
from tests.integration import test_wechat_receive as receive
from tests.integration.conftest import TELEGRAM_SECRET
from tests.integration.test_telegram_webhook import Chat
from tests.integration.test_wechat_receive import WeChatUser

PUBLIC_URL = "https://stvs.example.org"

# The fixtures a journey module takes in whole with ``from tests.integration.two_channels import *``.
__all__ = ["app_client", "chat", "messenger", "mode", "settings", "signer", "wechat"]

# The WeChat side as test_wechat_receive signs and reads it.
signer = receive.signer
messenger = receive.messenger


@pytest.fixture
def mode() -> str:
    """WeChat in safe (AES) mode, as test_wechat_receive calls it."""
    return "aes"


@pytest.fixture
def settings(
    mode: str, fake_telegram: FakeTelegramAPI, tmp_path, settings_changes: dict[str, Any]
) -> Settings:
    return Settings(
        data_dir=tmp_path,
        telegram_token=TEST_BOT_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base=fake_telegram.base_url,
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_aes_key=AES_KEY if mode == "aes" else "",
        public_url=PUBLIC_URL,
        **settings_changes,
    )


@pytest.fixture
async def app_client(db: Database, clock: FakeClock, settings: Settings) -> AsyncIterator[TestClient]:
    app = build_app(bootstrap(settings, clock=clock, database=db), run_scheduler=False)
    app[WECHAT_RECEIVER].overflow_delay_s = 0
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def chat(
    app_client: TestClient, fake_telegram: FakeTelegramAPI, clock: FakeClock
) -> Callable[[Person], Chat]:
    updates = TelegramUpdates(clock=clock)
    return lambda person: Chat(app_client, fake_telegram, person, updates)


@pytest.fixture
def wechat(app_client: TestClient, signer, clock: FakeClock) -> Callable[[str], WeChatUser]:
    return lambda openid: WeChatUser(app_client, signer, WeChatMessages(clock), openid)


def inline_buttons(chat: Chat) -> list[str]:
    """The labels of the inline buttons under the chat's last replies, in order."""
    return [
        b["text"]
        for m in chat.last
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


async def organizer_card(staff: Chat, title: str) -> str:
    """The card of the org's activity ``title``, as staff reach it from /organizer."""
    await staff.say("/organizer")
    await staff.press("本组织活动")
    return await staff.press(title)
