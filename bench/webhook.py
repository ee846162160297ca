"""Webhook throughput and latency: the real app (SQLite, real aiogram client → local fake Bot API)
against a bare aiogram echo bot on the same fake, as the ceiling. Prints figures; asserts nothing.

    python -m bench.webhook [--updates 600] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Dispatcher, Router
from aiogram.types import Message, Update
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.app import build_app, build_services
from bots.settings import Settings
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates


def workload(n: int, activity_id: int) -> list[dict[str, Any]]:
    """A realistic mix per user: start, browse, open a card, sign up, send a location."""
    updates = TelegramUpdates(first_update_id=1)
    out: list[dict[str, Any]] = []
    user = 0
    while len(out) < n:
        user += 1
        person = Person(id=7_000_000_000 + user, first_name="bench")
        out += [
            updates.command("start", person=person),
            updates.callback("find.l:all:0", person=person),
            updates.callback(f"a:{activity_id}", person=person),
            updates.callback(f"a.s:{activity_id}", person=person),
            updates.callback("find.near", person=person),
            updates.location(32.05, 118.78, person=person),
        ]
    return out[:n]


async def load(url: str, updates: list[dict[str, Any]], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for update in updates:
        queue.put_nowait(update)

    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while not queue.empty():
                update = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, json=update) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:>10}: {rate:8.1f} updates/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms")
    return rate


async def echo_app(api: FakeTelegramAPI) -> web.Application:
    bot = api.make_bot()
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok")

    @router.callback_query()
    async def press(query: Any) -> None:
        await query.answer()
        await bot.send_message(query.from_user.id, query.data or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)

    async def webhook(request: web.Request) -> web.Response:
        update = Update.model_validate(await request.json(), context={"bot": bot})
        await dispatcher.feed_update(bot, update)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/telegram/webhook", webhook)
    return app


async def main(n: int, concurrency: int) -> None:
    async with FakeTelegramAPI() as api:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp), telegram_token=TEST_BOT_TOKEN, telegram_api_base=api.base_url
            )
            services = build_services(settings)
            await services.database.create_schema()
            async with services.database.uow() as uow:
                clock = services.clock
                org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
                admin = await make_admin(uow, clock)
                activity = await make_activity(
                    uow, clock, admin, org.id, capacity=100_000, latitude=32.06, longitude=118.78
                )
                await uow.commit()
            updates = workload(n, activity.id)
            app_server = TestServer(build_app(services, run_scheduler=False))
            await app_server.start_server()
            echo_server = TestServer(await echo_app(api))
            await echo_server.start_server()
            try:
                await load(
                    str(echo_server.make_url("/telegram/webhook")), updates[:50], concurrency
                )  # warm-up
                bare = report(
                    "bare echo",
                    *await load(str(echo_server.make_url("/telegram/webhook")), updates, concurrency),
                )
                ours = report(
                    "stvs-bot",
                    *await load(str(app_server.make_url("/telegram/webhook")), updates, concurrency),
                )
                print(f"     ratio: {ours / bare:.2f} of the bare bot's throughput (goal ≥ 0.5)")
                half = max(1, concurrency // 4)
                report(
                    f"c={half}",
                    *await load(
                        str(app_server.make_url("/telegram/webhook")), workload(n, activity.id), half
                    ),
                )
            finally:
                await app_server.close()
                await echo_server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.concurrency))
