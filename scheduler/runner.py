"""The jobs of scheduler/jobs.py as a process runs them (``stvs serve`` inside the web application,
``stvs scheduler`` alone): started inside the running loop (PITFALLS: APScheduler 3.11), and stopped so
that nothing new is sent and what this process claimed but did not send is due again at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.chat.turn import Translators
from core.domain.codes import Channel
from core.policy import Policy
from core.ports import Clock, Messenger, UnitOfWorkFactory
from scheduler.dispatcher import Claims, Pace, Pacer
from scheduler.jobs import register_jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jobs:
    """What every job runs on; the dispatcher's ticks are tracked by ``claims``, so that a stop can
    wait for them and release what they claimed."""

    uows: UnitOfWorkFactory
    clock: Clock
    messengers: Mapping[Channel, Messenger]
    translators: Translators
    policy: Policy
    paces: Mapping[Channel, Pace]
    claims: Claims
    stop_within_s: float  # how long a stop waits for the sends under way

    @asynccontextmanager
    async def running(self) -> AsyncIterator[AsyncIOScheduler]:
        scheduler = self.start()
        try:
            yield scheduler
        finally:
            await self.stop(scheduler)

    def start(self) -> AsyncIOScheduler:
        """Every job, started; call inside the running loop."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        register_jobs(
            scheduler,
            uows=self.uows,
            clock=self.clock,
            messengers=self.messengers,
            translators=self.translators,
            policy=self.policy,
            pacer=Pacer(self.clock, self.paces, sleep_until=self._sleep_until),
            claims=self.claims,
        )
        scheduler.start()
        return scheduler

    async def stop(self, scheduler: AsyncIOScheduler) -> int:
        """No new sends; those under way get ``stop_within_s`` to end, and what this process claimed
        but did not send is due again at once, for another instance or the restart. The number of
        notices released."""
        claims = self.claims
        claims.stop()
        if claims.ticks:
            await asyncio.wait(set(claims.ticks), timeout=self.stop_within_s)
        claims.cancel()  # a tick that has not ended by then ends where it is
        if claims.ticks:
            await asyncio.wait(set(claims.ticks), timeout=1)
        scheduler.shutdown(wait=False)
        released = await claims.release(self.uows, self.clock)
        if released:
            log.info("released %d claimed notices", released)
        return released

    async def _sleep_until(self, until: datetime) -> None:
        """A send's wait for its turn, cut short by a stop: the tick then ends and marks what it sent."""
        delay = (until - self.clock.now()).total_seconds()
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.claims.stopped.wait(), delay)
