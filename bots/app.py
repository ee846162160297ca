"""The composition root of the server: settings → database → conversation → channels → aiohttp app."""

from __future__ import annotations

import gc
import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bots import spreadsheets
from bots.certificate_pdf import render_certificate
from bots.links import TelegramLinks
from bots.media import MediaStore
from bots.settings import Settings
from bots.telegram.adapter import (
    TelegramMessenger,
    build_dispatcher,
    parse_update,
    set_commands,
    webhook_answer,
)
from bots.verify_page import render_verify_page
from bots.wechat.receive import add_routes as add_wechat_routes
from bots.wechat.send import messenger_from_settings
from core.chat.conversation import Conversation
from core.chat.routes import build_routes
from core.clock import SystemClock
from core.domain.certificate import CertificateSnapshot
from core.domain.codes import Channel
from core.ports import Clock, Messenger, Sheet, SheetFormat
from core.services.certificates import verify_certificate
from locales import translator
from scheduler.dispatcher import Pace, Pacer
from scheduler.jobs import register_jobs
from storage.database import Database
from storage.types import cipher

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1 << 20
SERVICES = web.AppKey("services", "Services")
TELEGRAM_BOT = web.AppKey("telegram_bot", Bot)
TELEGRAM_DISPATCHER = web.AppKey("telegram_dispatcher", Dispatcher)
DISPATCH_EVERY_S = 2


@dataclass
class Services:
    settings: Settings
    database: Database
    clock: Clock
    conversation: Conversation
    messengers: dict[Channel, Messenger] = field(default_factory=dict)
    telegram_links: TelegramLinks | None = None
    media: MediaStore | None = None  # files served at /media/<token>

    def __post_init__(self) -> None:
        if self.media is None:
            self.media = MediaStore(self.database.uow, self.clock)


class RenderedDocuments:
    """core.ports.Documents: certificates as PDF (reportlab, with its built-in CJK font), exports as
    XLSX or CSV (bots.spreadsheets)."""

    def certificate(self, snapshot: CertificateSnapshot, language: str) -> bytes:
        return render_certificate(snapshot, translator(language))

    def spreadsheet(self, sheet: Sheet, form: SheetFormat) -> bytes:
        return spreadsheets.render(sheet, form)


def build_services(
    settings: Settings, clock: Clock | None = None, database: Database | None = None
) -> Services:
    cipher.configure(*settings.data_keys())
    database = database or Database(settings.resolved_database_url)
    clock = clock or SystemClock()
    links = TelegramLinks(settings.telegram_bot_username) if settings.telegram_token else None
    conversation = Conversation(
        database.uow,
        clock,
        settings.policy(),
        translator,
        build_routes(),
        links=links,
        documents=RenderedDocuments(),
    )
    return Services(settings, database, clock, conversation, telegram_links=links)


def tune_gc() -> None:
    """Once the server is up: what start-up made (modules, mappers, catalogs) is frozen out of the
    collector's view, and full collections run less often. Full collections over that heap were the
    tail of the reply latency (a WeChat reply must come within 5 s; p99 fell from ~250 to ~70 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


def telegram_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base, is_local=True))
    return Bot(settings.telegram_token, session=session)


def channel_status(settings: Settings) -> dict[str, str]:
    """Which channels run, and if not, why: said at start-up and on /healthz."""
    return {
        "telegram": "on" if settings.telegram_token else "off: STVS_TELEGRAM_TOKEN is not set",
        "wechat": "on" if settings.wechat_token else "off: STVS_WECHAT_TOKEN is not set",
    }


def build_app(services: Services, *, run_scheduler: bool = True) -> web.Application:
    settings = services.settings
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[SERVICES] = services

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": channel_status(settings)})

    app.router.add_get("/healthz", healthz)

    async def media(request: web.Request) -> web.Response:
        assert services.media is not None
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
        add_wechat_routes(app, services)

    if settings.telegram_token:
        bot = telegram_bot(settings)
        dispatcher = build_dispatcher(services.conversation, translator)
        services.messengers[Channel.TELEGRAM] = TelegramMessenger(bot)
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
            answer = await dispatcher.feed_update(bot, update)
            if isinstance(answer, SendMessage):
                return web.json_response(webhook_answer(bot, answer))
            return web.json_response({})

        app.router.add_post("/telegram/webhook", telegram_webhook)

        async def telegram_lifecycle(_: web.Application) -> AsyncIterator[None]:
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
            yield
            await bot.session.close()

        app.cleanup_ctx.append(telegram_lifecycle)

    if settings.wechat_app_id and settings.wechat_app_secret:
        wechat = messenger_from_settings(settings, services.database.uow, services.clock, translator)
        services.messengers[Channel.WECHAT] = wechat

        async def close_wechat(_: web.Application) -> None:
            await wechat.close()

        app.on_cleanup.append(close_wechat)

    if run_scheduler:
        app.cleanup_ctx.append(_scheduler(services))

    async def close_database(_: web.Application) -> None:
        await services.database.dispose()

    app.on_cleanup.append(close_database)
    return app


def _pacer(services: Services) -> Pacer:
    settings = services.settings
    paces = {
        Channel.TELEGRAM: Pace(settings.telegram_per_second, settings.telegram_chat_interval_s),
        Channel.WECHAT: Pace(settings.wechat_per_second, 0),
    }
    return Pacer(services.clock, paces)


def _scheduler(services: Services):  # type: ignore[no-untyped-def]
    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        # APScheduler 3.11 must start inside the running loop (PITFALLS); the jobs are in scheduler/jobs.py.
        scheduler = AsyncIOScheduler(timezone="UTC")
        register_jobs(
            scheduler,
            uows=services.database.uow,
            clock=services.clock,
            messengers=services.messengers,
            translators=translator,
            policy=services.conversation.policy,
            pacer=_pacer(services),
        )
        scheduler.start()
        yield
        scheduler.shutdown(wait=False)

    return lifecycle
