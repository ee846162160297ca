"""The reminders job (3-6.2.3), every 5 minutes: reminders fallen due are queued, the day before and a few
hours before the start, each once under its own key, so a rerun, a restart or a second instance queues
nothing twice and a run after a pause catches up (never after the start). One transaction per run."""

from __future__ import annotations

import logging

from core.policy import Policy
from core.ports import Clock, UnitOfWorkFactory
from core.services.reminders import queue_reminders

log = logging.getLogger(__name__)


async def remind_volunteers(uows: UnitOfWorkFactory, clock: Clock, policy: Policy) -> int:
    async with uows() as uow:
        queued = await queue_reminders(uow, clock, policy)
        await uow.commit()
    if queued:
        log.info("queued %d activity reminders", queued)
    return queued
