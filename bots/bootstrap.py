"""The composition root: settings in, ``Services`` out. The web application (``bots.app``), ``stvs
serve``, ``stvs scheduler``, ``stvs chat``, the demo and its playground all run on what ``bootstrap``
makes; tests hand it their database, clock and fake messengers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bots import spreadsheets
from bots.certificate_pdf import render_certificate
from bots.links import DeepLinks, TelegramLinks
from bots.media import MediaStore
from bots.ops import Ops, observed_routes
from bots.settings import Settings
from bots.telegram.adapter import TelegramMessenger
from bots.wechat.api import api_from_settings
from bots.wechat.qrcodes import SceneCodes
from bots.wechat.send import Template, WeChatMessenger
from core.chat.conversation import Conversation
from core.chat.routes import build_routes
from core.clock import SystemClock
from core.domain.certificate import CertificateSnapshot
from core.domain.codes import Channel
from core.ports import Charts, Clock, Messenger, Sheet, SheetFormat
from locales import translator
from scheduler.runner import Jobs
from storage import migrate
from storage.database import Database
from storage.types import cipher

Close = Callable[[], Awaitable[None]]


@dataclass
class Services:
    """Everything a process of stvs runs on. Its owner closes it (``close``)."""

    settings: Settings
    database: Database
    clock: Clock
    conversation: Conversation
    ops: Ops  # metrics, the turn observer, the dispatcher's claims (bots.ops)
    media: MediaStore  # files served at /media/<token>
    messengers: dict[Channel, Messenger] = field(default_factory=dict)
    telegram_bot: Bot | None = None  # the webhook's client and the Telegram messenger's
    telegram_links: TelegramLinks | None = None
    scene_codes: SceneCodes | None = None  # the WeChat account's parametric QR codes, at /wechat/qr/
    closers: list[Close] = field(default_factory=list)  # the platform clients bootstrap opened

    def jobs(self) -> Jobs:
        """Every scheduled job on these services: sends counted (bots.ops), paced as the settings say.
        Made when the jobs start, so that it sends through the messengers registered by then."""
        return Jobs(
            uows=self.database.uow,
            clock=self.clock,
            messengers=self.ops.counted(self.messengers),
            translators=translator,
            policy=self.conversation.policy,
            paces=self.settings.paces(),
            claims=self.ops.claims,
            stop_within_s=self.settings.shutdown_timeout_s,
        )

    async def close(self) -> None:
        """The platform clients' sessions, then the database."""
        for close in self.closers:
            await close()
        await self.database.dispose()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    messengers: Mapping[Channel, Messenger] | None = None,
) -> Services:
    """``database`` None: the one the settings name (``open_database``). ``messengers`` None: each
    channel the settings turn on, with its platform client; a mapping (a command that sends nothing
    passes ``{}``, a test its fakes) is used as it is, and no platform client is made."""
    database = database or open_database(settings)
    clock = clock or SystemClock()
    telegram_links = TelegramLinks(settings.telegram_bot_username) if settings.telegram_token else None
    links = DeepLinks(telegram_links)  # the WeChat codes join when the account's API is opened
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
        charts=charts(),
    )
    services = Services(
        settings,
        database,
        clock,
        conversation,
        ops,
        MediaStore(database.uow, clock),
        dict(messengers or {}),
        telegram_links=telegram_links,
    )
    if messengers is None:
        _open_channels(services)
    return services


def _open_channels(services: Services) -> None:
    settings = services.settings
    if settings.telegram_token:
        bot = telegram_bot(settings)
        services.telegram_bot = bot
        services.messengers[Channel.TELEGRAM] = TelegramMessenger(bot)
        services.closers.append(bot.session.close)
    if settings.wechat_app_id and settings.wechat_app_secret:
        wechat = wechat_messenger(settings, services.database, services.clock)
        services.messengers[Channel.WECHAT] = wechat
        services.closers.append(wechat.close)
        if settings.public_url:
            codes = SceneCodes(
                wechat.api,
                services.database.uow,
                services.clock,
                settings.wechat_app_secret,
                settings.public_url,
            )
            services.scene_codes = codes
            if isinstance(services.conversation.links, DeepLinks):
                services.conversation.links.wechat = codes


def open_database(settings: Settings) -> Database:
    """The database the settings name (a SQLite file in data_dir by default), ready for personal data:
    the one place the data key is configured (phone and ID numbers are encrypted at rest). A database
    made elsewhere (tests) comes with the key its maker configured. The caller disposes it."""
    cipher.configure(*settings.data_keys())
    return Database(settings.resolved_database_url)


async def upgrade_database(settings: Settings) -> str | None:
    """Alembic to head; returns the revision the database is now at."""
    url = settings.resolved_database_url
    await migrate.upgrade(url)
    return await migrate.current(url)


def telegram_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base, is_local=True))
    return Bot(settings.telegram_token, session=session)


def wechat_messenger(settings: Settings, database: Database, clock: Clock) -> WeChatMessenger:
    """Notices to WeChat users: the account's API (its token shared through the database) and the
    template message for notices outside the customer-service window."""
    template = Template.parse(
        settings.wechat_template_notice, settings.wechat_template_fields, settings.timezone
    )
    api = api_from_settings(settings, database.uow, clock)
    return WeChatMessenger(api, database.uow, clock, translator, template)


def clock() -> Clock:
    return SystemClock()


def charts() -> Charts:
    """Statistics charts as PNG (matplotlib, with a CJK font from a package, registered here once)."""
    from bots.charts import PngCharts  # matplotlib loads in about a second: only where charts are drawn

    return PngCharts()


class RenderedDocuments:
    """core.ports.Documents: certificates as PDF (reportlab, with its built-in CJK font), exports as
    XLSX or CSV (bots.spreadsheets)."""

    def certificate(self, snapshot: CertificateSnapshot, language: str) -> bytes:
        return render_certificate(snapshot, translator(language))

    def spreadsheet(self, sheet: Sheet, form: SheetFormat) -> bytes:
        return spreadsheets.render(sheet, form)

    def workbook(self, sheets: Sequence[Sheet]) -> bytes:
        return spreadsheets.workbook(sheets)
