"""A broadcast through the outbox: how fast the dispatcher itself goes (no cap), and what that leaves
at Telegram's cap. Notices go through the real aiogram client to the local fake Bot API. Prints
figures; asserts nothing.

    python -m bench.broadcast [--notices 5000] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.common import no_collector_pauses
from bots.telegram.adapter import TelegramMessenger
from core.clock import SystemClock
from core.domain.codes import Channel
from core.domain.dialog import Notice
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from storage.database import Database
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI

FIRST_CHAT = 8_000_000_001
TELEGRAM_CAP = 30  # messages a second, Telegram's broadcast limit


async def _queue(db: Database, clock: SystemClock, n: int) -> None:
    """n users with a Telegram identity, and one queued notice each (one statement, as a call is)."""
    from core.services.users import ensure_user

    recipients = []
    async with db.uow() as uow:
        for i in range(n):
            user = await ensure_user(uow, clock, Channel.TELEGRAM, str(FIRST_CHAT + i))
            recipients.append((f"bench:{i}", user.id or 0))
        template = Notice(
            key="", user_id=0, message_key="chat.cancelled", created_at=clock.now(), due_at=clock.now()
        )
        await uow.notices.add_for_each(template, recipients)
        await uow.commit()


async def run(n: int, database_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database(url)
        if database_url:
            async with db.engine.begin() as connection:
                from storage.tables import metadata

                await connection.run_sync(metadata.drop_all)
        await db.create_schema()
        clock = SystemClock()
        await _queue(db, clock, n)
        async with FakeTelegramAPI() as api:
            session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
            bot = Bot(TEST_BOT_TOKEN, session=session)
            messengers = {Channel.TELEGRAM: TelegramMessenger(bot)}
            uncapped = Pacer(clock, {Channel.TELEGRAM: Pace(per_second=1_000_000, chat_interval_s=0)})
            started = time.perf_counter()
            sent = 0
            with no_collector_pauses():
                while sent < n:
                    result = await dispatch_due(db.uow, clock, messengers, translator, pacer=uncapped)
                    if not result.sent:
                        break
                    sent += result.sent
            elapsed = time.perf_counter() - started
            await bot.session.close()
            delivered = len(api.calls("sendMessage"))
        await db.dispose()
    backend = "postgresql" if database_url else "sqlite"
    rate = sent / elapsed
    print(f"{backend}: {sent} notices sent ({delivered} reached the fake Bot API) in {elapsed:.1f} s")
    print(f"  dispatcher without a cap: {rate:.0f} notices/s = {rate / TELEGRAM_CAP:.1f} × Telegram's cap")
    print(f"  at Telegram's cap ({TELEGRAM_CAP}/s) {n} notices take {n / TELEGRAM_CAP / 60:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument(
        "--database-url", default="", help="a scratch PostgreSQL database (dropped and made anew)"
    )
    args = parser.parse_args()
    asyncio.run(run(args.notices, args.database_url))


if __name__ == "__main__":
    main()
