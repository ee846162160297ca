"""The composition root of the server: settings → database → conversation → channels → aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bots import bootstrap, spreadsheets
from bots.certificate_pdf import render_certificate
from bots.links import TelegramLinks
from bots.media import MediaStore
from bots.ops import Ops, observed_routes, telegram_turns
from bots.settings import Settings
from bots.telegram.adapter import (
    Redeliver,
    TelegramMessenger,
    build_dispatcher,
    parse_update,
    set_commands,
    webhook_answer,
)
from bots.verify_page import render_verify_page
from bots.web.playground import add_playground
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
SERVICES: web.AppKey[Services] = web.AppKey("services")  # Services is defined below
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
    ops: Ops | None = None  # metrics, the turn observer, the dispatcher's claims (bots.ops)

    def __post_init__(self) -> None:
        if self.media is None:
            self.media = MediaStore(self.database.uow, self.clock)
        if self.ops is None:
            self.ops = Ops(self.database.uow, self.clock)


class RenderedDocuments:
    """core.ports.Documents: certificates as PDF (reportlab, with its built-in CJK font), exports as
    XLSX or CSV (bots.spreadsheets)."""

    def certificate(self, snapshot: CertificateSnapshot, language: str) -> bytes:
        return render_certificate(snapshot, translator(language))

    def spreadsheet(self, sheet: Sheet, form: SheetFormat) -> bytes:
        return spreadsheets.render(sheet, form)

    def workbook(self, sheets: Sequence[Sheet]) -> bytes:
        return spreadsheets.workbook(sheets)


def build_services(
    settings: Settings, clock: Clock | None = None, database: Database | None = None
) -> Services:
    cipher.configure(*settings.data_keys())
    database = database or Database(settings.resolved_database_url)
    clock = clock or SystemClock()
    links = TelegramLinks(settings.telegram_bot_username) if settings.telegram_token else None
    ops = Ops(database.uow, clock)
    conversation = Conversation(
        database.uow,
        clock,
        settings.policy(),
        translator,
        observed_routes(build_routes()),
        observe=ops.turn_ended,
        links=links,
        documents=RenderedDocuments(),
        charts=bootstrap.charts(),
    )
    return Services(settings, database, clock, conversation, telegram_links=links, ops=ops)


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


def build_app(services: Services, *, run_scheduler: bool = True, playground: bool = False) -> web.Application:
    settings = services.settings
    ops = services.ops
    assert ops is not None
    app = web.Application(client_max_size=MAX_UPDATE_BYTES, middlewares=[ops.track_requests])
    app[SERVICES] = services

    async def healthz(_: web.Request) -> web.Response:
        return await ops.healthz({"channels": channel_status(settings)})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", ops.metrics)

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
        dispatcher.update.outer_middleware(telegram_turns)
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

    if playground:  # `stvs demo` only (bots/web): the web panes and the clock control
        add_playground(app, services)

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
    claims = services.ops.claims if services.ops is not None else None

    async def sleep_until(until: datetime) -> None:
        """A send's wait for its turn, cut short by a stop: the tick then ends and marks what it sent."""
        delay = (until - services.clock.now()).total_seconds()
        if delay <= 0:
            return
        if claims is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(claims.stopped.wait(), delay)

    return Pacer(services.clock, paces, sleep_until=sleep_until)


def start_jobs(services: Services) -> AsyncIOScheduler:
    """Every job of scheduler/jobs.py, started (inside the running loop: APScheduler 3.11, PITFALLS),
    the dispatcher's ticks tracked by the claims so that a stop can wait for them and release them."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    ops = services.ops
    assert ops is not None
    register_jobs(
        scheduler,
        uows=services.database.uow,
        clock=services.clock,
        messengers=ops.counted(services.messengers),
        translators=translator,
        policy=services.conversation.policy,
        pacer=_pacer(services),
    )
    dispatch = scheduler.get_job("outbox-dispatch")
    dispatch.modify(kwargs={**dispatch.kwargs, "claims": ops.claims})
    scheduler.start()
    return scheduler


async def stop_jobs(services: Services, scheduler: AsyncIOScheduler) -> int:
    """A stop: no new sends; those under way get the shutdown timeout to end, and what this process
    claimed but did not send is due again at once, for another instance or the restart. The number of
    notices released."""
    ops = services.ops
    assert ops is not None
    ops.claims.stop()
    if ops.claims.ticks:
        await asyncio.wait(set(ops.claims.ticks), timeout=services.settings.shutdown_timeout_s)
    ops.claims.cancel()  # a tick that has not ended by then ends where it is
    if ops.claims.ticks:
        await asyncio.wait(set(ops.claims.ticks), timeout=1)
    scheduler.shutdown(wait=False)
    released = await ops.claims.release(services.database.uow, services.clock)
    if released:
        log.info("released %d claimed notices", released)
    return released


def _scheduler(services: Services):  # type: ignore[no-untyped-def]
    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        scheduler = start_jobs(services)
        yield
        await stop_jobs(services, scheduler)

    return lifecycle
