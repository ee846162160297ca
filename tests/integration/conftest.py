"""Fixtures shared by the Telegram end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.app import build_app
from bots.bootstrap import bootstrap
from bots.settings import Settings
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI

TELEGRAM_SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def app_client(
    db: Database, clock: FakeClock, fake_telegram: FakeTelegramAPI, tmp_path
) -> AsyncIterator[TestClient]:
    """The real application with the Telegram channel on, its client pointed at the fake Bot API."""
    settings = Settings(
        data_dir=tmp_path,
        telegram_token=TEST_BOT_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base=fake_telegram.base_url,
    )
    app = build_app(bootstrap(settings, clock=clock, database=db), run_scheduler=False)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def settings_changes() -> dict[str, Any]:
    """What a journey module changes in the two-channel app's settings (two_channels.py): nothing."""
    return {}
