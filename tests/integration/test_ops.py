"""Operations on the real application: /metrics (turns by channel and outcome, their duration, the
outbox read at scrape, sends by outcome), /healthz against the database, the turn log lines (JSON,
without personal data), and the dispatcher's claims released at a stop."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bots.app import SERVICES, build_app
from bots.bootstrap import bootstrap
from bots.ops import JsonFormatter
from bots.settings import Settings
from core.chat.messages import Reply
from core.domain.codes import Channel
from core.services.notices import enqueue
from core.services.users import ensure_user
from locales import translator
from scheduler.dispatcher import Claims, Pace, Pacer, dispatch_due
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]  # the app with both channels

VOLUNTEER = Person(id=5_600_000_001, first_name="运维测试", language_code="zh-hans")


async def _metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _turns(samples: dict, channel: str, outcome: str) -> float:
    return samples[("stvs_turns_total", (("channel", channel), ("outcome", outcome)))]


@pytest.fixture
def turn_lines() -> Iterator[io.StringIO]:
    """The turn log as a deployment writes it (STVS_LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("stvs.turn")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_turns_are_counted_by_channel_and_outcome_and_logged_without_personal_data(
    chat, wechat, app_client, fake_telegram, clock, turn_lines
) -> None:
    volunteer = chat(VOLUNTEER)
    start = volunteer.updates.command("start", "", person=VOLUNTEER)
    await volunteer.send(start)
    assert await volunteer.post(start) == 200  # Telegram's redelivery: a duplicate
    await volunteer.say("我叫张三，手机13812345678")
    # A button of an activity that does not exist: the turn is refused, the user told why.
    await volunteer.send(volunteer.updates.callback("a:x", person=VOLUNTEER))
    await wechat("oOpsTestOpenId0001").say("你好")

    samples = await _metrics(app_client)
    assert _turns(samples, "telegram", "ok") == 2
    assert _turns(samples, "telegram", "duplicate") == 1
    assert _turns(samples, "telegram", "refused") == 1
    assert _turns(samples, "telegram", "error") == 0
    assert _turns(samples, "wechat", "ok") == 1
    assert samples[("stvs_turn_duration_seconds_count", (("channel", "telegram"),))] == 4
    assert samples[("stvs_turn_duration_seconds_count", (("channel", "wechat"),))] == 1

    lines = [json.loads(line) for line in turn_lines.getvalue().splitlines()]
    assert [(t["channel"], t["route"], t["outcome"]) for t in lines] == [
        ("telegram", "start", "ok"),
        ("telegram", None, "duplicate"),
        ("telegram", "menu", "ok"),  # no question open after the welcome: not understood, the menu
        ("telegram", "button:a", "refused"),
        ("wechat", "menu", "ok"),  # not understood: the menu
    ]
    assert lines[0]["delivery"] == str(start["update_id"])
    assert all(isinstance(t["duration_ms"], float) for t in lines if t["outcome"] != "duplicate")
    written = turn_lines.getvalue()
    for personal in ("张三", "13812345678", str(VOLUNTEER.id), "运维测试", "oOpsTestOpenId0001", "你好"):
        assert personal not in written


async def test_metrics_read_the_outbox_at_scrape(db, clock, app_client) -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "4242")
        assert user.id is not None
        await enqueue(uow, clock, "ops:1", user.id, "notice.promoted", title="讲座", start="-")
        await enqueue(
            uow, clock, "ops:2", user.id, "notice.promoted", due_at=clock.now() + timedelta(minutes=5),
            title="讲座", start="-",
        )  # fmt: skip
        await enqueue(
            uow, clock, "ops:3", user.id, "notice.promoted", due_at=clock.now() + timedelta(days=3),
            title="讲座", start="-",
        )  # fmt: skip
        await uow.commit()
    clock.advance(minutes=10)

    samples = await _metrics(app_client)
    assert samples[("stvs_outbox_pending", ())] == 2  # the one due in 3 days is not waiting
    assert samples[("stvs_outbox_oldest_pending_age_seconds", ())] == 600
    assert samples[("stvs_database_up", ())] == 1


async def test_healthz_selects_from_the_database(app_client) -> None:
    response = await app_client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["channels"]["telegram"] == "on"


async def test_healthz_answers_503_with_the_reason_when_the_database_is_down(tmp_path) -> None:
    database = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    services = bootstrap(Settings(data_dir=tmp_path), clock=FakeClock(), database=database)
    async with TestClient(TestServer(build_app(services, run_scheduler=False))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "unavailable" and body["reason"].startswith("database: ")
        samples = await _metrics(client)
        assert samples[("stvs_database_up", ())] == 0


async def test_sends_are_counted_by_channel_and_outcome(
    db, clock, app_client, fake_telegram: FakeTelegramAPI
) -> None:
    services = app_client.app[SERVICES]
    chats = {"ok": 4_300_000_001, "blocked": 4_300_000_002, "flooded": 4_300_000_003}
    async with db.uow() as uow:
        for name, chat_id in chats.items():
            user = await ensure_user(uow, clock, Channel.TELEGRAM, str(chat_id))
            assert user.id is not None
            await enqueue(uow, clock, f"ops:{name}", user.id, "notice.promoted", title="讲座", start="-")
        await uow.commit()
    fake_telegram.block_chat(chats["blocked"])
    fake_telegram.fail_next("sendMessage", 429, chat_id=chats["flooded"], retry_after=3)

    async def sleep_until(until) -> None:  # the pause after the 429 passes on the fake clock
        clock.set(max(until, clock.now()))

    pacer = Pacer(clock, {Channel.TELEGRAM: Pace(1000, 0)}, sleep_until=sleep_until)
    await dispatch_due(db.uow, clock, services.ops.counted(services.messengers), translator, pacer=pacer)

    samples = await _metrics(app_client)
    sends = {o: samples.get(("stvs_notice_sends_total", (("channel", "telegram"), ("outcome", o))), 0)
             for o in ("sent", "unreachable", "rate_limited", "failed")}  # fmt: skip
    delivered = [
        c for c in fake_telegram.calls("sendMessage") if c.ok and c.params["chat_id"] in chats.values()
    ]
    assert sends == {"sent": len(delivered), "unreachable": 1, "rate_limited": 1, "failed": 0}
    assert sends["sent"] >= 1


class _Held:
    """A Messenger whose sends never end: a notice stays claimed while it is being sent."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send(self, external_id: str, replies: list[Reply]) -> None:
        self.started.set()
        await asyncio.Event().wait()


async def test_claimed_notices_are_released_at_a_stop(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        ids = []
        for n in range(3):
            user = await ensure_user(uow, clock, Channel.TELEGRAM, str(4_400_000_000 + n))
            assert user.id is not None
            await enqueue(uow, clock, f"ops:held:{n}", user.id, "notice.promoted", title="讲座", start="-")
            ids.append(user.id)
        await uow.commit()
    claims = Claims()
    held = _Held()
    # One send a second: the first hangs on the platform, the others wait for their turn.
    pacer = Pacer(clock, {Channel.TELEGRAM: Pace(1, 0)})
    tick = asyncio.create_task(
        dispatch_due(db.uow, clock, {Channel.TELEGRAM: held}, translator, pacer=pacer, claims=claims)
    )
    await asyncio.wait_for(held.started.wait(), 10)
    assert len(claims.held) == 3

    claims.cancel()
    assert (await asyncio.wait_for(tick, 10)).sent == 0
    assert await claims.release(db.uow, clock) == 3
    async with db.uow() as uow:
        notices = [n for user_id in ids for n in await uow.notices.for_user(user_id)]
        assert [(n.attempts, n.due_at, n.sent_at) for n in notices] == [(0, clock.now(), None)] * 3
    assert await claims.release(db.uow, clock) == 0


async def test_a_claim_taken_anew_after_its_lease_is_not_released(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "4500000001")
        assert user.id is not None
        await enqueue(uow, clock, "ops:lease", user.id, "notice.promoted", title="讲座", start="-")
        await uow.commit()
        user_id = user.id
        [notice] = await uow.notices.for_user(user_id)
        notice_id = notice.id or 0
    claims = Claims()
    claims.held[notice_id] = clock.now() + timedelta(minutes=2)
    async with db.uow() as uow:  # another instance claimed it after the lease: a later lease
        [theirs] = await uow.notices.due(clock.now(), 10)
        theirs.attempts += 1
        theirs.due_at = clock.now() + timedelta(minutes=5)
        await uow.commit()
    assert await claims.release(db.uow, clock) == 0
    async with db.uow() as uow:
        [after] = await uow.notices.for_user(user_id)
        assert (after.attempts, after.due_at) == (1, clock.now() + timedelta(minutes=5))
