"""The no-show loop's jobs (3-6.1.3.3): places held past their deadline for an answer go to the next on
the waitlist, and activities short of volunteers near the start offer their staff a call. Each run is
one transaction; a rerun finds nothing left to do and queues nothing twice (the notices' keys)."""

from __future__ import annotations

import logging

from core.policy import Policy
from core.ports import Clock, UnitOfWorkFactory
from core.services.presence import alert_low_turnout, release_unanswered

log = logging.getLogger(__name__)


async def release_unanswered_places(uows: UnitOfWorkFactory, clock: Clock) -> int:
    async with uows() as uow:
        released = await release_unanswered(uow, clock)
        await uow.commit()
    if released:
        log.info("%d places held past their answer deadline went to the waitlist", len(released))
    return len(released)


async def offer_calls_for_low_turnout(uows: UnitOfWorkFactory, clock: Clock, policy: Policy) -> int:
    async with uows() as uow:
        told = await alert_low_turnout(uow, clock, policy)
        await uow.commit()
    return told
