"""The activity record job (3-6.3), daily: remind the organizer before the 7-day deadline, and tell the org
and the org above it when the record is overdue. One transaction per run; each notice has a unique key,
so a second instance or a retried run queues nothing twice."""

from __future__ import annotations

import logging

from core.ports import Clock, UnitOfWorkFactory
from core.services.reports import remind_reports

log = logging.getLogger(__name__)


async def remind_activity_reports(uows: UnitOfWorkFactory, clock: Clock) -> int:
    async with uows() as uow:
        queued = await remind_reports(uow, clock)
        await uow.commit()
    if queued:
        log.info("queued %d activity record reminders", queued)
    return queued
