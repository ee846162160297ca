"""Tried as a new user would: `stvs serve --polling` against the fake Bot API, two volunteers
registering, one signing up, the other joining the waitlist and getting the place on a cancel."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from bots.serve import serve
from bots.settings import Settings
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates

FIRST = Person(id=5_100_000_001, first_name="志愿者甲", language_code="zh-hans")
SECOND = Person(id=5_100_000_002, first_name="志愿者乙", language_code="zh-hans")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PollingChat:
    def __init__(self, api: FakeTelegramAPI, person: Person, updates: TelegramUpdates) -> None:
        self.api, self.person, self.updates, self.seen = api, person, updates, 0
        self.last: list[dict[str, Any]] = []

    def _mine(self) -> list[dict[str, Any]]:
        return [
            c.result
            for c in self.api.calls("sendMessage")
            if c.ok and c.result["chat"]["id"] == self.person.id
        ]

    async def send(self, update: dict[str, Any]) -> str:
        self.api.push_update(update)
        for _ in range(200):  # the bot polls on its own; wait for its answer to arrive
            await asyncio.sleep(0.05)
            mine = self._mine()
            if len(mine) > self.seen and not self.api.pending_updates():
                await asyncio.sleep(0.1)
                mine = self._mine()
                self.last, self.seen = mine[self.seen :], len(mine)
                return "\n".join(m["text"] for m in self.last)
        raise AssertionError("the bot did not answer")

    async def say(self, text: str) -> str:
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return await self.send(self.updates.command(name, args, person=self.person))
        return await self.send(self.updates.text(text, person=self.person))

    async def press(self, label: str) -> str:
        for message in reversed(self.last):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return await self.send(
                            self.updates.callback(
                                button["callback_data"], message=message, person=self.person
                            )
                        )
        raise AssertionError(f"no button {label!r}")


async def test_transcript_register_sign_up_cancel_promote_over_polling(
    tmp_path, fake_telegram, blank_db_url
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=blank_db_url,  # empty: the migrations at start-up make the schema
        telegram_token=TEST_BOT_TOKEN,
        telegram_api_base=fake_telegram.base_url,
        http_port=_free_port(),
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, polling=True, stop=stop))
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if fake_telegram.calls("getUpdates"):
                break
        clock = FakeClock()
        database = Database(settings.resolved_database_url)
        async with database.uow() as uow:
            org = await make_org(uow, clock, "南京市科技志愿服务队")
            admin = await make_admin(uow, clock)
            activity = await make_activity(uow, clock, admin, org.id, capacity=1, title="社区科普讲座")
            await uow.commit()
        await database.dispose()
        updates = TelegramUpdates()
        first, second = (
            PollingChat(fake_telegram, FIRST, updates),
            PollingChat(fake_telegram, SECOND, updates),
        )
        for chat, phone in ((first, "13811110001"), (second, "13811110002")):
            assert "注册" in await chat.say("/start")
            assert "语言" in await chat.press("注册志愿者")
            assert "隐私声明" in await chat.press("中文")
            assert "出生日期" in await chat.press("同意")
            assert "真实姓名" in await chat.say("1990-05-01")
            assert "手机号" in await chat.say("张三")
            assert "专业领域" in await chat.say(phone)
            await chat.press("医学")
            assert "服务内容" in await chat.press("完成")
            await chat.press("科普讲座")
            assert "地区" in await chat.press("完成")
            assert "组织" in await chat.say("江苏省南京市")
            assert "注册成功" in await chat.press("南京市科技志愿服务队")
        assert "社区科普讲座" in await first.say(f"/start act-{activity.id}")
        assert "报名成功" in await first.press("我要报名")
        await second.say(f"/start act-{activity.id}")
        assert "名额已满" in await second.press("我要报名")
        assert "第 1 位" in await second.press("加入候补")
        await first.say("/my")
        await first.press("社区科普讲座")
        await first.press("取消报名")
        assert "已取消" in await first.press("确定取消")
        for _ in range(100):  # the scheduler's dispatcher tells the promoted volunteer
            await asyncio.sleep(0.1)
            texts = [m["text"] for m in second._mine()]
            if any("从候补转为正式参加" in t for t in texts):
                break
        else:
            raise AssertionError("the promoted volunteer was not told")
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
