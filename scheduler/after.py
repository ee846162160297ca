"""The after-activity job (3-8.1.2, 3-6.3): once an activity has ended, the volunteers who came are asked
for their survey and the org's staff get the beneficiaries' one to pass on. Activities ended in the last
7 days only; each notice once (its key), so a rerun or a second instance tells no one twice."""

from __future__ import annotations

import logging

from core.ports import Clock, UnitOfWorkFactory
from core.services.reminders import queue_after_activity

log = logging.getLogger(__name__)


async def ask_for_surveys(uows: UnitOfWorkFactory, clock: Clock) -> int:
    async with uows() as uow:
        queued = await queue_after_activity(uow, clock)
        await uow.commit()
    if queued:
        log.info("queued %d after-activity survey notices", queued)
    return queued
