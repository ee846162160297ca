"""`stvs serve`: the aiohttp application (Telegram webhook, /healthz, the outbox dispatcher), or
long polling for development with --polling."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bots.app import TELEGRAM_BOT, TELEGRAM_DISPATCHER, build_app, build_services, channel_status
from bots.bootstrap import open_database, upgrade_database
from bots.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, polling: bool = False, stop: asyncio.Event | None = None) -> None:
    await upgrade_database(settings)
    services = build_services(settings, database=open_database(settings))
    app = build_app(services)
    for channel, status in channel_status(settings).items():
        print(f"{channel}: {status}", flush=True)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    print(f"listening on http://{settings.http_host}:{settings.http_port} (GET /healthz)", flush=True)
    stop = stop or asyncio.Event()
    try:
        if polling and TELEGRAM_BOT in app:
            bot, dispatcher = app[TELEGRAM_BOT], app[TELEGRAM_DISPATCHER]
            await bot.delete_webhook(drop_pending_updates=False)
            print("telegram: long polling", flush=True)
            polling_task = asyncio.create_task(
                dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
            )
            await asyncio.wait(
                [polling_task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            if not polling_task.done():
                await dispatcher.stop_polling()
                await polling_task
        else:
            await stop.wait()
    finally:
        await runner.cleanup()
