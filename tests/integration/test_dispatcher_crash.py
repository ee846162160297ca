"""The outbox under failure (ARCHITECTURE: the database is the source of truth): two dispatchers on one
PostgreSQL database send each notice exactly once between them; a dispatcher in a process of its own,
killed with SIGKILL mid-broadcast and started again, loses none, and repeats at most what it had
claimed. Deliveries are counted where they land: at the fake messenger, or at the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from core.chat.messages import Reply, Say
from core.domain.codes import Channel
from core.domain.dialog import Notice
from core.services.users import ensure_user
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from storage.database import Database
from tests.conftest import DATABASES
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI

REPO = Path(__file__).resolve().parents[2]
NOTICES = 1000
PEOPLE = 100  # ten notices each: the counts are per notice, not per person
PREFIX = "crash:"
NUMBER = re.compile(r"#(\d+)\b")
CLAIM = 100  # notices a dispatcher claims at a time


async def _queue(db: Database, clock: FakeClock) -> None:
    """NOTICES notices, each naming its number in its text, as a call queues them (one statement)."""
    async with db.uow() as uow:
        users = [
            (await ensure_user(uow, clock, Channel.TELEGRAM, str(9_100_000_000 + p))).id or 0
            for p in range(PEOPLE)
        ]
        for i in range(NOTICES):
            template = Notice(
                key="",
                user_id=0,
                message_key="notice.recruitment",
                due_at=clock.now(),
                created_at=clock.now(),
                params={"org": "南京市鼓楼区科技志愿服务队", "title": f"#{i}", "start": "-", "place": "-"},
            )
            await uow.notices.add_for_each(template, [(f"{PREFIX}{i}", users[i % PEOPLE])])
        await uow.commit()


async def _unsent(db: Database) -> int:
    async with db.uow() as uow:
        unsent = await uow.notices.unsent_with_prefix(PREFIX)
    assert unsent.failed == unsent.withdrawn == 0
    return unsent.pending


def _numbers(texts: Sequence[str]) -> Counter[int]:
    return Counter(int(m.group(1)) for t in texts if (m := NUMBER.search(t)))


class Counting:
    """A quick fake messenger: counts each notice it is given, by the number in its text."""

    def __init__(self, delivered: Counter[int]) -> None:
        self.delivered = delivered
        self.calls = 0

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.calls += 1
        await asyncio.sleep(0)  # a send lets others run, as a request does
        say = replies[0]
        assert isinstance(say, Say)
        self.delivered.update(_numbers([say.text]))


# Several dispatchers at once need PostgreSQL (SQLite is for one server process): on PostgreSQL only.
@pytest.mark.parametrize("db_url", [d for d in DATABASES if d == "postgresql"], indirect=True)
async def test_two_dispatchers_on_one_postgresql_database_send_each_notice_once(
    db: Database, db_url: str, clock: FakeClock
) -> None:
    assert db.dialect == "postgresql"
    await _queue(db, clock)
    delivered: Counter[int] = Counter()
    fast = Pace(per_second=1_000_000, chat_interval_s=0)

    async def dispatcher(messenger: Counting) -> None:
        other = Database(db_url)  # its own engine and connections, as another instance has
        try:
            while await _unsent(other):
                result = await dispatch_due(
                    other.uow,
                    clock,
                    {Channel.TELEGRAM: messenger},
                    translator,
                    pacer=Pacer(clock, {Channel.TELEGRAM: fast}),
                    limit=CLAIM // 4,
                )
                if not result.sent:
                    await asyncio.sleep(0.01)  # the rest is the other's: wait for it to mark them
        finally:
            await other.dispose()

    first, second = Counting(delivered), Counting(delivered)
    await asyncio.gather(dispatcher(first), dispatcher(second))
    assert set(delivered) == set(range(NOTICES))
    assert max(delivered.values()) == 1  # 0 duplicates
    assert first.calls + second.calls == NOTICES and first.calls and second.calls  # both took part
    assert await _unsent(db) == 0


# ---- a dispatcher process, killed and started again ---------------------------------------------


class Runner:
    """tests/fakes/dispatcher_runner.py in a process of its own, started waiting; ``go`` lets it run."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, db_url: str, bot_api: str) -> Runner:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.dispatcher_runner",
            "--database-url",
            db_url,
            "--bot-api",
            bot_api,
            "--token",
            TEST_BOT_TOKEN,
            "--limit",
            str(CLAIM),
            "--lease-s",
            "1",
            "--per-second",
            "400",
            "--wait",
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 120)).strip() == b"ready"
        return cls(process)

    async def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


async def _until(
    condition: Callable[[], Awaitable[bool]], what: str, runner: Runner, within: float = 60
) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if runner.process.returncode is not None:
            raise AssertionError(f"the dispatcher exited ({runner.process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {within} s")
        await asyncio.sleep(0.01)


async def test_a_dispatcher_killed_mid_broadcast_and_restarted_loses_none(
    db: Database, db_url: str, clock: FakeClock, fake_telegram: FakeTelegramAPI
) -> None:
    await _queue(db, clock)
    # Both started now; the second waits (it would start late otherwise: importing takes a while).
    first, second = await asyncio.gather(
        Runner.start(db_url, fake_telegram.base_url), Runner.start(db_url, fake_telegram.base_url)
    )
    try:

        def delivered() -> Counter[int]:
            return _numbers(fake_telegram.sent_texts())

        async def mid_broadcast() -> bool:
            return len(fake_telegram.sent_texts()) >= NOTICES // 3

        async def everyone() -> bool:
            return len(delivered()) == NOTICES

        async def all_marked() -> bool:
            return await _unsent(db) == 0

        await first.go()
        await _until(mid_broadcast, "a third of the notices sent", first)
        await first.kill()  # SIGKILL: no clean-up, no release of its claims
        before = sum(delivered().values())
        assert before < NOTICES, "the broadcast ended before the kill: nothing was tested"

        await second.go()
        await _until(everyone, "every notice delivered", second)
        await _until(all_marked, "every notice marked sent", second)
    finally:
        await asyncio.gather(first.kill(), second.kill())

    counts = delivered()
    assert set(counts) == set(range(NOTICES))  # 0 lost
    repeats = sum(counts.values()) - NOTICES
    assert repeats <= CLAIM  # at most what the killed one had claimed and not marked
