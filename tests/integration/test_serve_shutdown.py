"""`stvs serve` stopped by SIGTERM under load, as `docker stop` or `systemctl stop` does it: the server
runs as its own process (webhook mode, its Bot API client pointed at the fake one), volunteers' updates
arrive concurrently, and SIGTERM comes while they do and while the dispatcher holds claimed notices."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.clock import SystemClock
from core.domain.codes import Channel
from core.services.notices import enqueue
from core.services.users import ensure_user
from storage import migrate
from storage.database import Database
from storage.tables import deliveries, notices
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates

REPO = Path(__file__).resolve().parents[2]
SECRET = "shutdown-test_secret"
NOTICES = 12
UPDATES = 120
SIGTERM_AFTER = 30  # answers
CONCURRENCY = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _queue_notices(url: str) -> list[int]:
    """Notices due now to Telegram users; their chat ids."""
    db, clock = Database(url), SystemClock()
    chats = [4_200_000_000 + i for i in range(NOTICES)]
    try:
        async with db.uow() as uow:
            for chat in chats:
                user = await ensure_user(uow, clock, Channel.TELEGRAM, str(chat))
                assert user.id is not None
                await enqueue(
                    uow, clock, f"ops-test:{chat}", user.id, "notice.promoted", title="讲座", start="-"
                )
            await uow.commit()
    finally:
        await db.dispose()
    return chats


async def _until(condition: Any, what: str, process: asyncio.subprocess.Process, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"stvs serve exited ({process.returncode}) before {what}")
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {what} within {within} s")


async def test_sigterm_under_load_finishes_what_was_accepted_and_releases_claims(
    tmp_path: Path, fake_telegram: FakeTelegramAPI, blank_db_url: str
) -> None:
    await migrate.upgrade(blank_db_url)
    notice_chats = await _queue_notices(blank_db_url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STVS_")}
    env |= {
        "PYTHONPATH": str(REPO),
        "STVS_DATA_DIR": str(tmp_path / "data"),
        "STVS_DATA_KEY": Fernet.generate_key().decode(),
        "STVS_DATABASE_URL": blank_db_url,
        "STVS_HTTP_PORT": str(port),
        "STVS_TELEGRAM_TOKEN": TEST_BOT_TOKEN,
        "STVS_TELEGRAM_API_BASE": fake_telegram.base_url,
        "STVS_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "STVS_TELEGRAM_BOT_USERNAME": "stvs_test_bot",
        # One notice every 2 s: the dispatcher still holds most of its claims when SIGTERM comes.
        "STVS_TELEGRAM_PER_SECOND": "0.5",
        "STVS_SHUTDOWN_TIMEOUT_S": "3",
        "STVS_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    people = [Person(id=7_100_000_000 + i, first_name=f"负载志愿者{i}") for i in range(UPDATES)]
    updates = TelegramUpdates()
    sent_updates = [updates.command("start", "", person=p) for p in people]
    answers: dict[int, dict[str, Any] | None] = {}  # update_id → the webhook's answer, None: not taken
    try:

        async def healthy() -> bool:
            try:
                async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        async def a_notice_went_out() -> bool:
            return any(
                c.ok and c.params.get("chat_id") in notice_chats for c in fake_telegram.calls("sendMessage")
            )

        await _until(healthy, "/healthz answering 200", process)
        await _until(a_notice_went_out, "a notice sent", process)

        gate = asyncio.Semaphore(CONCURRENCY)
        answered = asyncio.Event()
        # A new connection for each update, as Telegram opens them: no keep-alive race at the stop.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(update: dict[str, Any]) -> None:
                async with gate:
                    try:
                        async with session.post(
                            f"{base}/telegram/webhook",
                            json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                        ) as response:
                            assert response.status == 200, (response.status, await response.text())
                            answers[update["update_id"]] = await response.json()
                    except aiohttp.ClientConnectionError:
                        answers[update["update_id"]] = None  # refused or cut before it was read
                    if sum(a is not None for a in answers.values()) >= SIGTERM_AFTER:
                        answered.set()

            async def stop_midway() -> None:
                await answered.wait()
                process.send_signal(signal.SIGTERM)

            stopper = asyncio.create_task(stop_midway())
            await asyncio.gather(*(post(u) for u in sent_updates))
            answered.set()
            await stopper
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()

    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 0, stderr
    assert f"127.0.0.1:{port}" in stdout, stdout
    assert "Traceback" not in stderr, [x for x in stderr.splitlines() if "Traceback" in x][:3]

    # Every update the server took was answered: the reply in the webhook's answer (or sent by the
    # Bot API), and its delivery recorded; none it did not answer left a trace.
    taken = {uid for uid, answer in answers.items() if answer is not None}
    assert len(answers) == UPDATES and len(taken) >= SIGTERM_AFTER
    chat_of = {u["update_id"]: u["message"]["chat"]["id"] for u in sent_updates}
    api_chats = {c.params.get("chat_id") for c in fake_telegram.calls("sendMessage") if c.ok}
    for uid in taken:
        answer = answers[uid]
        assert answer is not None
        assert answer.get("chat_id") == chat_of[uid] or chat_of[uid] in api_chats, (uid, answer)

    db = Database(blank_db_url)
    try:
        async with db.uow() as uow:
            recorded = {
                int(key)
                for (key,) in await uow.session.execute(
                    select(deliveries.c.key).where(deliveries.c.channel == str(Channel.TELEGRAM))
                )
            }
            rows = (await uow.session.execute(select(notices))).mappings().all()
    finally:
        await db.dispose()
    assert recorded == taken

    # Each notice was sent once at most; those not sent are due again now, their claim undone
    # (no attempt used), not left under the two-minute lease.
    now = SystemClock().now()
    sent_to = [c.params.get("chat_id") for c in fake_telegram.calls("sendMessage") if c.ok]
    unsent = [r for r in rows if r["sent_at"] is None]
    assert unsent, "the dispatcher sent every notice before the stop: nothing was left to release"
    for row in rows:
        chat = int(row["key"].split(":")[1])
        assert sent_to.count(chat) == (1 if row["sent_at"] is not None else 0), row
        assert not row["failed"]
    for row in unsent:
        assert row["attempts"] == 0, row
        assert row["due_at"] <= now + timedelta(seconds=1), row

    # The logs are JSON, one line per turn for each update taken, with no names or Telegram ids.
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    turns = [line for line in lines if line.get("event") == "turn"]
    assert sorted(int(t["delivery"]) for t in turns) == sorted(taken)
    assert {t["outcome"] for t in turns} == {"ok"} and {t["route"] for t in turns} == {"start"}
    assert any("released" in line["msg"] for line in lines), lines[-5:]
    assert "负载志愿者" not in stderr and str(people[0].id) not in stderr
