"""The outbox dispatcher: sends due notices through each channel's Messenger, at least once,
never twice in normal operation, and never loses one (ARCHITECTURE: the database is the source of truth).

Sending runs at the platform's cap and no faster: Telegram allows about 30 messages a second overall
and one a second to one chat. Notices go out concurrently, each waiting for its turn with the Pacer;
a 429 pauses that channel for its retry_after and re-queues the notice without counting it as a failed
attempt; a 403 (the bot was blocked) marks the identity unreachable, and notices skip it from then on
(until the person writes again). Several instances may dispatch from one PostgreSQL database: rows are
claimed with FOR UPDATE SKIP LOCKED under a lease, so no notice is sent twice; a process killed
mid-send leaves its claimed rows to be sent again when their lease ends (at least once, never lost)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.chat.messages import Choice, Say
from core.chat.turn import Translators
from core.domain.codes import Channel
from core.domain.dialog import Notice
from core.ports import Clock, DeliveryFailed, Messenger, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)  # a claimed notice not marked sent by then is tried again
LEASE_MARGIN = timedelta(seconds=10)  # a send not started this close to the lease's end waits for a new claim
CONCURRENCY = 32  # sends in flight at once; the Pacer keeps them at the platform's rate


@dataclass(frozen=True)
class Pace:
    """A channel's cap: messages a second overall, and the least time between two to one chat."""

    per_second: float = 30.0
    chat_interval_s: float = 1.0


SleepUntil = Callable[[datetime], Awaitable[None]]


def _spacing(per_second: float) -> timedelta:
    """Rounded up to the microsecond: 30 a second never becomes 31 in a second."""
    return timedelta(microseconds=math.ceil(1_000_000 / per_second))


class Pacer:
    """Gives each send its turn: a slot on the channel (per_second) and on the chat (chat_interval_s),
    reserved before waiting so that concurrent senders never share one; a 429 pauses the channel and
    nobody sends on it before the pause ends. Lives as long as the scheduler: a pause outlasts a tick."""

    def __init__(
        self, clock: Clock, paces: Mapping[Channel, Pace] | None = None, sleep_until: SleepUntil | None = None
    ) -> None:
        self.clock = clock
        self.paces = dict(paces or {})
        self._sleep_until = sleep_until or self._sleep
        self._next: dict[Channel, datetime] = {}
        self._chat_next: dict[tuple[Channel, str], datetime] = {}
        self._paused: dict[Channel, datetime] = {}

    async def _sleep(self, until: datetime) -> None:
        await asyncio.sleep(max(0.0, (until - self.clock.now()).total_seconds()))

    def paused_until(self, channel: Channel) -> datetime | None:
        until = self._paused.get(channel)
        return until if until is not None and until > self.clock.now() else None

    def pause(self, channel: Channel, seconds: float) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        self._paused[channel] = max(self._paused.get(channel, until), until)

    async def turn(self, channel: Channel, chat: str) -> datetime:
        """Waits for this send's slot; returns the time it may go."""
        pace = self.paces.get(channel, Pace())
        while True:
            now = self.clock.now()
            at = max(
                now,
                self._next.get(channel, now),
                self._chat_next.get((channel, chat), now),
                self._paused.get(channel, now),
            )
            self._next[channel] = at + _spacing(pace.per_second)
            self._chat_next[(channel, chat)] = at + timedelta(seconds=pace.chat_interval_s)
            if at > now:
                await self._sleep_until(at)
            if self.paused_until(channel) is None:
                self._forget_old_chats()
                return at
            # A 429 answered another send while this one waited: its slot is void, take a new one.

    def _forget_old_chats(self) -> None:
        if len(self._chat_next) > 10_000:
            now = self.clock.now()
            self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}


@dataclass(frozen=True)
class _Message:
    key: str
    say: Say
    to: tuple[tuple[Channel, str], ...]


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def claim_limit(pacer: Pacer) -> int:
    """As many as the fastest channel can send before the lease ends."""
    fastest = max((p.per_second for p in pacer.paces.values()), default=Pace().per_second)
    return max(1, int(fastest * (LEASE - LEASE_MARGIN).total_seconds()))


async def dispatch_due(
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    *,
    limit: int | None = None,
    pacer: Pacer | None = None,
    concurrency: int = CONCURRENCY,
) -> DispatchResult:
    """Claim due notices (a lease, committed), send them concurrently at the channels' pace outside
    any transaction, then mark each. A crash between send and mark re-sends after the lease: at least
    once, never lost."""
    pacer = pacer or Pacer(clock)
    async with uows() as uow:
        now = clock.now()
        claimed = await uow.notices.due(now, limit or claim_limit(pacer))
        for notice in claimed:
            notice.attempts += 1
            notice.due_at = now + LEASE
        ids = [n.id or 0 for n in claimed]
        await uow.commit()
    deadline = now + LEASE - LEASE_MARGIN
    gate = asyncio.Semaphore(concurrency)

    async def one(notice_id: int) -> str | None:
        async with gate:
            return await _dispatch_one(uows, clock, messengers, translators, pacer, notice_id, deadline)

    outcomes = await asyncio.gather(*(one(i) for i in ids))
    return DispatchResult(outcomes.count("sent"), outcomes.count("retried"), outcomes.count("failed"))


async def _dispatch_one(
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    pacer: Pacer,
    notice_id: int,
    deadline: datetime,
) -> str | None:
    async with uows() as uow:
        notice = await uow.notices.get(notice_id)
        # Withdrawn since it was claimed (its sign-up or activity cancelled): not sent.
        if notice is None or not notice.pending:
            return None
        message = await _message(uow, notice, messengers, translators)
    # Sent with no transaction open: a messenger may use the database itself (WeChat counts its
    # window there), and SQLite has a single connection.
    gone: list[tuple[Channel, str]] = []
    if isinstance(message, DeliveryFailed):
        outcome: DeliveryFailed | None = message
    else:
        outcome = await _deliver(message, messengers, pacer, deadline, gone)
    async with uows() as uow:
        now = clock.now()
        for channel, external_id in gone:
            await uow.identities.set_unreachable(channel, external_id, now)
        notice = await uow.notices.get(notice_id)
        if notice is None or notice.sent_at is not None:
            await uow.commit()
            return None
        if outcome is None:
            notice.sent_at = now
            notice.last_error = None
            result = "sent"
        elif outcome.retry_after is not None and not outcome.permanent:
            # The platform's pace, not the notice's fault: back when the pause ends, no attempt used.
            notice.attempts -= 1
            notice.due_at = now + timedelta(seconds=outcome.retry_after)
            notice.last_error = str(outcome)[:500]
            result = "retried"
        elif outcome.permanent or notice.attempts >= MAX_ATTEMPTS:
            notice.failed = True
            notice.last_error = str(outcome)[:500]
            result = "failed"
        else:
            notice.due_at = now + timedelta(seconds=30 * 2 ** (notice.attempts - 1))
            notice.last_error = str(outcome)[:500]
            result = "retried"
        await uow.commit()
    return result


async def _message(
    uow: UnitOfWork, notice: Notice, messengers: Mapping[Channel, Messenger], translators: Translators
) -> _Message | DeliveryFailed:
    """The notice in its user's language, and the identities to try, newest first (plain values:
    they outlive the unit of work)."""
    user = await uow.users.get(notice.user_id)
    identities = await uow.identities.for_user(notice.user_id)
    reachable = [i for i in reversed(identities) if i.channel in messengers and i.unreachable_at is None]
    if user is None or not reachable:
        return DeliveryFailed("no channel to reach this user", permanent=True)
    t = translators(user.language)
    say = Say(
        t(notice.message_key, **notice.params),
        tuple(Choice(t(label), payload) for label, payload in notice.choices),
    )
    return _Message(notice.key, say, tuple((i.channel, i.external_id) for i in reachable))


async def _deliver(
    message: _Message,
    messengers: Mapping[Channel, Messenger],
    pacer: Pacer,
    deadline: datetime,
    gone: list[tuple[Channel, str]],
) -> DeliveryFailed | None:
    """Tries the user's identities newest first; those refused for good are added to ``gone``."""
    last: DeliveryFailed | None = None
    for channel, external_id in message.to:
        if await pacer.turn(channel, external_id) >= deadline:
            # Its turn comes after the lease: another tick (or instance) may claim it by then.
            return DeliveryFailed("its turn came after the lease", retry_after=0)
        try:
            await messengers[channel].send(external_id, [message.say])
            return None
        except DeliveryFailed as error:
            log.warning("notice %s to %s failed: %s", message.key, channel, error)
            if error.permanent:
                gone.append((channel, external_id))
            elif error.retry_after is not None:
                pacer.pause(channel, error.retry_after)
            last = error
    return last
