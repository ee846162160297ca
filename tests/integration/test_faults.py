"""Faults, through the real endpoints: the database goes away in the middle of a turn (the commit
fails as on a restart or a failover). The user hears an apology, the update is not marked handled,
the platform is asked to deliver it again (503), and that delivery, with the database back, is
answered as if nothing had happened. Nothing personal reaches the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from core.domain.codes import Channel
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database, SqlUnitOfWork
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]

PERSON = Person(id=5_700_000_001, first_name="志愿者", language_code="zh-hans")
SECRET_WORD = "13912345678"  # typed by the user: it must not reach the log


class Outage:
    """While ``down``, every commit fails as a dropped connection makes it fail."""

    def __init__(self) -> None:
        self.down = False
        self.failed = 0


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    state = Outage()
    real_commit = SqlUnitOfWork.commit

    async def commit(self: SqlUnitOfWork) -> None:
        if state.down:
            state.failed += 1
            raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))
        await real_commit(self)

    monkeypatch.setattr(SqlUnitOfWork, "commit", commit)
    yield state


async def _handled(db: Database, channel: Channel, key: str) -> bool:
    """Whether the delivery was recorded as handled (a second one would be skipped)."""
    async with db.uow() as uow:
        first = await uow.deliveries.first_time(channel, key, datetime(2030, 1, 1, tzinfo=UTC))
        await uow.rollback()
    return not first


async def test_telegram_update_during_an_outage_is_delivered_again_and_answered(
    db, chat, fake_telegram, outage, caplog
) -> None:
    user = chat(PERSON)
    await user.say("/start")  # a known user with a dialog
    update = user.updates.text(f"我的手机 {SECRET_WORD}", person=PERSON)
    help_update = user.updates.command("help", person=PERSON)

    outage.down = True
    with caplog.at_level(logging.INFO):
        assert await user.post(help_update) == 503  # Telegram delivers it again
        assert await user.post(update) == 503
    assert outage.failed == 2
    apologies = [m["text"] for m in user.new_messages()]
    assert apologies == ["抱歉，出了点问题，请稍后再试。"] * 2
    assert not await _handled(db, Channel.TELEGRAM, str(help_update["update_id"]))
    assert SECRET_WORD not in caplog.text and "update " in caplog.text

    outage.down = False
    assert await user.post(help_update) == 200  # the same update, again
    assert "常用命令" in "\n".join(m["text"] for m in user.new_messages())
    assert await _handled(db, Channel.TELEGRAM, str(help_update["update_id"]))
    assert await user.post(help_update) == 200  # and once handled, a third delivery is skipped
    assert user.new_messages() == []


async def test_wechat_message_during_an_outage_is_left_for_wechat_to_deliver_again(
    db, wechat, outage, caplog
) -> None:
    user = wechat("o_fault_wechat_1")
    await user.subscribe()
    xml = user.messages.text(user.openid, "菜单", msg_id=987_654_321)

    outage.down = True
    with caplog.at_level(logging.INFO):
        status, _ = await user.post(xml)
    assert status == 503 and outage.failed == 1
    assert user.openid not in caplog.text
    assert not await _handled(db, Channel.WECHAT, "987654321")

    outage.down = False
    status, body = await user.post(xml)  # WeChat's retry: the same MsgId
    assert status == 200 and "找活动" in user.read(body)
    assert await _handled(db, Channel.WECHAT, "987654321")


async def test_a_bug_is_not_retried_for_ever(db, chat, monkeypatch, caplog) -> None:
    """Not every failure is an outage: a turn that fails on a broken rule or a bug is answered with
    the apology and acknowledged (a redelivery would fail the same way)."""
    user = chat(PERSON)
    await user.say("/start")

    async def broken(self: SqlUnitOfWork) -> None:
        raise IntegrityError("INSERT", {}, ValueError("a broken invariant"))

    monkeypatch.setattr(SqlUnitOfWork, "commit", broken)
    update = user.updates.command("help", person=PERSON)
    assert await user.post(update) == 200
    assert [m["text"] for m in user.new_messages()] == ["抱歉，出了点问题，请稍后再试。"]


async def _dispatch(app_client, db, clock) -> int:
    from tests.integration.test_telegram_webhook import SERVICES

    messengers = app_client.app[SERVICES].messengers
    return (await dispatch_due(db.uow, clock, messengers, translator)).sent


async def test_a_reply_the_bot_api_refuses_with_5xx_is_said_from_the_outbox(
    db, chat, fake_telegram, app_client, clock
) -> None:
    control = chat(Person(id=5_700_000_002, first_name="对照", language_code="zh-hans"))
    await control.say("/cancel")  # 已取消 and the menu
    control_said = control.last
    expected = [m["text"] for m in control_said]
    assert len(expected) >= 2  # a turn that sends one message and carries the last in the webhook answer

    user = chat(PERSON)
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=PERSON.id)
    update = user.updates.command("cancel", person=PERSON)
    assert await user.post(update) == 200  # the turn is written: nothing to deliver again
    assert user.new_messages() == []  # the first failed; the last waits behind it, not in the answer
    assert await _handled(db, Channel.TELEGRAM, str(update["update_id"]))

    assert await _dispatch(app_client, db, clock) == len(expected)
    said = user.new_messages()
    assert [m["text"] for m in said] == expected  # every reply, in order, with its buttons
    assert [_buttons(m) for m in said] == [_buttons(m) for m in control_said]
    assert await _dispatch(app_client, db, clock) == 0  # and once


def _buttons(message: dict) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]
