"""Attendance jobs (2-6.3 a, PIPL art. 28): close what volunteers forgot to check out of, and purge raw
check-in coordinates past their retention period. Each run is one transaction and idempotent: a
second instance or a retried run finds nothing left to do."""

from __future__ import annotations

import logging

from core.policy import Policy
from core.ports import Clock, UnitOfWorkFactory
from core.services.attendance import close_forgotten, purge_coordinates

log = logging.getLogger(__name__)


async def close_forgotten_checkouts(uows: UnitOfWorkFactory, clock: Clock, policy: Policy) -> int:
    async with uows() as uow:
        closed = await close_forgotten(uow, clock, policy)
        await uow.commit()
    if closed:
        log.info("closed %d attendances nobody checked out of", closed)
    return closed


async def purge_check_in_coordinates(uows: UnitOfWorkFactory, clock: Clock) -> int:
    async with uows() as uow:
        purged = await purge_coordinates(uow, clock)
        await uow.commit()
    return purged
