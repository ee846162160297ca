"""WeChat passive reply latency at a steady request rate (open loop: requests start on schedule
whether or not earlier ones have finished), on the embedded SQLite default, in safe (AES) mode.
WeChat's hard limit is 5 s; the goal is p99 under 100 ms at 200 requests/s. Prints figures.

    python -m bench.wechat [--rate 200] [--seconds 10] [--plaintext]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from bench.common import no_collector_pauses, register
from bots.app import build_app, tune_gc
from bots.bootstrap import bootstrap
from bots.settings import Settings
from core.domain.codes import Channel
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.wechat_messages import AES_KEY, APP_ID, TOKEN, Signer, WeChatMessages

USERS = 100  # distinct subscribers writing in turn
PORT = 18765


def openid(i: int) -> str:
    return f"oBench{i:06d}"


def _settings(tmp: str, plaintext: bool, database_url: str) -> Settings:
    return Settings(
        data_dir=Path(tmp),
        database_url=database_url,
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_aes_key="" if plaintext else AES_KEY,
        http_port=PORT,
    )


def _serve(tmp: str, plaintext: bool, database_url: str, ready: Any) -> None:
    """The server, in a process of its own as in production: the load generator does not share its CPU."""

    async def run() -> None:
        services = bootstrap(_settings(tmp, plaintext, database_url))
        runner = web.AppRunner(build_app(services, run_scheduler=False), access_log=None)
        await runner.setup()
        tune_gc()
        await web.TCPSite(runner, "127.0.0.1", PORT).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(run())


async def _seed(tmp: str, plaintext: bool, database_url: str) -> int:
    services = bootstrap(_settings(tmp, plaintext, database_url))
    await services.database.create_schema()
    async with services.database.uow() as uow:
        org = await make_org(uow, services.clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, services.clock)
        activity = await make_activity(uow, services.clock, admin, org.id, capacity=100_000)
        for i in range(USERS):  # registered volunteers, as most who write in will be
            await register(uow, services.clock, Channel.WECHAT, openid(i), i)
        await uow.commit()
    await services.database.dispose()
    assert activity.id is not None
    return activity.id


async def main(rate: int, seconds: int, plaintext: bool, database_url: str = "") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        activity_id = await _seed(tmp, plaintext, database_url)
        ready = multiprocessing.Event()
        server = multiprocessing.Process(
            target=_serve, args=(tmp, plaintext, database_url, ready), daemon=True
        )
        server.start()
        try:
            if not ready.wait(60):
                raise RuntimeError("the server did not start")
            await _load(rate, seconds, plaintext, activity_id, "postgresql" if database_url else "sqlite")
        finally:
            server.terminate()
            server.join(10)


async def _load(rate: int, seconds: int, plaintext: bool, activity_id: int, engine: str) -> None:
    clock = FakeClock(datetime.now(UTC))
    messages = WeChatMessages(clock)
    signer = Signer(clock, crypto=None if plaintext else WeChatCrypto(TOKEN, AES_KEY, APP_ID))
    texts = ["/start", "/find", f"/start act-{activity_id}", "/my", "/help"]
    url = f"http://127.0.0.1:{PORT}/wechat"
    latencies: list[float] = []
    failures = 0

    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            nonlocal failures
            user = openid(i % USERS)
            clock.set(datetime.now(UTC))
            query, body = signer.wrap(messages.text(user, texts[i % len(texts)]), openid=user)
            started = time.perf_counter()
            async with session.post(url, params=query, data=body) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

        for i in range(USERS):  # first contact of each user, not measured
            await one(i)
        latencies.clear()
        tasks = []
        with no_collector_pauses():
            began = time.perf_counter()
            for i in range(rate * seconds):
                delay = began + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=100)
    mode = "plaintext" if plaintext else "safe (AES)"
    print(f"wechat passive reply, {mode}, {engine}: {len(latencies)} requests at {rate}/s for {seconds} s")
    print(
        f"  achieved {len(latencies) / elapsed:.0f}/s  p50 {q[49] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms  "
        f"max {max(latencies) * 1000:.1f} ms  non-200: {failures}  (goal: p99 < 100 ms at 200/s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--plaintext", action="store_true")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database; default: SQLite")
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds, args.plaintext, args.database_url))
