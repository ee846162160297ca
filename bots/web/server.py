"""The demo server of ``stvs demo``: the real aiohttp application with the outbox dispatcher and the
scheduled jobs, on the demo's adjustable clock, with the web playground mounted, on the loopback
address only. No chat platform is called: the demo runs without tokens even where they are set."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bots.app import build_app
from bots.bootstrap import Services, bootstrap
from bots.links import DeepLinks, PlaygroundLinks
from bots.settings import Settings
from bots.web.clock import DemoClock
from core.clock import SystemClock
from core.ports import Clock
from storage.database import Database

HOST = "127.0.0.1"
DEFAULT_PORT = 8080

# The demo never reaches a chat platform, whatever the environment holds.
_NO_PLATFORMS = {
    "telegram_token": "",
    "telegram_webhook_secret": "",
    "wechat_token": "",
    "wechat_app_id": "",
    "wechat_app_secret": "",
    "public_url": "",
}


@dataclass
class DemoServer:
    runner: web.AppRunner
    services: Services
    clock: DemoClock
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_demo(
    settings: Settings,
    database: Database | None = None,
    *,
    port: int | None = None,
    base_clock: Clock | None = None,
    run_scheduler: bool = True,
) -> DemoServer:
    """Serves until ``stop``, which closes ``database`` (None: the settings'). ``port`` None: 8080, or
    a free port if that is taken; 0: a free port. OSError when an asked-for port is taken."""
    clock = DemoClock(base_clock) if base_clock is not None else DemoClock(SystemClock())
    services = bootstrap(settings.model_copy(update=_NO_PLATFORMS), clock=clock, database=database)
    app = build_app(services, run_scheduler=run_scheduler, playground=True)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await _listen(runner, DEFAULT_PORT if port is None else port)
    except OSError:
        if port is not None:
            await runner.cleanup()
            raise
        await _listen(runner, 0)
    server = DemoServer(runner, services, clock, runner.addresses[0][1])
    if isinstance(services.conversation.links, DeepLinks):  # QR codes and links open the playground
        services.conversation.links.web = PlaygroundLinks(server.url)
    return server


async def _listen(runner: web.AppRunner, port: int) -> web.TCPSite:
    site = web.TCPSite(runner, HOST, port)
    try:
        await site.start()
    except OSError:
        await site.stop()  # registered with the runner before it failed to bind
        raise
    return site
