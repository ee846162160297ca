"""A broadcast through the outbox at Telegram's cap: notices go through the real aiogram client to the
fake Bot API, run in a process of its own so that its work does not slow the sender, and enforcing
a rate (tests.fakes.telegram_api.RateLimit: a token bucket overall, one send a second to one chat,
429 with retry_after over the limit) while it answers some sends 429 anyway and refuses some chats
403 (blocked). The dispatcher runs as the scheduler runs it: a tick every DISPATCH_EVERY_S, one at a
time. Prints, for each limit: the rate reached ÷ the limit (over the time the server let it send:
its pauses left out), lost (neither delivered nor refused 403), duplicated (delivered twice) and
early (a send started after a 429 told the sender to wait, before the wait was over); then the
sender's own ceiling with no limit. Asserts nothing.

    python -m bench.broadcast [--rates 30,300] [--seconds 20,10] [--database-url postgresql+asyncpg://…]

``--database-url`` may be given more than once (a scratch PostgreSQL database: its tables are dropped
and made anew); without it, a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.common import no_collector_pauses
from bots.telegram.adapter import TelegramMessenger
from core.chat.messages import Reply
from core.clock import SystemClock
from core.domain.codes import Channel
from core.domain.dialog import Notice
from core.ports import DeliveryFailed
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from scheduler.jobs import DISPATCH_EVERY_S
from storage.database import Database
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI, RateLimit

FIRST_CHAT = 8_000_000_001
PREFIX = "bench:"
REPEATED_SHARE = 0.1  # this share of the chats get two notices: one a second to a chat is paced too
BLOCKED_EVERY = 50  # every n-th chat has blocked the bot (403)
INJECT_429_AFTER_S = 5  # a send every this many seconds' worth at the limit is answered 429 anyway
INJECT_RETRY_AFTER = 1
NUMBER = re.compile(r"#(\d+)\b")


# ---- the fake Bot API in a process of its own --------------------------------------------------


async def serve_fake(per_second: float, inject_every: int) -> None:
    """Prints the server's address, then serves until stdin closes."""
    limit = RateLimit(
        per_second=per_second, inject_429_every=inject_every, inject_retry_after=INJECT_RETRY_AFTER
    )
    async with FakeTelegramAPI(rate_limit=limit) as api:
        for line in sys.stdin.readline().split(","):  # the blocked chats, one line
            if line.strip():
                api.block_chat(int(line))
        print(api.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@dataclass
class FakeProcess:
    process: asyncio.subprocess.Process
    base_url: str

    @classmethod
    async def start(cls, per_second: float, inject_every: int, blocked: Sequence[int]) -> FakeProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.broadcast",
            "--serve-fake",
            str(per_second),
            "--inject-429-every",
            str(inject_every),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write((",".join(map(str, blocked)) + "\n").encode())
        await process.stdin.drain()
        base_url = (await process.stdout.readline()).decode().strip()
        return cls(process, base_url)

    async def reset(self) -> None:
        async with aiohttp.ClientSession() as session, session.post(f"{self.base_url}/_fake/reset") as r:
            await r.read()

    async def arrivals(self) -> tuple[list[list[object]], list[list[float]]]:
        async with aiohttp.ClientSession() as session, session.get(f"{self.base_url}/_fake/arrivals") as r:
            data = json.loads(await r.text())
        return data["arrivals"], data["pauses"]

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


# ---- the sender ---------------------------------------------------------------------------------


class Watched:
    """The Telegram messenger, noting when each send started and when a 429 told it to wait."""

    def __init__(self, inner: TelegramMessenger) -> None:
        self.inner = inner
        self.starts: list[float] = []
        self.told: list[tuple[float, float]] = []  # (when the 429 came back, retry_after)

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.starts.append(time.monotonic())
        try:
            await self.inner.send(external_id, replies)
        except DeliveryFailed as error:
            if error.retry_after:
                self.told.append((time.monotonic(), error.retry_after))
            raise

    def early(self) -> int:
        return sum(1 for s in self.starts if any(t <= s < t + wait for t, wait in self.told))


def chat_of(i: int, n: int) -> int:
    chats = n - int(n * REPEATED_SHARE)
    return FIRST_CHAT + i % chats


async def _queue(db: Database, clock: SystemClock, n: int) -> None:
    """n notices to users with a Telegram identity, one statement as a call is; each names its number."""
    from core.services.users import ensure_user

    users: dict[int, int] = {}
    async with db.uow() as uow:
        for i in range(n):
            chat = chat_of(i, n)
            if chat not in users:
                users[chat] = (await ensure_user(uow, clock, Channel.TELEGRAM, str(chat))).id or 0
        await uow.commit()
    async with db.uow() as uow:
        for i in range(n):
            template = Notice(
                key="",
                user_id=0,
                message_key="notice.recruitment",
                created_at=clock.now(),
                due_at=clock.now(),
                params={"org": "压测", "title": f"#{i}", "start": "-", "place": "-"},
            )
            await uow.notices.add_for_each(template, [(f"{PREFIX}{i}", users[chat_of(i, n)])])
        await uow.commit()


async def _fresh(url: str, tmp: Path, name: str) -> Database:
    if not url:
        db = Database(f"sqlite+aiosqlite:///{tmp / name}.sqlite3")
    else:
        db = Database(url)
        async with db.engine.begin() as connection:
            from storage.tables import metadata

            await connection.run_sync(metadata.drop_all)
    await db.create_schema()
    return db


@dataclass
class Figures:
    n: int
    limit: float | None
    elapsed: float  # first tick to the last notice marked
    accepted: int  # let through by the server's rate limit (delivered, or refused 403)
    window: float  # first to last send let through, its pauses left out
    paused: float
    lost: int
    duplicated: int
    early: int
    in_flight: int  # arrived while a pause ran, sent before the 429 reached the sender
    told_429: int

    @property
    def rate(self) -> float:
        return (self.accepted - 1) / self.window if self.window > 0 else 0.0


def blocked_chats(n: int) -> set[int]:
    return set(sorted({chat_of(i, n) for i in range(n)})[::BLOCKED_EVERY])


async def run_one(url: str, tmp: Path, limit: float | None, n: int, fake: FakeProcess) -> Figures:
    db = await _fresh(url, tmp, f"bench-{limit or 'uncapped'}")
    clock = SystemClock()
    await _queue(db, clock, n)
    blocked = blocked_chats(n)
    await fake.reset()
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url, is_local=True))
    bot = Bot(TEST_BOT_TOKEN, session=session)
    watched = Watched(TelegramMessenger(bot))
    pace = Pace(per_second=limit, chat_interval_s=1.0) if limit else Pace(1e9, 0)
    pacer = Pacer(clock, {Channel.TELEGRAM: pace})
    started = time.monotonic()
    with no_collector_pauses():
        while True:  # as the scheduler runs it: a tick every DISPATCH_EVERY_S, one at a time
            await dispatch_due(db.uow, clock, {Channel.TELEGRAM: watched}, translator, pacer=pacer)
            async with db.uow() as uow:
                if not (await uow.notices.unsent_with_prefix(PREFIX)).pending:
                    break
            since = time.monotonic() - started
            await asyncio.sleep(DISPATCH_EVERY_S - since % DISPATCH_EVERY_S)
    elapsed = time.monotonic() - started
    await bot.session.close()
    arrivals, pauses = await fake.arrivals()
    async with db.uow() as uow:
        unsent = await uow.notices.unsent_with_prefix(PREFIX)
    await db.dispose()

    delivered: Counter[int] = Counter()
    let_through = []
    in_flight = 0
    for at, _chat, text, status, early in arrivals:
        assert isinstance(at, float) and isinstance(text, str)
        if status != 429:
            let_through.append(at)
        if status == 200 and (number := NUMBER.search(text)):
            delivered[int(number.group(1))] += 1
        in_flight += bool(early)
    refused = {i for i in range(n) if chat_of(i, n) in blocked}
    lost = sum(1 for i in range(n) if not delivered[i] and i not in refused) + unsent.pending
    first, last = (min(let_through), max(let_through)) if let_through else (0.0, 0.0)
    paused = sum(max(0.0, min(end, last) - max(start, first)) for start, end in pauses)
    return Figures(
        n=n,
        limit=limit,
        elapsed=elapsed,
        accepted=len(let_through),
        window=last - first - paused,
        paused=paused,
        lost=lost,
        duplicated=sum(1 for c in delivered.values() if c > 1),
        early=watched.early(),
        in_flight=in_flight - watched.early(),
        told_429=len(watched.told),
    )


def report(backend: str, f: Figures) -> None:
    if f.limit is None:
        print(
            f"{backend}: no limit: {f.n} notices in {f.elapsed:.1f} s, {f.rate:.0f} sends/s at the server"
            f" = the sender's ceiling ({f.rate / 30:.1f} × 30/s); lost {f.lost}, duplicated {f.duplicated}"
        )
        return
    print(
        f"{backend}: limit {f.limit:.0f}/s: {f.n} notices, {f.accepted} sends let through in {f.window:.1f} s"
        f" (+{f.paused:.1f} s paused by {f.told_429} × 429): {f.rate:.1f}/s = {f.rate / f.limit:.3f} of the"
        f" limit; lost {f.lost}, duplicated {f.duplicated}, early {f.early}"
        f" (in flight when a 429 came: {f.in_flight})"
    )


async def run(urls: Sequence[str], rates: Sequence[float], seconds: Sequence[float], uncapped: int) -> None:
    # One server per limit, started together (each takes a while to import the client library).
    runs: list[tuple[float | None, int]] = [(r, int(r * s)) for r, s in zip(rates, seconds, strict=True)]
    runs.append((None, uncapped))
    fakes = await asyncio.gather(
        *(
            FakeProcess.start(
                limit or 1e9, int(limit * INJECT_429_AFTER_S) if limit else 0, sorted(blocked_chats(n))
            )
            for limit, n in runs
        )
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for url in urls:
                backend = "postgresql" if url else "sqlite"
                for (limit, n), fake in zip(runs, fakes, strict=True):
                    report(backend, await run_one(url, Path(tmp), limit, n, fake))
    finally:
        await asyncio.gather(*(fake.stop() for fake in fakes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="30,300", help="limits to send at, a second (comma-separated)")
    parser.add_argument("--seconds", default="20,10", help="notices enough for this long at each rate")
    parser.add_argument("--uncapped", type=int, default=3000, help="notices sent with no limit")
    parser.add_argument(
        "--database-url", action="append", help="a scratch PostgreSQL database (dropped and made anew)"
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite as well as the --database-url ones")
    parser.add_argument("--serve-fake", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--inject-429-every", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake is not None:
        asyncio.run(serve_fake(args.serve_fake, args.inject_429_every))
        return
    logging.getLogger("scheduler.dispatcher").setLevel(logging.ERROR)  # each 403 and 429 is logged
    urls = list(args.database_url or [])
    if not urls or args.sqlite:
        urls.insert(0, "")
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    seconds = [float(s) for s in args.seconds.split(",") if s.strip()]
    asyncio.run(run(urls, rates, seconds, args.uncapped))


if __name__ == "__main__":
    main()
