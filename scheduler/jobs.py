"""Every APScheduler job, registered in one place; scheduler/runner.py starts and stops them, in the web
application (``stvs serve``) and in the scheduler run alone (``stvs scheduler``). Each job has a fixed id
and ``replace_existing`` (a restart never adds a duplicate), runs one instance at a time, coalesces
missed runs into one, and has a grace time long enough that a run due while the process was busy or
paused still happens (PITFALLS: APScheduler 3.11 skips it after 1 s otherwise).

Besides the outbox dispatcher, each job runs one core service in one transaction. Every one is
idempotent: its notices have unique keys and its changes find nothing left to do a second time, so a
rerun, a restart or a second instance queues and sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from core.chat.turn import Translators
from core.domain.codes import Channel
from core.policy import Policy
from core.ports import Clock, Messenger, UnitOfWork, UnitOfWorkFactory
from core.services.attendance import close_forgotten, purge_coordinates
from core.services.feedback import escalate_overdue
from core.services.presence import alert_low_turnout, release_unanswered
from core.services.reminders import queue_after_activity, queue_reminders
from core.services.reports import remind_reports
from core.services.stars import review_stars
from scheduler.dispatcher import Claims, Pacer, dispatch_due

log = logging.getLogger(__name__)

DISPATCH_EVERY_S = 2
Work = Callable[..., Awaitable[int | Sequence[Any]]]  # (uow, clock[, policy]) → how many, or which


@dataclass(frozen=True)
class Job:
    id: str
    work: Work
    trigger: dict[str, Any]  # APScheduler's trigger and its fields
    done: str  # logged with the count when the run did something
    policy: bool = False  # the service takes the policy after the clock
    at_start: bool = False  # also run at start-up: what fell due while the process was down goes at once


JOBS = (
    # 2-6.3 a: attendances nobody checked out of are closed at the end plus the grace, for review.
    Job("attendance-close-forgotten", close_forgotten, {"trigger": "interval", "minutes": 5},
        "closed %d attendances nobody checked out of", policy=True),
    # PIPL art. 28: raw check-in coordinates past their retention period.
    Job("attendance-purge-coordinates", purge_coordinates, {"trigger": "cron", "hour": 3},
        "purged the coordinates of %d attendances"),
    # 3-6.3: the record reminder on day 5 and the overdue alert after day 7; 01:00 UTC is 09:00 in China.
    Job("reports-remind", remind_reports, {"trigger": "cron", "hour": 1},
        "queued %d activity record reminders"),
    # 3-6.1.3.3: places held past their deadline for an answer go to the next on the waitlist.
    Job("presence-release-unanswered", release_unanswered, {"trigger": "interval", "minutes": 5},
        "%d places held past their answer deadline went to the waitlist"),
    # 3-6.1.3.3: activities still short near the start offer their staff the call.
    Job("presence-low-turnout", alert_low_turnout, {"trigger": "interval", "minutes": 30},
        "offered the call for %d activities short of volunteers", policy=True),
    # 4-6.2.1: stars about to lapse, or lapsed.
    Job("stars-review", review_stars, {"trigger": "cron", "hour": 4},
        "star review: %d volunteers told", policy=True),
    # 3-6.2.3: the reminders the day before and hours before the start, queued when they fall due.
    Job("reminders-queue", queue_reminders, {"trigger": "interval", "minutes": 5},
        "queued %d activity reminders", policy=True, at_start=True),
    # 3-8.1.2: after the end, the volunteers' survey to attendees and the beneficiaries' link to staff.
    Job("after-activity", queue_after_activity, {"trigger": "interval", "minutes": 15},
        "queued %d after-activity survey notices", at_start=True),
    # 1-8: complaints unanswered past the response time go, once, to the org above.
    Job("complaints-escalate", escalate_overdue, {"trigger": "interval", "minutes": 30},
        "escalated %d complaints to the org above", policy=True, at_start=True),
)  # fmt: skip
JOB_IDS = ("outbox-dispatch", *(job.id for job in JOBS))
_BY_ID = {job.id: job for job in JOBS}


async def run_job(job_id: str, uows: UnitOfWorkFactory, clock: Clock, policy: Policy | None = None) -> int:
    """One run of a job: its service in one transaction; returns how many things it did."""
    job = _BY_ID[job_id]
    async with uows() as uow:
        done = await _call(job, uow, clock, policy or Policy())
        await uow.commit()
    count = done if isinstance(done, int) else len(done)
    if count:
        log.info(job.done, count)
    return count


def _call(job: Job, uow: UnitOfWork, clock: Clock, policy: Policy) -> Awaitable[int | Sequence[Any]]:
    return job.work(uow, clock, policy) if job.policy else job.work(uow, clock)


def register_jobs(
    scheduler: BaseScheduler,
    *,
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    policy: Policy,
    pacer: Pacer,
    claims: Claims | None = None,
) -> None:
    """Adds every job (``JOB_IDS``); called again, it replaces them. ``claims`` tracks the dispatcher's
    ticks for a graceful stop (scheduler/runner.py)."""
    once: dict[str, Any] = {"replace_existing": True, "max_instances": 1, "coalesce": True}
    scheduler.add_job(
        dispatch_due,
        "interval",
        seconds=DISPATCH_EVERY_S,
        id="outbox-dispatch",
        args=[uows, clock, messengers, translators],
        kwargs={"pacer": pacer, "claims": claims},
        misfire_grace_time=60,
        **once,
    )
    started = datetime.now(UTC)
    for job in JOBS:
        scheduler.add_job(
            run_job,
            id=job.id,
            args=[job.id, uows, clock, policy],
            misfire_grace_time=3600,
            **({"next_run_time": started} if job.at_start else {}),
            **job.trigger,
            **once,
        )
