"""Webhook throughput and latency: the real app (SQLite, real aiogram client → local fake Bot API)
against a bare aiogram echo bot on the same fake, as the ceiling. Prints figures; asserts nothing.
On Linux it also prints each bot's CPU time per update, which a busy shared machine disturbs less
than throughput; bench/webhook_instructions.py counts the instructions instead, which it does not
disturb at all.

    python -m bench.webhook [--updates 600] [--concurrency 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update
from aiohttp import web

from bench.common import no_collector_pauses, register
from bots.app import build_app, tune_gc
from bots.bootstrap import bootstrap
from bots.settings import Settings
from core.domain.codes import Channel
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates

FIRST_PERSON = 7_000_000_001


def users_for(n: int) -> int:
    return -(-n // 6)


def workload(n: int, activity_id: int, first_update_id: int = 1) -> list[dict[str, Any]]:
    """A realistic mix per registered volunteer: start, browse, open a card, sign up (a real one:
    each run signs up for an activity of its own), send a location. Each run needs its own update
    ids: a repeated id is a redelivery, which the bot rightly skips."""
    updates = TelegramUpdates(first_update_id=first_update_id)
    out: list[dict[str, Any]] = []
    user = 0
    while len(out) < n:
        user += 1
        person = Person(id=FIRST_PERSON + user - 1, first_name="bench")
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
    with no_collector_pauses():
        return await _load(url, updates, concurrency)


async def _load(url: str, updates: list[dict[str, Any]], concurrency: int) -> tuple[float, list[float]]:
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


async def steady(url: str, updates: list[dict[str, Any]], rate: int) -> tuple[float, list[float]]:
    """Open loop: each update is sent on schedule, whether or not the earlier ones are answered."""
    with no_collector_pauses():
        return await _steady(url, updates, rate)


async def _steady(url: str, updates: list[dict[str, Any]], rate: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def one(update: dict[str, Any]) -> None:
            started = time.perf_counter()
            async with session.post(url, json=update) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        tasks = []
        for i, update in enumerate(updates):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(update)))
        await asyncio.gather(*tasks)
        return time.perf_counter() - began, latencies


def cpu_seconds(pid: int | None) -> float | None:
    """A process's CPU time, user and system, from /proc (Linux); None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    name: str, url: str, updates: list[dict[str, Any]], concurrency: int, pid: int | None
) -> tuple[float, float | None]:
    """Updates per second, and the server's CPU milliseconds per update."""
    before = cpu_seconds(pid)
    rate = report(name, *await load(url, updates, concurrency))
    after = cpu_seconds(pid)
    return rate, None if before is None or after is None else (after - before) * 1000 / len(updates)


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:>10}: {rate:8.1f} updates/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms")
    return rate


def _bot(api_base: str) -> Bot:
    return Bot(
        TEST_BOT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base, is_local=True))
    )


async def echo_app(api_base: str) -> web.Application:
    bot = _bot(api_base)
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


PORTS = {"echo": 18766, "stvs": 18767}


def _serve(kind: str, tmp: str, api_base: str, ready: Callable[[], object]) -> None:
    """Each bot in a process of its own, as deployed; the load and the fake Bot API stay here. It
    stops cleanly on SIGTERM (so that a profiler around it writes its figures)."""

    async def run() -> None:
        if kind == "echo":
            app = await echo_app(api_base)
        else:
            settings = Settings(data_dir=Path(tmp), telegram_token=TEST_BOT_TOKEN, telegram_api_base=api_base)
            app = build_app(bootstrap(settings), run_scheduler=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tune_gc()
        await web.TCPSite(runner, "127.0.0.1", PORTS[kind]).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        ready()
        await stop.wait()
        await runner.cleanup()

    asyncio.run(run())


async def _seed(tmp: str, users: int, activities: int) -> list[int]:
    """An org, ``activities`` published activities with room for everyone, and ``users`` registered
    volunteers with the Telegram ids the workload uses."""
    services = bootstrap(Settings(data_dir=Path(tmp)))
    await services.database.create_schema()
    clock = services.clock
    async with services.database.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        made = [
            await make_activity(uow, clock, admin, org.id, capacity=100_000, latitude=32.06, longitude=118.78)
            for _ in range(activities)
        ]
        for i in range(users):
            await register(uow, clock, Channel.TELEGRAM, str(FIRST_PERSON + i), i)
        await uow.commit()
    await services.database.dispose()
    return [a.id for a in made if a.id is not None]


async def main(n: int, concurrency: int, rounds: int = 3) -> None:
    async with FakeTelegramAPI() as api:
        with tempfile.TemporaryDirectory() as tmp:
            activity_ids = await _seed(tmp, users_for(n), 2 * rounds + 3)
            servers = []
            for kind in PORTS:
                ready = multiprocessing.Event()
                process = multiprocessing.Process(
                    target=_serve, args=(kind, tmp, api.base_url, ready.set), daemon=True
                )
                process.start()
                servers.append(process)
                if not await asyncio.to_thread(ready.wait, 60):
                    raise RuntimeError(f"the {kind} server did not start")
            try:
                echo_url = f"http://127.0.0.1:{PORTS['echo']}/telegram/webhook"
                app_url = f"http://127.0.0.1:{PORTS['stvs']}/telegram/webhook"
                runs = iter(activity_ids)
                for url in (echo_url, app_url):  # first contact of every user, not measured
                    await load(url, workload(n, next(runs), 1), concurrency)
                # Rounds alternate between the two bots, so that a change in the shared machine's load
                # falls on both; the ratio is the median of the rounds' ratios.
                ratios, rates, cpu_ratios = [], [], []
                for round_ in range(rounds):
                    first_id = (round_ + 1) * 10**6
                    bare, bare_cpu = await measured(
                        "bare echo", echo_url, workload(n, next(runs), first_id), concurrency, servers[0].pid
                    )
                    ours, our_cpu = await measured(
                        "stvs-bot",
                        app_url,
                        workload(n, next(runs), first_id + 5 * 10**5),
                        concurrency,
                        servers[1].pid,
                    )
                    ratios.append(ours / bare)
                    rates.append(ours)
                    if bare_cpu and our_cpu:
                        print(f"       cpu: echo {bare_cpu:.2f} ms/update, stvs-bot {our_cpu:.2f} ms/update")
                        cpu_ratios.append(bare_cpu / our_cpu)
                print(
                    f"     ratio: {statistics.median(ratios):.2f} of the bare bot's throughput, median of "
                    f"{rounds} rounds ({min(ratios):.2f}–{max(ratios):.2f}; goal ≥ 0.5)"
                )
                if cpu_ratios:
                    print(
                        f" cpu ratio: {statistics.median(cpu_ratios):.2f} of the bare bot's updates per CPU "
                        f"second ({min(cpu_ratios):.2f}–{max(cpu_ratios):.2f})"
                    )
                rate = max(1, int(statistics.median(rates) / 2))
                steady_ids = (rounds + 1) * 10**6
                report(f"at {rate}/s", *await steady(app_url, workload(n, next(runs), steady_ids), rate))
            finally:
                for process in servers:
                    process.terminate()
                    process.join(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "DATA_DIR", "API_BASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # one bot alone, as bench/webhook_instructions.py runs it under callgrind
        _serve(*args.serve, ready=lambda: print("ready", flush=True))
    else:
        asyncio.run(main(args.updates, args.concurrency, args.rounds))
