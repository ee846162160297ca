"""Every APScheduler job, registered in one place: by the web application (``stvs serve``) and by the
scheduler run alone (``stvs scheduler``). Each job has a fixed id and ``replace_existing`` (a restart
never adds a duplicate), runs one instance at a time, coalesces missed runs into one, and has a grace time
long enough that a run due while the process was busy or paused still happens (PITFALLS: APScheduler 3.11
skips it after 1 s otherwise). Every job is idempotent: a second instance queues and sends nothing twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from core.chat.turn import Translators
from core.domain.codes import Channel
from core.policy import Policy
from core.ports import Clock, Messenger, UnitOfWorkFactory
from scheduler.after import ask_for_surveys
from scheduler.attendance import close_forgotten_checkouts, purge_check_in_coordinates
from scheduler.dispatcher import Pacer, dispatch_due
from scheduler.presence import offer_calls_for_low_turnout, release_unanswered_places
from scheduler.reminders import remind_volunteers
from scheduler.reports import remind_activity_reports
from scheduler.stars import review_star_levels

DISPATCH_EVERY_S = 2
JOB_IDS = (
    "outbox-dispatch",
    "attendance-close-forgotten",
    "attendance-purge-coordinates",
    "reports-remind",
    "presence-release-unanswered",
    "presence-low-turnout",
    "stars-review",
    "reminders-queue",
    "after-activity",
)


def register_jobs(
    scheduler: BaseScheduler,
    *,
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    policy: Policy,
    pacer: Pacer,
) -> None:
    """Adds every job (``JOB_IDS``); called again, it replaces them."""
    once: dict[str, Any] = {"replace_existing": True, "max_instances": 1, "coalesce": True}
    every = {**once, "misfire_grace_time": 3600}
    scheduler.add_job(
        dispatch_due,
        "interval",
        seconds=DISPATCH_EVERY_S,
        id="outbox-dispatch",
        args=[uows, clock, messengers, translators],
        kwargs={"pacer": pacer},
        misfire_grace_time=60,
        **once,
    )
    scheduler.add_job(
        close_forgotten_checkouts,
        "interval",
        minutes=5,
        id="attendance-close-forgotten",
        args=[uows, clock, policy],
        **every,
    )
    scheduler.add_job(
        purge_check_in_coordinates,
        "cron",
        hour=3,
        id="attendance-purge-coordinates",
        args=[uows, clock],
        **every,
    )
    scheduler.add_job(
        remind_activity_reports,
        "cron",
        hour=1,  # 09:00 in China: 3-6.3 reminders reach organizers in working hours
        id="reports-remind",
        args=[uows, clock],
        **every,
    )
    scheduler.add_job(
        release_unanswered_places,
        "interval",
        minutes=5,
        id="presence-release-unanswered",
        args=[uows, clock],
        **every,
    )
    scheduler.add_job(
        offer_calls_for_low_turnout,
        "interval",
        minutes=30,
        id="presence-low-turnout",
        args=[uows, clock, policy],
        **every,
    )
    scheduler.add_job(
        review_star_levels,
        "cron",
        hour=4,
        id="stars-review",
        args=[uows, clock, policy],
        **every,
    )
    # Run at start-up too: reminders fallen due while the process was down are queued (and those gone
    # stale withdrawn) at once, not five minutes later.
    started = datetime.now(UTC)
    scheduler.add_job(
        remind_volunteers,
        "interval",
        minutes=5,
        id="reminders-queue",
        args=[uows, clock, policy],
        next_run_time=started,
        **every,
    )
    scheduler.add_job(
        ask_for_surveys,
        "interval",
        minutes=15,
        id="after-activity",
        args=[uows, clock],
        next_run_time=started,
        **every,
    )
