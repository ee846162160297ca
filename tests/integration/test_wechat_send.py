"""Sending actively in WeChat (bots.wechat.send) against the fake WeChat API, on each database:
the customer-service window, the template fallback, the shared access token and WeChat's errcodes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bots.wechat.api import DatabaseTokens, WeChatApi
from bots.wechat.send import Template, WeChatMessenger, template_field
from bots.wechat.window import WINDOW_MESSAGES, note_inbound
from core.chat.messages import Choice, Link, Say
from core.domain.codes import Channel
from core.ports import DeliveryFailed
from core.services.notices import enqueue
from core.services.users import ensure_user
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.wechat_api import TEST_TEMPLATE_ID, FakeWeChatAPI

pytestmark = pytest.mark.db

OPENID = "oUser_0123456789abcdefghijklm"
CUSTOM, TEMPLATE = "message/custom/send", "message/template/send"


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api


def make_messenger(
    db: Database,
    clock: FakeClock,
    wechat: FakeWeChatAPI,
    *,
    template_id: str = TEST_TEMPLATE_ID,
    timeout: float = 5.0,
) -> WeChatMessenger:
    tokens = DatabaseTokens(db.uow, clock, wechat.app_id)
    api = WeChatApi(wechat.app_id, wechat.secret, tokens, base_url=wechat.base_url, timeout=timeout)
    return WeChatMessenger(api, db.uow, clock, translator, Template.parse(template_id))


@pytest.fixture
async def messenger(db: Database, clock: FakeClock, wechat: FakeWeChatAPI) -> AsyncIterator[WeChatMessenger]:
    sender = make_messenger(db, clock, wechat)
    yield sender
    await sender.close()


async def user_writes(db: Database, clock: FakeClock, openid: str = OPENID, language: str = "zh_CN") -> int:
    """What the receiving side does for each message: the user exists, and their window opens."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, openid, language=language)
        await note_inbound(uow, openid, clock.now())
        await uow.commit()
    assert user.id is not None
    return user.id


async def window(db: Database, openid: str = OPENID) -> tuple[object, int] | None:
    async with db.uow() as uow:
        return await uow.wechat_windows.get(openid)


# ---- the window ---------------------------------------------------------------------------------


async def test_a_message_opens_five_texts_then_templates(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    for number in range(WINDOW_MESSAGES + 1):
        clock.advance(hours=1)
        await messenger.send(OPENID, [Say(f"通知 {number}")])
    assert wechat.texts(OPENID) == [f"通知 {n}" for n in range(WINDOW_MESSAGES)]
    assert len(wechat.templates(OPENID)) == 1
    assert (await window(db) or (None, 0))[1] == WINDOW_MESSAGES


async def test_the_window_closes_48_hours_after_the_users_message(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    clock.advance(hours=47, minutes=59)
    await messenger.send(OPENID, [Say("还在窗口内")])
    clock.advance(minutes=2)
    await messenger.send(OPENID, [Say("窗口已过")])
    assert wechat.texts(OPENID) == ["还在窗口内"]
    assert len(wechat.templates(OPENID)) == 1

    await user_writes(db, clock)  # a new message opens a new window, with five messages again
    await messenger.send(OPENID, [Say("新窗口")])
    assert wechat.texts(OPENID) == ["还在窗口内", "新窗口"]


async def test_a_user_who_never_wrote_gets_a_template(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await messenger.send("oStranger", [Say("活动提醒\n明天 9:00 开始")])
    assert wechat.texts() == []
    [sent] = wechat.templates("oStranger")
    assert sent["template_id"] == TEST_TEMPLATE_ID
    assert sent["data"]["first"] == {"value": "活动提醒"}
    assert sent["data"]["keyword1"] == {"value": "明天 9:00 开始"}


async def test_choices_are_numbered_and_a_digit_then_picks_them(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    user_id = await user_writes(db, clock)
    say = Say("您已转为正式参加。", (Choice("查看活动", "act:7"), Choice("取消报名", "cancel:9")))
    await messenger.send(OPENID, [say])
    assert wechat.texts(OPENID) == ["您已转为正式参加。\n回复 1：查看活动\n回复 2：取消报名"]
    async with db.uow() as uow:
        offered = (await uow.dialogs.for_user(user_id, clock.now())).offered
    assert offered == ["act:7", "cancel:9"]


async def test_english_users_get_english_options(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock, language="en")
    await messenger.send(OPENID, [Say("Moved up from the waitlist.", (Choice("Details", "act:7"),))])
    assert wechat.texts(OPENID) == ["Moved up from the waitlist.\nReply 1: Details"]


# ---- templates ----------------------------------------------------------------------------------


async def test_template_fields_fit_wechats_rules(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    text = (
        "🎉 好消息：您已从候补转为正式参加“青少年科普进校园·人工智能体验课第三期”\n"
        "时间：2026-12-02 09:00–11:30\n地点：市科技馆\t二楼报告厅 😀"
    )
    await messenger.send(OPENID, [Say(text), Link("详情", "https://example.org/a/7")])
    [sent] = wechat.templates(OPENID)  # the fake refuses fields over 20 characters or with newlines
    values = [field["value"] for field in sent["data"].values()]
    assert set(sent["data"]) == {"first", "keyword1", "keyword2", "remark"}
    assert all(len(value) <= 20 and "\n" not in value and "\t" not in value for value in values)
    assert all(set(field) == {"value"} for field in sent["data"].values())  # no colours
    assert not any(ch in value for value in values for ch in "🎉😀")
    assert sent["data"]["first"]["value"].startswith("好消息：您已从候补转为正式参加")
    assert sent["data"]["keyword2"]["value"] == "2026-12-01 09:00"  # 01:00 UTC in Asia/Shanghai
    assert sent["url"] == "https://example.org/a/7"


def test_a_template_field_is_one_short_line() -> None:
    assert template_field("第一行\n第二行") == "第一行 第二行"
    assert (
        template_field("一二三四五六七八九十一二三四五六七八九十一")
        == "一二三四五六七八九十一二三四五六七八九…"
    )
    assert template_field("报名成功 ✅👍🏽") == "报名成功"
    assert template_field("👨‍👩‍👧 家庭科普") == "家庭科普"


def test_the_field_mapping_comes_from_the_settings() -> None:
    template = Template.parse("T", "thing1=title, time2=time ,thing3=text")
    assert template.fields == (("thing1", "title"), ("time2", "time"), ("thing3", "text"))
    with pytest.raises(ValueError):
        Template.parse("T", "first=colour")


async def test_no_template_configured_is_a_clear_temporary_failure(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI
) -> None:
    messenger = make_messenger(db, clock, wechat, template_id="")
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await messenger.send(OPENID, [Say("提醒")])
    finally:
        await messenger.close()
    assert not failed.value.permanent
    assert "STVS_WECHAT_TEMPLATE_NOTICE" in str(failed.value)
    assert wechat.calls() == []


# ---- errcodes -----------------------------------------------------------------------------------


async def test_out_of_window_45015_closes_the_window_and_falls_back_to_a_template_once(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    wechat.fail_next(45015, endpoint=CUSTOM, openid=OPENID)
    await messenger.send(OPENID, [Say("提醒一")])
    assert wechat.texts(OPENID) == []
    assert len(wechat.templates(OPENID)) == 1
    assert (await window(db) or (None, 0))[1] == WINDOW_MESSAGES  # closed

    await messenger.send(OPENID, [Say("提醒二")])  # straight to a template, no customer-service try
    assert len(wechat.templates(OPENID)) == 2
    assert wechat.texts(OPENID) == []


async def test_too_many_customer_service_messages_45047_falls_back_to_a_template(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    wechat.fail_next(45047, endpoint=CUSTOM)
    await messenger.send(OPENID, [Say("提醒")])
    assert len(wechat.templates(OPENID)) == 1


async def test_unsubscribed_43004_is_a_permanent_failure(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    wechat.unsubscribe(OPENID)
    with pytest.raises(DeliveryFailed) as in_window:
        await messenger.send(OPENID, [Say("提醒")])
    assert in_window.value.permanent
    wechat.fail_next(43004, endpoint=TEMPLATE)  # never wrote: the template path
    with pytest.raises(DeliveryFailed) as by_template:
        await messenger.send("oOther", [Say("提醒")])
    assert by_template.value.permanent


async def test_a_refused_token_40001_is_refreshed_once_and_the_call_retried(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    await messenger.send(OPENID, [Say("一")])
    wechat.fail_next(40001)
    await messenger.send(OPENID, [Say("二")])
    assert wechat.texts(OPENID) == ["一", "二"]
    assert wechat.token_fetches == 2


async def test_an_expired_token_42001_is_refreshed(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    await messenger.send(OPENID, [Say("一")])
    wechat.expire_tokens()
    await messenger.send(OPENID, [Say("二")])
    assert wechat.texts(OPENID) == ["一", "二"]
    assert wechat.token_fetches == 2
    assert wechat.calls()[-1].access_token.startswith("TOKEN_2_")


async def test_a_token_refused_twice_is_refreshed_only_once(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await user_writes(db, clock)
    wechat.fail_next(40001)
    wechat.fail_next(40001)
    with pytest.raises(DeliveryFailed) as failed:
        await messenger.send(OPENID, [Say("提醒")])
    assert not failed.value.permanent
    assert wechat.token_fetches == 2  # the first fetch, and one refresh


async def test_a_hanging_wechat_is_a_temporary_failure(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI
) -> None:
    messenger = make_messenger(db, clock, wechat, timeout=0.2)
    wechat.delay = 1.0
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await messenger.send(OPENID, [Say("提醒")])
    finally:
        await messenger.close()
    assert not failed.value.permanent
    assert "network" in str(failed.value)


# ---- the access token ---------------------------------------------------------------------------


async def test_the_access_token_is_fetched_once_and_shared_through_the_database(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await asyncio.gather(*(messenger.send(f"oUser{n}", [Say(f"提醒 {n}")]) for n in range(100)))
    assert len(wechat.templates()) == 100
    assert wechat.token_fetches == 1

    other = make_messenger(db, clock, wechat)  # another instance of the server, on the same database
    try:
        await other.send("oUser0", [Say("再次提醒")])
    finally:
        await other.close()
    assert wechat.token_fetches == 1
    assert len({call.access_token for call in wechat.calls()}) == 1


async def test_a_token_past_its_lifetime_is_fetched_again(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    await messenger.send(OPENID, [Say("一")])
    clock.advance(hours=2)
    await messenger.send(OPENID, [Say("二")])
    assert wechat.token_fetches == 2


# ---- through the scheduler ----------------------------------------------------------------------


async def test_the_dispatcher_delivers_a_notice_through_wechat(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    user_id = await user_writes(db, clock)
    async with db.uow() as uow:
        await enqueue(
            uow, clock, "promoted:1", user_id, "notice.promoted", title="科普讲座", start="12-02 09:00"
        )
        await uow.commit()
    result = await dispatch_due(db.uow, clock, {Channel.WECHAT: messenger}, translator)
    assert (result.sent, result.failed) == (1, 0)
    [text] = wechat.texts(OPENID)
    assert "科普讲座" in text
    async with db.uow() as uow:
        [notice] = await uow.notices.for_user(user_id)
        assert notice.sent_at is not None


async def test_the_dispatcher_marks_a_notice_to_an_unsubscribed_user_failed(
    db: Database, clock: FakeClock, wechat: FakeWeChatAPI, messenger: WeChatMessenger
) -> None:
    user_id = await user_writes(db, clock)
    wechat.unsubscribe(OPENID)
    async with db.uow() as uow:
        await enqueue(
            uow, clock, "promoted:2", user_id, "notice.promoted", title="科普讲座", start="12-02 09:00"
        )
        await uow.commit()
    result = await dispatch_due(db.uow, clock, {Channel.WECHAT: messenger}, translator)
    assert (result.sent, result.failed) == (0, 1)
    async with db.uow() as uow:
        [notice] = await uow.notices.for_user(user_id)
        assert notice.failed and notice.sent_at is None
        assert "unsubscribed" in (notice.last_error or "")
