"""The outbox dispatcher: sends due notices through each channel's Messenger, at least once,
never twice in normal operation, and never loses one (ARCHITECTURE: the database is the source of truth).

Sending runs at the platform's cap and no faster: Telegram allows about 30 messages a second overall
and one a second to one chat. Notices go out concurrently, each waiting for its turn with the Pacer;
a 429 pauses that channel for its retry_after, and the notice takes a new turn after the pause (or,
after a few, goes back to the queue without counting it as a failed attempt); a 403 (the bot was
blocked) marks the identity unreachable, and notices skip it from then on (until the person writes
again). Several instances may dispatch from one PostgreSQL database: rows are
claimed with FOR UPDATE SKIP LOCKED under a lease, so no notice is sent twice; a process killed
mid-send leaves its claimed rows to be sent again when their lease ends (at least once, never lost)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.chat.messages import Choice, Say
from core.chat.turn import Translators
from core.domain.codes import Channel
from core.ports import Clock, DeliveryFailed, Messenger, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)  # a claimed notice not marked sent by then is tried again
CONCURRENCY = 32  # sends in flight at once; the Pacer keeps them at the platform's rate
RATE_RETRIES = 3  # 429s a notice waits out within its claim before it goes back to the queue
MARK_AFTER = timedelta(milliseconds=500)  # sent notices are marked within about this long
PREPARE_MAX = 64  # notices read and rendered in one transaction, and marked in one
# A Pacer woken late sends the slots it missed at once, up to this far behind: the rate stays the
# cap over time instead of losing the loop's lateness on every send.
CATCH_UP = timedelta(milliseconds=100)
# Two sends to one chat are spaced this much beyond the platform's interval: their requests can
# arrive closer together than they left.
CHAT_MARGIN = timedelta(milliseconds=100)


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
        """Waits for this send's slot; returns the time it may go. A send waits for its chat to be
        free and for a pause to end holding no slot of the channel (the others go meanwhile), then
        takes the channel's next slot. Slots follow one another at the channel's spacing; one missed by
        less than CATCH_UP (the loop woke late) is still taken, so lateness is not lost on every send;
        after an idle spell the slots start again from now."""
        pace = self.paces.get(channel, Pace())
        key = (channel, chat)
        late = False
        now = self.clock.now()
        while True:
            # A sleep ends at its time at the earliest, whatever the clock says (a clock of a test
            # may stand still while the sleep is real).
            now = max(now, self.clock.now())
            free = max(self._chat_next.get(key, now), self._paused.get(channel, now))
            if free > now:
                await self._sleep_until(free)
                now = free
                continue
            at = self._next.get(channel, now)
            if at < now - CATCH_UP:
                at = now
            self._next[channel] = at + _spacing(pace.per_second)
            chat_before = self._chat_next.get(key)
            if pace.chat_interval_s:
                self._chat_next[key] = at + timedelta(seconds=pace.chat_interval_s) + CHAT_MARGIN
            if at > now:
                await self._sleep_until(at)
            now = max(now, at, self.clock.now())
            void = self._paused.get(channel, now) > now  # a 429 answered another send meanwhile
            if not void and now - at > CATCH_UP and not late:
                # Woke far too late (the loop stalled): sending now would burst, so a new slot, once
                # (a loop late on every wake-up still sends, at its own pace).
                void = late = True
            if void:
                if chat_before is None:
                    self._chat_next.pop(key, None)
                else:
                    self._chat_next[key] = chat_before
                continue
            self._forget_old_chats()
            return at

    def _forget_old_chats(self) -> None:
        if len(self._chat_next) > 10_000:
            now = self.clock.now()
            self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}


@dataclass(frozen=True)
class _Message:
    id: int
    key: str
    say: Say
    to: tuple[tuple[Channel, str], ...]


class Claims:
    """The notices this process has claimed and not yet marked. At shutdown ``stopping`` keeps new
    sends from starting and ``release`` makes the rest due at once, for another instance or the
    restart, instead of after their lease."""

    def __init__(self) -> None:
        self.held: dict[int, datetime] = {}  # notice id → the lease it was claimed with
        self.sending = 0
        self.stopping = False
        self.ticks: set[asyncio.Task[object]] = set()
        self.stopped = asyncio.Event()  # a Pacer's sleep may end early on it (scheduler.runner)

    def stop(self) -> None:
        self.stopping = True
        self.stopped.set()

    def cancel(self) -> None:
        """At a stop, if a tick has not ended in time: it ends where it waits."""
        self.stop()
        for tick in self.ticks:
            tick.cancel()

    async def running(self, work: Awaitable[DispatchResult]) -> DispatchResult:
        """A tick's sending; ended by ``cancel``, it leaves what it did not send claimed (then released)."""
        tick = asyncio.current_task()
        assert tick is not None
        self.ticks.add(tick)
        try:
            return await work
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            return DispatchResult()
        finally:
            self.ticks.discard(tick)

    async def release(self, uows: UnitOfWorkFactory, clock: Clock) -> int:
        if not self.held:
            return 0
        released = 0
        async with uows() as uow:
            now = clock.now()
            for notice_id, lease in sorted(self.held.items()):
                notice = await uow.notices.get(notice_id)
                # Its lease ran out and another instance claimed it anew: that claim is not ours.
                if notice is None or not notice.pending or notice.due_at != lease:
                    continue
                notice.attempts -= 1  # claimed, never tried
                notice.due_at = now
                released += 1
            await uow.commit()
        self.held.clear()
        return released


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def lease_margin(lease: timedelta) -> timedelta:
    """A send not started this close to the lease's end waits for a new claim (10 s of 2 min)."""
    return lease / 12


def claim_limit(pacer: Pacer, lease: timedelta = LEASE) -> int:
    """As many as the fastest channel can send before the lease ends."""
    return max(1, int(_fastest(pacer) * (lease - lease_margin(lease)).total_seconds()))


def _fastest(pacer: Pacer) -> float:
    return max((p.per_second for p in pacer.paces.values()), default=Pace().per_second)


async def dispatch_due(
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    *,
    limit: int | None = None,
    pacer: Pacer | None = None,
    concurrency: int = CONCURRENCY,
    claims: Claims | None = None,
    lease: timedelta = LEASE,
) -> DispatchResult:
    """Claim due notices (a lease, committed), send them concurrently at the channels' pace outside
    any transaction, then mark them, a few at a time. A crash between send and mark re-sends after
    the lease: at least once, never lost; what repeats is at most what was sent and not yet marked."""
    pacer = pacer or Pacer(clock)
    if claims is not None and claims.stopping:
        return DispatchResult()
    async with uows() as uow:
        now = clock.now()
        claimed = await uow.notices.due(now, limit or claim_limit(pacer, lease))
        for notice in claimed:
            notice.attempts += 1
            notice.due_at = now + lease
        ids = [n.id or 0 for n in claimed]
        await uow.commit()
    if not ids:
        return DispatchResult()
    if claims is not None:
        claims.held.update((i, now + lease) for i in ids)
    batch = _Batch(uows, clock, messengers, translators, pacer, now + lease - lease_margin(lease), claims)
    if claims is None:
        return await batch.run(ids, concurrency)
    return await claims.running(batch.run(ids, concurrency))


_Outcome = DeliveryFailed | None
STOPPED = DeliveryFailed("stopping")  # a stop came before the send: left claimed, released at shutdown


class _Batch:
    """One claim's notices: read again and rendered a chunk at a time just before their turn (so a
    notice withdrawn or changed since the claim is seen), sent by ``concurrency`` workers at the
    Pacer's pace, and marked a few at a time in one transaction: per notice, the database does a
    fraction of a statement rather than two transactions."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        messengers: Mapping[Channel, Messenger],
        translators: Translators,
        pacer: Pacer,
        deadline: datetime,
        claims: Claims | None,
    ) -> None:
        self.uows, self.clock, self.messengers, self.translators = uows, clock, messengers, translators
        self.pacer, self.deadline, self.claims = pacer, deadline, claims
        fastest = _fastest(pacer)
        # About half a second of sending per chunk and per write, whatever the pace.
        self.chunk = min(PREPARE_MAX, max(1, int(fastest * MARK_AFTER.total_seconds())))
        self.outcomes: list[tuple[int, _Outcome]] = []
        self.gone: list[tuple[Channel, str]] = []
        self.oldest: datetime | None = None
        self.writing = asyncio.Lock()
        self.result: Counter[str] = Counter()

    @property
    def stopping(self) -> bool:
        return self.claims is not None and self.claims.stopping

    async def run(self, ids: list[int], concurrency: int) -> DispatchResult:
        queue: asyncio.Queue[_Message | None] = asyncio.Queue(maxsize=self.chunk)
        workers = max(1, min(concurrency, len(ids)))

        async def produce() -> None:
            try:
                for start in range(0, len(ids), self.chunk):
                    if self.stopping:
                        break  # left claimed: released at shutdown
                    for item in await self._prepare(ids[start : start + self.chunk]):
                        if isinstance(item, _Message):
                            await queue.put(item)
                        else:
                            await self._record(*item)
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            while (message := await queue.get()) is not None:
                if self.stopping:
                    continue
                gone: list[tuple[Channel, str]] = []
                outcome = await self._deliver(message, gone)
                if outcome is STOPPED:
                    continue
                self.gone += gone
                await self._record(message.id, outcome)

        try:
            await asyncio.gather(produce(), *(work() for _ in range(workers)))
        finally:
            await self._mark()  # cancelled too (a stop that could not wait): what was sent is marked
        return DispatchResult(self.result["sent"], self.result["retried"], self.result["failed"])

    async def _prepare(self, ids: list[int]) -> list[_Message | tuple[int, DeliveryFailed]]:
        """The notices still pending (one withdrawn since the claim is not sent), in the user's
        language, each with the identities to try, newest first (plain values: they outlive the unit
        of work)."""
        async with self.uows() as uow:
            notices = {n.id: n for n in await uow.notices.get_many(ids) if n.pending}
            user_ids = sorted({n.user_id for n in notices.values()})
            languages = await uow.users.languages(user_ids)
            identities: dict[int, list[tuple[Channel, str]]] = {}
            for i in reversed(await uow.identities.for_users(user_ids)):
                if i.channel in self.messengers and i.unreachable_at is None:
                    identities.setdefault(i.user_id, []).append((i.channel, i.external_id))
            prepared: list[_Message | tuple[int, DeliveryFailed]] = []
            for notice_id in ids:
                notice = notices.get(notice_id)
                if notice is None:
                    continue
                to = identities.get(notice.user_id)
                if notice.user_id not in languages or not to:
                    prepared.append(
                        (notice_id, DeliveryFailed("no channel to reach this user", permanent=True))
                    )
                    continue
                t = self.translators(languages[notice.user_id])
                say = Say(
                    t(notice.message_key, **notice.params),
                    tuple(Choice(t(label), payload) for label, payload in notice.choices),
                )
                prepared.append(_Message(notice_id, notice.key, say, tuple(to)))
        return prepared

    async def _deliver(self, message: _Message, gone: list[tuple[Channel, str]]) -> _Outcome:
        """Tries the user's identities newest first; those refused for good are added to ``gone``.
        A 429 pauses the channel and the notice waits for its turn after the pause, here, a few times:
        the claim is still good, and going back to the queue would wait for the next tick."""
        last: DeliveryFailed | None = None
        for channel, external_id in message.to:
            for _ in range(RATE_RETRIES + 1):
                if await self.pacer.turn(channel, external_id) >= self.deadline:
                    # Its turn comes after the lease: another tick (or instance) may claim it by then.
                    return DeliveryFailed("its turn came after the lease", retry_after=0)
                if self.stopping:
                    return STOPPED  # left claimed: released at shutdown
                if self.claims is not None:
                    self.claims.sending += 1  # until marked (a stop waits for it)
                try:
                    await self.messengers[channel].send(external_id, [message.say])
                    return None
                except DeliveryFailed as error:
                    if self.claims is not None:
                        self.claims.sending -= 1
                    log.warning("notice %s to %s failed: %s", message.key, channel, error)
                    last = error
                    if error.permanent:
                        gone.append((channel, external_id))
                    elif error.retry_after is not None:
                        self.pacer.pause(channel, error.retry_after)
                        continue
                    break
        return last

    async def _record(self, notice_id: int, outcome: _Outcome) -> None:
        self.outcomes.append((notice_id, outcome))
        now = self.clock.now()
        self.oldest = self.oldest or now
        due = len(self.outcomes) >= self.chunk or now - self.oldest >= MARK_AFTER
        if due and not self.writing.locked():  # one write at a time; the next record takes the rest
            await self._mark()

    async def _mark(self) -> None:
        async with self.writing:
            # Taken off the lists only once written: a tick cancelled while writing (at a stop) still
            # has them to write, and a notice sent is never released to be sent again.
            outcomes, gone = self.outcomes[:], self.gone[:]
            if not outcomes and not gone:
                return
            async with self.uows() as uow:
                now = self.clock.now()
                for channel, external_id in gone:
                    await uow.identities.set_unreachable(channel, external_id, now)
                sent = [i for i, outcome in outcomes if outcome is None]
                await uow.notices.mark_sent(sent, now)
                kinds = Counter({"sent": len(sent)})
                for notice_id, outcome in outcomes:
                    if outcome is not None and (kind := await _mark_failed(uow, notice_id, outcome, now)):
                        kinds[kind] += 1
                await uow.commit()
            self.result += kinds
            del self.outcomes[: len(outcomes)], self.gone[: len(gone)]
            self.oldest = self.clock.now() if self.outcomes else None
            if self.claims is not None:
                self.claims.sending -= len(sent)
                for notice_id, _ in outcomes:
                    self.claims.held.pop(notice_id, None)


async def _mark_failed(uow: UnitOfWork, notice_id: int, outcome: DeliveryFailed, now: datetime) -> str | None:
    notice = await uow.notices.get(notice_id)
    if notice is None or notice.sent_at is not None:
        return None  # sent after all (by another instance, once its lease ended)
    notice.last_error = str(outcome)[:500]
    if outcome.retry_after is not None and not outcome.permanent:
        # The platform's pace, not the notice's fault: back when the pause ends, no attempt used.
        notice.attempts -= 1
        notice.due_at = now + timedelta(seconds=outcome.retry_after)
        return "retried"
    if outcome.permanent or notice.attempts >= MAX_ATTEMPTS:
        notice.failed = True
        return "failed"
    notice.due_at = now + timedelta(seconds=30 * 2 ** (notice.attempts - 1))
    return "retried"
