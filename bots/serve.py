"""`stvs serve`: the aiohttp application (Telegram webhook, /healthz, the outbox dispatcher), or
long polling for development with --polling."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bots.app import TELEGRAM_BOT, TELEGRAM_DISPATCHER, build_app, build_services, tune_gc
from bots.bootstrap import open_database, upgrade_database
from bots.settings import Settings
from core.chat.turn import Translate
from locales import translator


async def serve(
    settings: Settings,
    *,
    polling: bool = False,
    stop: asyncio.Event | None = None,
    t: Translate | None = None,
) -> None:
    t = t or translator(settings.language)
    await upgrade_database(settings)
    services = build_services(settings, database=open_database(settings))
    app = build_app(services)
    if settings.telegram_token:
        print(t("cli.serve.telegram_on", mode=t(f"cli.serve.mode.{'polling' if polling else 'webhook'}")))
    else:
        print(t("cli.serve.telegram_off"))
    print(t("cli.serve.wechat_on" if settings.wechat_token else "cli.serve.wechat_off"), flush=True)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    tune_gc()
    print(t("cli.serve.listening", host=settings.http_host, port=settings.http_port), flush=True)
    stop = stop or asyncio.Event()
    try:
        if polling and TELEGRAM_BOT in app:
            bot, dispatcher = app[TELEGRAM_BOT], app[TELEGRAM_DISPATCHER]
            await bot.delete_webhook(drop_pending_updates=False)
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
