"""The nightly star review (4-6.2.1): volunteers hear of a star about to lapse, and of one lapsed. One
transaction; the notices' keys make a second instance or a rerun tell no one twice."""

from __future__ import annotations

import logging

from core.policy import Policy
from core.ports import Clock, UnitOfWorkFactory
from core.services.stars import review_stars

log = logging.getLogger(__name__)


async def review_star_levels(uows: UnitOfWorkFactory, clock: Clock, policy: Policy) -> int:
    async with uows() as uow:
        told = await review_stars(uow, clock, policy)
        await uow.commit()
    if told:
        log.info("star review: %d volunteers told", told)
    return told
