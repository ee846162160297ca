"""The outbox at the platform's cap, losing nothing (issue: scheduler and notices): Telegram's 30
messages a second overall and one a second per chat, a 429 that pauses the channel and re-queues, a 403
that marks the identity unreachable until the person writes again, two dispatchers on one database that
never send a notice twice, and a dispatcher killed mid-broadcast whose rest goes out after the lease.
Time moves only through the fake clock: the Pacer waits by moving it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient

from bots.app import SERVICES
from core.chat.messages import Reply, Say
from core.domain.codes import Channel
from core.ports import DeliveryFailed
from core.services.notices import enqueue
from core.services.users import ensure_user
from locales import translator
from scheduler.dispatcher import LEASE, RATE_RETRIES, Pace, Pacer, claim_limit, dispatch_due
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.test_telegram_webhook import Chat

TELEGRAM = Pace(per_second=30, chat_interval_s=1.0)


class Recorder:
    """A Messenger that notes when each send happened, and fails as told."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str, str]] = []  # (when, to, text)
        self.failures: dict[int, DeliveryFailed] = {}  # the n-th call (from 1) fails so
        self.calls = 0
        self.hang_after: int | None = None
        self.hanging = asyncio.Event()

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.calls += 1
        if self.hang_after is not None and self.calls > self.hang_after:
            self.hanging.set()
            await asyncio.Event().wait()  # the process dies here
        failure = self.failures.get(self.calls)
        if failure is not None:
            raise failure
        say = replies[0]
        assert isinstance(say, Say)
        self.sent.append((self.clock.now(), external_id, say.text))


def pacer_for(clock: FakeClock, pace: Pace = TELEGRAM) -> Pacer:
    async def sleep_until(at: datetime) -> None:
        if at > clock.now():
            clock.set(at)
        await asyncio.sleep(0)

    return Pacer(clock, {Channel.TELEGRAM: pace}, sleep_until)


async def _queue(db: Database, clock: FakeClock, recipients: Sequence[str], per_person: int = 1) -> list[str]:
    """One notice per person (or several), queued now; returns the keys."""
    keys = []
    async with db.uow() as uow:
        for external_id in recipients:
            user = await ensure_user(uow, clock, Channel.TELEGRAM, external_id)
            for n in range(per_person):
                key = f"test:{external_id}:{n}"
                assert await enqueue(uow, clock, key, user.id or 0, "chat.cancelled")
                keys.append(key)
        await uow.commit()
    return keys


def _most_in_one_second(times: Sequence[datetime]) -> int:
    ordered = sorted(times)
    return max(
        sum(1 for t in ordered[i:] if t < start + timedelta(seconds=1)) for i, start in enumerate(ordered)
    )


async def _pending(db: Database, key: str) -> SimpleNamespace | None:
    """The notice still waiting under this key, as plain values (None once sent or failed)."""
    async with db.uow() as uow:
        for notice in await uow.notices.pending([key]):
            return SimpleNamespace(attempts=notice.attempts, failed=notice.failed, due_at=notice.due_at)
    return None


async def test_ninety_notices_go_out_in_three_seconds_never_more_than_thirty_in_one(
    db: Database, clock: FakeClock
) -> None:
    await _queue(db, clock, [str(7_000 + n) for n in range(90)])
    recorder, start = Recorder(clock), clock.now()
    result = await dispatch_due(
        db.uow, clock, {Channel.TELEGRAM: recorder}, translator, pacer=pacer_for(clock), concurrency=1
    )
    assert result.sent == 90 and len({to for _, to, _ in recorder.sent}) == 90
    times = [at for at, _, _ in recorder.sent]
    assert _most_in_one_second(times) == 30
    assert timedelta(seconds=2.9) <= max(times) - start < timedelta(seconds=3.1)


async def test_a_429_pauses_the_channel_and_the_notice_goes_after_the_pause_using_no_attempt(
    db: Database, clock: FakeClock
) -> None:
    keys = await _queue(db, clock, [str(7_200 + n) for n in range(40)])
    recorder = Recorder(clock)
    recorder.failures[10] = DeliveryFailed("rate limited", retry_after=7)
    pacer, start = pacer_for(clock), clock.now()
    result = await dispatch_due(
        db.uow, clock, {Channel.TELEGRAM: recorder}, translator, pacer=pacer, concurrency=1
    )
    assert result.sent == 40 and result.retried == 0
    limited_at = start + timedelta(seconds=9 / 30)
    after = [at for at, _, _ in recorder.sent[9:]]
    assert len(after) == 31 and min(after) >= limited_at + timedelta(seconds=7)  # nobody during the pause
    assert recorder.sent[9][1] == "7209"  # the one told to wait went first after the pause
    assert all([await _pending(db, k) is None for k in keys])


async def test_a_notice_told_to_wait_again_and_again_goes_back_to_the_queue_using_no_attempt(
    db: Database, clock: FakeClock
) -> None:
    keys = await _queue(db, clock, [str(7_250 + n) for n in range(5)])
    recorder = Recorder(clock)
    for n in range(2, 2 + RATE_RETRIES + 1):  # the 2nd notice, and each of its retries
        recorder.failures[n] = DeliveryFailed("rate limited", retry_after=3)
    pacer = pacer_for(clock)
    result = await dispatch_due(
        db.uow, clock, {Channel.TELEGRAM: recorder}, translator, pacer=pacer, concurrency=1
    )
    assert result.sent == 4 and result.retried == 1
    notice = await _pending(db, keys[1])
    assert notice is not None and notice.attempts == 0 and not notice.failed
    # Due when the last pause ends, when the next one was sent, not at once.
    assert notice.due_at >= recorder.sent[1][0] > recorder.sent[0][0] + timedelta(seconds=3 * RATE_RETRIES)

    clock.set(notice.due_at)
    result = await dispatch_due(db.uow, clock, {Channel.TELEGRAM: recorder}, translator, pacer=pacer)
    assert result.sent == 1 and await _pending(db, keys[1]) is None


async def test_a_tick_claims_what_the_cap_sends_before_the_lease_ends(db: Database, clock: FakeClock) -> None:
    slow = Pace(per_second=2, chat_interval_s=0)
    pacer = pacer_for(clock, slow)
    limit = claim_limit(pacer)
    assert limit == int(2 * (LEASE.total_seconds() - 10))
    await _queue(db, clock, [str(7_300 + n) for n in range(limit + 5)])
    recorder = Recorder(clock)
    result = await dispatch_due(db.uow, clock, {Channel.TELEGRAM: recorder}, translator, pacer=pacer)
    assert result.sent == limit and clock.now() - recorder.sent[0][0] < LEASE


async def test_two_dispatchers_at_once_never_send_a_notice_twice(db: Database, clock: FakeClock) -> None:
    keys = await _queue(db, clock, [str(7_400 + n) for n in range(120)])
    recorder = Recorder(clock)
    messengers = {Channel.TELEGRAM: recorder}
    fast = Pace(per_second=1000, chat_interval_s=0)
    first, second = await asyncio.gather(
        dispatch_due(db.uow, clock, messengers, translator, pacer=pacer_for(clock, fast), limit=80),
        dispatch_due(db.uow, clock, messengers, translator, pacer=pacer_for(clock, fast), limit=80),
    )
    assert first.sent + second.sent == 120
    counts = Counter(to for _, to, _ in recorder.sent)
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert all([await _pending(db, k) is None for k in keys])


async def test_a_dispatcher_killed_mid_broadcast_loses_nothing(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, [str(7_500 + n) for n in range(50)])
    dying = Recorder(clock)
    dying.hang_after = 20
    fast = Pace(per_second=1000, chat_interval_s=0)
    task = asyncio.create_task(
        dispatch_due(db.uow, clock, {Channel.TELEGRAM: dying}, translator, pacer=pacer_for(clock, fast))
    )
    await dying.hanging.wait()
    await asyncio.sleep(0)
    task.cancel()  # as SIGKILL: nothing after this point runs
    with pytest.raises(asyncio.CancelledError):
        await task
    delivered = {to for _, to, _ in dying.sent}
    assert len(delivered) == 20

    fresh = Recorder(clock)
    assert (await dispatch_due(db.uow, clock, {Channel.TELEGRAM: fresh}, translator)).sent == 0  # leased
    clock.advance(seconds=LEASE.total_seconds() + 1)
    await dispatch_due(db.uow, clock, {Channel.TELEGRAM: fresh}, translator, pacer=pacer_for(clock, fast))
    again = {to for _, to, _ in fresh.sent}
    assert delivered | again == {str(7_500 + n) for n in range(50)}  # everyone, at least once


# ---- the Pacer's slots, taken concurrently -------------------------------------------------------


class Sleeper:
    """Sleeps that end when the test says so, to put a 429 in the middle of a wait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waiting: list[tuple[datetime, asyncio.Future[None]]] = []

    async def sleep_until(self, at: datetime) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((at, future))
        await future

    def wake_all(self) -> None:
        """Time moves to the first wake-up due, and those due then wake (the others sleep on)."""
        if not self.waiting:
            return
        first = min(at for at, _ in self.waiting)
        self.clock.set(max(self.clock.now(), first))
        due = [w for w in self.waiting if w[0] <= self.clock.now()]
        self.waiting = [w for w in self.waiting if w[0] > self.clock.now()]
        for _, future in due:
            future.set_result(None)


async def _drive(sleeper: Sleeper, *turns) -> list[datetime]:
    tasks = [asyncio.create_task(t) for t in turns]
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0)
        sleeper.wake_all()
    return [t.result() for t in tasks]


async def test_concurrent_turns_keep_thirty_a_second_and_one_a_second_per_chat(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    pacer, start = Pacer(clock, {Channel.TELEGRAM: TELEGRAM}, sleeper.sleep_until), clock.now()
    chats = [str(n) for n in range(86)] + ["same"] * 4
    slots = await _drive(sleeper, *(pacer.turn(Channel.TELEGRAM, c) for c in chats))
    assert len(set(slots)) == 90 and _most_in_one_second(slots) == 30
    others = [at for at, c in zip(slots, chats, strict=True) if c != "same"]
    assert max(others) - start < timedelta(seconds=3)
    same = sorted(at for at, c in zip(slots, chats, strict=True) if c == "same")
    assert all(b - a >= timedelta(seconds=1) for a, b in zip(same, same[1:], strict=False))


async def test_a_pause_that_comes_while_a_turn_waits_moves_that_turn_past_it(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    pacer, start = Pacer(clock, {Channel.TELEGRAM: TELEGRAM}, sleeper.sleep_until), clock.now()
    first = await pacer.turn(Channel.TELEGRAM, "a")  # now: no wait
    waiting = asyncio.create_task(pacer.turn(Channel.TELEGRAM, "b"))  # its slot: 1/30 s on
    await asyncio.sleep(0)
    assert first == start and len(sleeper.waiting) == 1
    pacer.pause(Channel.TELEGRAM, 7)  # "a" was answered 429, retry after 7 s
    while not waiting.done():
        sleeper.wake_all()
        await asyncio.sleep(0)
    assert waiting.result() >= start + timedelta(seconds=7)
    assert await pacer.turn(Channel.WECHAT, "c") == clock.now()  # another channel is not paused


# ---- 403 through the real Telegram client and the fake Bot API -----------------------------------

BLOCKER = Person(id=5_400_000_001, first_name="屏蔽者", language_code="zh-hans")


async def test_a_blocked_bot_marks_the_identity_until_the_person_writes_again(
    db: Database, clock: FakeClock, app_client: TestClient, fake_telegram: FakeTelegramAPI
) -> None:
    services = app_client.app[SERVICES]
    chat = Chat(app_client, fake_telegram, BLOCKER, TelegramUpdates(clock=clock))
    await chat.say("/start")
    fake_telegram.block_chat(BLOCKER.id)
    await _queue(db, clock, [str(BLOCKER.id)])
    result = await dispatch_due(db.uow, clock, services.messengers, translator, pacer=pacer_for(clock))
    assert result.failed == 1
    async with db.uow() as uow:
        identity = await uow.identities.get(Channel.TELEGRAM, str(BLOCKER.id))
        assert identity is not None and identity.unreachable_at == clock.now()

    calls = len(fake_telegram.calls("sendMessage"))
    key = await _queue_again(db, clock, str(BLOCKER.id))
    result = await dispatch_due(db.uow, clock, services.messengers, translator, pacer=pacer_for(clock))
    assert result.failed == 1 and len(fake_telegram.calls("sendMessage")) == calls  # not even tried
    assert key

    fake_telegram.unblock_chat(BLOCKER.id)
    await chat.say("/menu")  # they write again
    async with db.uow() as uow:
        identity = await uow.identities.get(Channel.TELEGRAM, str(BLOCKER.id))
        assert identity is not None and identity.unreachable_at is None
    await _queue_again(db, clock, str(BLOCKER.id), n=2)
    result = await dispatch_due(db.uow, clock, services.messengers, translator, pacer=pacer_for(clock))
    assert result.sent == 1 and "已取消" in chat.new_messages()[-1]["text"]


async def _queue_again(db: Database, clock: FakeClock, external_id: str, n: int = 1) -> str:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, external_id)
        key = f"again:{external_id}:{n}"
        await enqueue(uow, clock, key, user.id or 0, "chat.cancelled")
        await uow.commit()
    return key
