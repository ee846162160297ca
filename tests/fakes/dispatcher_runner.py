"""The outbox dispatcher alone in a process of its own, for the crash tests: it sends through a Bot API
(the fake one) with a plain HTTP client, ticks as the scheduler does, and runs until it is killed.

    python -m tests.fakes.dispatcher_runner --database-url URL --bot-api BASE --token T [--limit 100] [--lease-s 1]

It prints "ready" once imported; with ``--wait`` it then waits for a line on stdin before it opens the
database (a test starts it beforehand, so that its start-up does not count, and lets it go when the
other one is dead).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import timedelta

import aiohttp

from core.chat.messages import Reply, Say
from core.clock import SystemClock
from core.domain.codes import Channel
from core.ports import DeliveryFailed
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from storage.database import Database

IDLE_S = 0.05  # between ticks that found nothing due


class BotApiMessenger:
    """sendMessage as JSON to a Bot API: a 429 and a 403 become what the dispatcher expects."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.session, self.url = session, f"{base_url.rstrip('/')}/bot{token}/sendMessage"

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        for reply in replies:
            assert isinstance(reply, Say)
            async with self.session.post(
                self.url, json={"chat_id": int(external_id), "text": reply.text}
            ) as r:
                body = await r.json()
            if body.get("ok"):
                continue
            if r.status == 429:
                raise DeliveryFailed("rate limited", retry_after=body["parameters"]["retry_after"])
            raise DeliveryFailed(str(body.get("description")), permanent=r.status == 403)


async def run(args: argparse.Namespace) -> None:
    print("ready", flush=True)
    if args.wait:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    database = Database(args.database_url)
    clock = SystemClock()
    pacer = Pacer(clock, {Channel.TELEGRAM: Pace(per_second=args.per_second, chat_interval_s=0)})
    async with aiohttp.ClientSession() as session:
        messengers = {Channel.TELEGRAM: BotApiMessenger(session, args.bot_api, args.token)}
        while True:
            result = await dispatch_due(
                database.uow,
                clock,
                messengers,
                translator,
                limit=args.limit,
                pacer=pacer,
                concurrency=args.concurrency,
                lease=timedelta(seconds=args.lease_s),
            )
            if not (result.sent or result.retried or result.failed):
                await asyncio.sleep(IDLE_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bot-api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--limit", type=int, default=100, help="notices claimed at a time")
    parser.add_argument("--lease-s", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--per-second", type=float, default=400)
    parser.add_argument("--wait", action="store_true", help="wait for a line on stdin before starting")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
