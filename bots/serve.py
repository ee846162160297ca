"""`stvs serve`: the aiohttp application (Telegram webhook, WeChat, /healthz, /metrics, the outbox
dispatcher), or long polling for development with --polling.

A stop (SIGTERM from `docker stop` or `systemctl stop`, SIGINT from Ctrl-C) is graceful: the listening
socket closes, the requests in flight finish their turns (up to STVS_SHUTDOWN_TIMEOUT_S), the dispatcher
sends no more and releases the notices it claimed but did not send, the database closes, and the
command exits 0. A second signal during that stops the process at once."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from bots.app import TELEGRAM_BOT, TELEGRAM_DISPATCHER, build_app, tune_gc
from bots.bootstrap import bootstrap, upgrade_database
from bots.ops import configure_logging
from bots.settings import Settings
from core.chat.turn import Translate
from locales import translator

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve(
    settings: Settings,
    *,
    polling: bool = False,
    stop: asyncio.Event | None = None,
    t: Translate | None = None,
) -> None:
    """Until ``stop`` is set; without one, until SIGINT or SIGTERM."""
    t = t or translator(settings.language)
    configure_logging(settings.log_format, settings.log_level)
    await upgrade_database(settings)
    services = bootstrap(settings)
    app = build_app(services)
    if settings.telegram_token:
        print(t("cli.serve.telegram_on", mode=t(f"cli.serve.mode.{'polling' if polling else 'webhook'}")))
    else:
        print(t("cli.serve.telegram_off"))
    print(t("cli.serve.wechat_on" if settings.wechat_token else "cli.serve.wechat_off"), flush=True)
    # No access log: each turn has its own line (bots.ops), without client addresses.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=settings.shutdown_timeout_s)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        tune_gc()
        print(t("cli.serve.listening", host=settings.http_host, port=settings.http_port), flush=True)
        with stop_signals(stop is None) as stopped:
            await _run(app, polling, stop or stopped)
            log.info("stopping: finishing the turns in flight")
            services.ops.claims.stop()  # the dispatcher claims and starts nothing more
    finally:
        await runner.cleanup()
    log.info("stopped")


async def _run(app: web.Application, polling: bool, stop: asyncio.Event) -> None:
    if not (polling and TELEGRAM_BOT in app):
        await stop.wait()
        return
    bot, dispatcher = app[TELEGRAM_BOT], app[TELEGRAM_DISPATCHER]
    await bot.delete_webhook(drop_pending_updates=False)
    polling_task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    await asyncio.wait([polling_task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    if not polling_task.done():
        await dispatcher.stop_polling()
        await polling_task


@contextmanager
def stop_signals(install: bool = True) -> Iterator[asyncio.Event]:
    """An event that SIGINT or SIGTERM sets. The first signal stops gracefully; the handlers are then
    removed, so a second one acts as it would without them (Ctrl-C twice ends the process at once)."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def first(number: signal.Signals) -> None:
        log.info("%s received: stopping", number.name)
        stopped.set()
        for each in installed:
            loop.remove_signal_handler(each)
        installed.clear()

    if install:
        for number in STOP_SIGNALS:
            try:
                loop.add_signal_handler(number, first, number)
                installed.append(number)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                pass
    try:
        yield stopped
    finally:
        for number in installed:
            loop.remove_signal_handler(number)
