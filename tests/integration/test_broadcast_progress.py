"""The call for volunteers as one progress card (2-7.2, 3-6.1.3.3): sent, failed and still to go, counted
from the call's notices; 刷新 rewrites the card in place on Telegram (editMessageText on the message
the button was on) and answers with it anew on WeChat, which cannot edit; 停止发送 withdraws what is
not sent yet, and the dispatcher sends none of it."""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from core.chat.messages import Reply, Say
from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.ports import DeliveryFailed
from core.services.broadcasts import broadcast_recruitment
from core.services.users import ensure_user, grant_role
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person
from tests.integration.test_telegram_webhook import Chat
from tests.integration.two_channels import app_client, chat, messenger, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "messenger", "mode", "settings", "signer", "wechat"]

ORG = "南京市玄武区科技志愿服务队"
TITLE = "社区防诈骗科普讲座"
STAFF = Person(id=5_300_000_001, first_name="组织者", language_code="zh-hans")
STAFF_OPENID = "oProgressStaff00000000000001"
T = TypeVar("T")


class Volunteers:
    """The volunteers' side of the outbox: who got the call; a blocked one refuses it (403)."""

    def __init__(self) -> None:
        self.got: list[str] = []
        self.blocked: set[str] = set()

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        if external_id in self.blocked:
            raise DeliveryFailed("blocked: Forbidden: bot was blocked by the user", permanent=True)
        assert isinstance(replies[0], Say) and replies[0].text.startswith("【招募】")
        self.got.append(external_id)


async def _world(db: Database, clock: FakeClock, *, staff_on: Channel, staff_id: str) -> list[str]:
    """An activity open to sign-ups, four members who would take it, and its staff on one channel.
    Returns the volunteers' Telegram ids, in the order the call reaches them."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        admin = await make_admin(uow, clock)
        await make_activity(uow, clock, admin, org.id, title=TITLE)
        ids = []
        for name in ("张一", "王二", "李三", "赵四"):
            _, actor = await make_volunteer(uow, clock, org_id=org.id, name=name)
            (identity,) = await uow.identities.for_user(actor.user_id)
            ids.append(identity.external_id)
        user = await ensure_user(uow, clock, staff_on, staff_id)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return ids


def _card(api: FakeTelegramAPI) -> dict[str, Any]:
    """The staff's last message, as it stands now (after edits)."""
    return api.messages(STAFF.id)[-1]


async def _press_on_card(staff: Chat, api: FakeTelegramAPI, label: str) -> None:
    card = _card(api)
    for row in card["reply_markup"]["inline_keyboard"]:
        for button in row:
            if label in button["text"]:
                await staff.send(staff.updates.callback(button["callback_data"], message=card, person=STAFF))
                return
    raise AssertionError(f"no button {label!r} on the card {card}")


async def _dispatch(db: Database, clock: FakeClock, volunteers: Volunteers, limit: int | None = None) -> int:
    messengers = {Channel.TELEGRAM: volunteers}
    return (await dispatch_due(db.uow, clock, messengers, translator, limit=limit)).sent


async def test_in_telegram_the_card_updates_in_place_and_stop_withdraws_the_rest(
    db: Database, clock: FakeClock, chat, fake_telegram: FakeTelegramAPI
) -> None:
    ids = await _world(db, clock, staff_on=Channel.TELEGRAM, staff_id=str(STAFF.id))
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press(TITLE)
    await staff.press("广播招募")
    text = await staff.press("确定发送")
    assert text.startswith(f"已将“{TITLE}”的招募消息加入发送队列，共 4 人")
    assert "已发送 0 · 发送失败 0 · 待发送 4" in text
    card_id = _card(fake_telegram)["message_id"]

    volunteers = Volunteers()
    volunteers.blocked.add(ids[1])
    assert await _dispatch(db, clock, volunteers, limit=2) == 1  # the second one blocked the bot
    clock.advance(seconds=5)
    sent_before = len(fake_telegram.calls("sendMessage"))
    await _press_on_card(staff, fake_telegram, "刷新")
    card = _card(fake_telegram)
    assert card["message_id"] == card_id and "edit_date" in card  # the same message, rewritten
    assert len(fake_telegram.calls("sendMessage")) == sent_before  # and no new one
    assert fake_telegram.last("editMessageText").params["message_id"] == card_id
    assert "已发送 1 · 发送失败 1 · 待发送 2" in card["text"]
    assert "正在按平台的发送速度陆续送达" in card["text"]

    clock.advance(seconds=5)
    await _press_on_card(staff, fake_telegram, "停止发送")
    card = _card(fake_telegram)
    assert card["message_id"] == card_id
    assert "已发送 1 · 发送失败 1 · 待发送 0" in card["text"]
    assert "已停止发送：2 条尚未发出的消息不再发送" in card["text"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["查看活动"]  # nothing left to refresh or stop

    assert await _dispatch(db, clock, volunteers) == 0
    assert volunteers.got == [ids[0]]  # the two after the stop were never sent


async def test_in_wechat_a_refresh_answers_with_the_card_anew(db: Database, clock: FakeClock, wechat) -> None:
    ids = await _world(db, clock, staff_on=Channel.WECHAT, staff_id=STAFF_OPENID)
    staff = wechat(STAFF_OPENID)
    await staff.say("/organizer")
    await staff.pick("本组织活动")
    await staff.pick(TITLE)
    await staff.pick("广播招募")
    text = await staff.pick("确定发送")
    assert "已发送 0 · 发送失败 0 · 待发送 4" in text
    assert "回复“刷新”前的数字看最新进度" in text and staff.options()[:2] == ["🔄 刷新", "⏹ 停止发送"]

    volunteers = Volunteers()
    assert await _dispatch(db, clock, volunteers) == 4
    text = await staff.pick("刷新")
    assert "已发送 4 · 发送失败 0 · 待发送 0" in text
    assert "发送完毕" in text and staff.options() == ["查看活动"]
    assert sorted(volunteers.got) == sorted(ids)


async def test_only_staff_of_the_activity_see_a_call_and_a_made_up_call_is_refused(
    db: Database, clock: FakeClock, chat, fake_telegram: FakeTelegramAPI
) -> None:
    await _world(db, clock, staff_on=Channel.TELEGRAM, staff_id=str(STAFF.id))
    staff = chat(STAFF)
    stranger = chat(Person(id=5_300_000_099, first_name="路人", language_code="zh-hans"))
    await stranger.say("/start")
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press(TITLE)
    await staff.press("广播招募")
    await staff.press("确定发送")
    payload = _card(fake_telegram)["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    text = await stranger.send(stranger.updates.callback(payload, person=stranger.person))
    assert "已发送" not in text and text  # refused, with a reason
    activity_id = payload.split(":")[1]
    text = await staff.send(staff.updates.callback(f"oa.bcp:{activity_id}:7", person=STAFF))
    assert "找不到这次招募广播" in text


class VirtualTime:
    """Sleeps of the fake clock: they end in time order, the clock moving to the earliest wake-up
    once the tasks have had their turn (no real waiting)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waiting: list[tuple[datetime, int, asyncio.Future[None]]] = []

    async def sleep_until(self, at: datetime) -> None:
        if at <= self.clock.now():
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (at, id(future), future))
        await future

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # the others reach their next wait (or the database answers)
                await asyncio.sleep(0)
            if self.waiting:
                at = self.waiting[0][0]
                self.clock.set(max(self.clock.now(), at))
                while self.waiting and self.waiting[0][0] <= at:
                    heapq.heappop(self.waiting)[2].set_result(None)
        return task.result()


class Timed:
    """Who got the call, and when by the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.got: list[tuple[datetime, str]] = []

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.got.append((self.clock.now(), external_id))


async def test_a_call_to_fifty_volunteers_at_thirty_a_second_reaches_each_once(
    db: Database, clock: FakeClock
) -> None:
    names = [f"{family}{given}" for family in "张王李赵刘" for given in "一二三四五六七八九十"]
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        activity = await make_activity(uow, clock, await make_admin(uow, clock), org.id, title=TITLE)
        staff = await make_staff(uow, clock, org.id)
        for name in names:
            await make_volunteer(uow, clock, org_id=org.id, name=name)
        assert await broadcast_recruitment(uow, clock, staff, activity.id) == 50
        await uow.commit()

    time = VirtualTime(clock)
    pacer = Pacer(clock, {Channel.TELEGRAM: Pace(per_second=30, chat_interval_s=1)}, time.sleep_until)
    timed, start = Timed(clock), clock.now()
    messengers = {Channel.TELEGRAM: timed}
    result = await time.run(dispatch_due(db.uow, clock, messengers, translator, pacer=pacer))
    assert result.sent == 50
    assert sorted(Counter(to for _, to in timed.got).values()) == [1] * 50  # each exactly once
    times = sorted(at for at, _ in timed.got)
    assert max(sum(1 for t in times if s <= t < s + timedelta(seconds=1)) for s in times) == 30
    assert times[-1] - start == timedelta(microseconds=49 * 33_334)  # 30 a second from the first
    assert await dispatch_due(db.uow, clock, {Channel.TELEGRAM: timed}, translator) == type(result)()
