"""Small parts of the composition root: settings in, configured adapters out. The CLI, the aiohttp
application and the scheduler build themselves from these."""

from __future__ import annotations

from typing import Any

from bots.settings import Settings
from core.clock import SystemClock
from core.ports import Charts, Clock
from storage import migrate
from storage.database import Database
from storage.types import cipher


def configure_cipher(settings: Settings) -> None:
    """Phone and ID numbers are encrypted at rest; nothing personal is read or written before this."""
    cipher.configure(*settings.data_keys())


def open_database(settings: Settings, **engine_kwargs: Any) -> Database:
    """The database the settings name (a SQLite file in data_dir by default), ready for personal data.
    The caller disposes it."""
    configure_cipher(settings)
    return Database(settings.resolved_database_url, **engine_kwargs)


async def upgrade_database(settings: Settings) -> str | None:
    """Alembic to head; returns the revision the database is now at."""
    url = settings.resolved_database_url
    await migrate.upgrade(url)
    return await migrate.current(url)


def clock() -> Clock:
    return SystemClock()


def charts() -> Charts:
    """Statistics charts as PNG (matplotlib, with a CJK font from a package, registered here once)."""
    from bots.charts import PngCharts  # matplotlib loads in about a second: only where charts are drawn

    return PngCharts()
