"""The aiohttp application of ``stvs serve`` and the demo: webhooks, /verify, /media, /healthz and
/metrics on the services ``bots.bootstrap`` made, and the scheduled jobs while it runs."""

from __future__ import annotations

import gc
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

from aiogram import Bot, Dispatcher
from aiogram.methods import SendMessage
from aiohttp import web

from bots.bootstrap import Services
from bots.ops import telegram_turns
from bots.settings import Settings
from bots.telegram.adapter import Redeliver, build_dispatcher, parse_update, set_commands, webhook_answer
from bots.verify_page import render_verify_page
from bots.web.playground import add_playground
from bots.wechat.qrcodes import ROUTE as QR_ROUTE
from bots.wechat.receive import add_routes as add_wechat_routes
from core.services.certificates import verify_certificate
from locales import translator

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1 << 20
SERVICES = web.AppKey("services", Services)
TELEGRAM_BOT = web.AppKey("telegram_bot", Bot)
TELEGRAM_DISPATCHER = web.AppKey("telegram_dispatcher", Dispatcher)


def tune_gc() -> None:
    """Once the server is up: what start-up made (modules, mappers, catalogs) is frozen out of the
    collector's view, and full collections run less often. Full collections over that heap were the
    tail of the reply latency (a WeChat reply must come within 5 s; p99 fell from ~250 to ~70 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


def channel_status(settings: Settings) -> dict[str, str]:
    """Which channels run, and if not, why: said at start-up and on /healthz."""
    return {
        "telegram": "on" if settings.telegram_token else "off: STVS_TELEGRAM_TOKEN is not set",
        "wechat": "on" if settings.wechat_token else "off: STVS_WECHAT_TOKEN is not set",
    }


def build_app(services: Services, *, run_scheduler: bool = True, playground: bool = False) -> web.Application:
    """Telegram's webhook when bootstrap made the bot, WeChat's when the settings hold its token. The
    application owns ``services`` from here: its cleanup closes them."""
    settings = services.settings
    ops = services.ops
    app = web.Application(client_max_size=MAX_UPDATE_BYTES, middlewares=[ops.track_requests])
    app[SERVICES] = services

    async def healthz(_: web.Request) -> web.Response:
        return await ops.healthz({"channels": channel_status(settings)})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", ops.metrics)

    async def media(request: web.Request) -> web.Response:
        item = await services.media.get(request.match_info["token"])
        if item is None:
            raise web.HTTPNotFound(text="expired or unknown")
        disposition = "inline" if item.mime.startswith("image/") else "attachment"
        return web.Response(
            body=item.data,
            content_type=item.mime,
            headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(item.filename)}",
                "Cache-Control": "private, max-age=600",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get("/media/{token}", media)

    async def verify(request: web.Request) -> web.Response:
        """4-5.5: anyone holding a certificate checks it here; no personal data beyond the masked name."""
        number = request.match_info["number"]
        language = "en" if request.query.get("lang") == "en" else "zh_CN"
        async with services.database.uow() as uow:
            # Read while the unit of work is open: leaving it expires what it loaded.
            found = await verify_certificate(uow, number)
            valid = found is not None and found.verifies
            page = render_verify_page(
                found.content if found is not None and valid else None,
                revoked=found is not None and not valid,
                revoked_reason=found.revoke_reason if found is not None else None,
                t=translator(language),
                language=language,
                number=number[:40],
                kind=found.kind if found is not None else None,
            )
        return web.Response(
            text=page,
            content_type="text/html",
            status=200 if valid else 404,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    app.router.add_get("/verify/{number}", verify)

    if settings.wechat_token:
        add_wechat_routes(
            app,
            services.conversation,
            services.clock,
            services.messengers,
            services.media,
            token=settings.wechat_token,
            aes_key=settings.wechat_aes_key,
            app_id=settings.wechat_app_id,
            public_url=settings.public_url,
        )
    if services.scene_codes is not None:  # the images of the WeChat account's parametric QR codes
        app.router.add_get(QR_ROUTE, services.scene_codes.serve)
    if services.telegram_bot is not None:
        _add_telegram(app, services, services.telegram_bot)
    if playground:  # `stvs demo` only (bots/web): the web panes and the clock control
        add_playground(app, services)
    if run_scheduler:
        app.cleanup_ctx.append(_scheduler(services))

    async def close_services(_: web.Application) -> None:
        await services.close()

    app.on_cleanup.append(close_services)
    return app


def _add_telegram(app: web.Application, services: Services, bot: Bot) -> None:
    """POST /telegram/webhook, and at start-up the bot's username, commands and webhook."""
    settings = services.settings
    dispatcher = build_dispatcher(services.conversation, translator)
    dispatcher.update.outer_middleware(telegram_turns)
    app[TELEGRAM_BOT] = bot
    app[TELEGRAM_DISPATCHER] = dispatcher

    async def telegram_webhook(request: web.Request) -> web.Response:
        secret = settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"error": "bad secret token"}, status=401)
        try:
            update = parse_update(await request.read(), bot)
        except web.HTTPRequestEntityTooLarge:
            raise
        except ValueError:
            return web.json_response({"error": "not a Telegram update"}, status=400)
        if update is None:  # acknowledged and dropped (parse_update says why in the log)
            return web.json_response({})
        try:
            answer = await dispatcher.feed_update(bot, update)
        except Redeliver:
            return web.json_response({"error": "try again"}, status=503)
        if isinstance(answer, SendMessage):
            return web.json_response(webhook_answer(bot, answer))
        return web.json_response({})

    app.router.add_post("/telegram/webhook", telegram_webhook)

    async def telegram_start(_: web.Application) -> AsyncIterator[None]:
        """A cleanup context, as the scheduler's is: this runs first, before the jobs start."""
        links = services.telegram_links
        if links is not None and not links.bot_username:
            try:  # once, before serving: deep links and QR codes need the bot's username
                links.bot_username = (await bot.get_me()).username or ""
            except Exception:
                log.exception("getMe failed; deep links and QR codes are off until a restart")
        try:
            await set_commands(bot, translator)
            if settings.public_url:
                await bot.set_webhook(
                    settings.public_url.rstrip("/") + "/telegram/webhook",
                    secret_token=settings.telegram_webhook_secret or None,
                    allowed_updates=["message", "edited_message", "callback_query"],
                )
        except Exception:
            log.exception("Telegram start-up calls failed; the webhook still serves")
        yield  # the bot's session closes with the services

    app.cleanup_ctx.append(telegram_start)


def _scheduler(services: Services) -> Callable[[web.Application], AsyncIterator[None]]:
    """Every job of scheduler/jobs.py while the application runs (scheduler/runner.py)."""

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        async with services.jobs().running():
            yield

    return lifecycle
