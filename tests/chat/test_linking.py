"""Linking chat apps with a one-time code (issue 3), channel-neutral: a volunteer registered in one
app links their account in the other, and from then on both see (and are reached as) one volunteer."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.chat.conversation import Conversation
from core.chat.messages import Reply
from core.chat.routes import build_routes
from core.domain.codes import Channel
from core.domain.linking import hash_code
from core.domain.people import ConsentKind
from core.policy import Policy
from core.ports import DeliveryFailed
from core.services.notices import enqueue
from core.services.users import ensure_user
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.chat.conftest import ChatUser
from tests.fakes.clock import FakeClock

OPENID = "oWx_linking_test_openid_0001"


async def _volunteer(
    db: Database,
    clock: FakeClock,
    channel: Channel,
    external_id: str,
    name: str = "张三",
    phone: str = "13812345678",
) -> tuple[int, str]:
    """A registered volunteer behind one channel identity: (user id, volunteer number)."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, channel, external_id)
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(name=name, phone=phone, region="江苏省南京市玄武区")
        volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
        await uow.commit()
    return user.id, volunteer.volunteer_number or ""


async def _code(user: ChatUser) -> str:
    await user.text("/profile")
    await user.press("关联其他平台账号")
    match = re.search(r"/link (\d{6})", user.texts())
    assert match, user.texts()
    return match[1]


async def _owner(db: Database, channel: Channel, external_id: str) -> int:
    async with db.uow() as uow:
        identity = await uow.identities.get(channel, external_id)
        return identity.user_id


class RecordingMessenger:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        if self.fail:
            raise DeliveryFailed("unreachable")
        self.sent.extend((external_id, getattr(r, "text", "")) for r in replies)


async def test_link_code_moves_the_other_apps_identity_onto_the_profile(db, clock, chat_user) -> None:
    owner, number = await _volunteer(db, clock, Channel.TELEGRAM, "7101")
    telegram = chat_user("7101")
    code = await _code(telegram)
    assert "10 分钟内有效" in telegram.texts() and "在另一个平台" in telegram.texts()

    wechat = chat_user(OPENID, channel=Channel.WECHAT)
    await wechat.text("/link")
    assert "6 位关联码" in wechat.texts() and "123456" in wechat.texts()
    await wechat.text(f" {code} ")
    assert "关联成功" in wechat.texts() and number in wechat.texts()
    await wechat.text("/profile")
    assert f"志愿者编号：{number}" in wechat.texts()

    async with db.uow() as uow:
        identity = await uow.identities.get(Channel.WECHAT, OPENID)
        assert identity.user_id == owner
        assert {i.channel for i in await uow.identities.for_user(owner)} == {Channel.TELEGRAM, Channel.WECHAT}
        [redeemed] = [e for e in await uow.audit.for_entity("user", owner) if e.action == "link.redeem"]
        former = redeemed.details["from_user"]
        assert former != owner and await uow.users.get(former) is not None  # kept, nothing deleted
        row = await uow.link_codes.latest_for_update(hash_code(code))
        assert row.used_at == clock.now() and row.used_by_identity == identity.id
        assert row.code_hash != code and len(row.code_hash) == 64  # only the hash is stored

    # A notice for the volunteer reaches them through either identity.
    async with db.uow() as uow:
        await enqueue(uow, clock, "test:linked:1", owner, "chat.link.done")
        await enqueue(uow, clock, "test:linked:2", owner, "chat.link.done")
        await uow.commit()
    wechat_out, telegram_out = RecordingMessenger(), RecordingMessenger()
    messengers = {Channel.WECHAT: wechat_out, Channel.TELEGRAM: telegram_out}
    result = await dispatch_due(db.uow, clock, messengers, translator, limit=1)
    assert result.sent == 1 and len(wechat_out.sent + telegram_out.sent) == 1
    reached = (wechat_out.sent + telegram_out.sent)[0][0]
    assert reached in (OPENID, "7101")
    # The identity reached first is unreachable now: the other one of the set gets the notice.
    first, other = (wechat_out, telegram_out) if reached == OPENID else (telegram_out, wechat_out)
    first.fail = True
    assert (await dispatch_due(db.uow, clock, messengers, translator)).sent == 1
    assert len(other.sent) == 1 and other.sent[0][0] in (OPENID, "7101") and other.sent[0][0] != reached


async def test_expired_code_is_refused(db, clock, chat_user) -> None:
    await _volunteer(db, clock, Channel.TELEGRAM, "7102")
    code = await _code(chat_user("7102"))
    clock.advance(minutes=10)
    wechat = chat_user(OPENID, channel=Channel.WECHAT)
    await wechat.text(f"/link {code}")
    assert "已过期" in wechat.texts() and "/link" in wechat.texts()
    assert await _owner(db, Channel.WECHAT, OPENID) != await _owner(db, Channel.TELEGRAM, "7102")


async def test_used_code_is_refused(db, clock, chat_user) -> None:
    owner, _ = await _volunteer(db, clock, Channel.TELEGRAM, "7103")
    code = await _code(chat_user("7103"))
    await chat_user(OPENID, channel=Channel.WECHAT).text(f"/link {code}")
    assert await _owner(db, Channel.WECHAT, OPENID) == owner
    second = chat_user(OPENID + "_2", channel=Channel.WECHAT)
    await second.text(f"/link {code}")
    assert "已经使用过" in second.texts()
    assert await _owner(db, Channel.WECHAT, OPENID + "_2") != owner


async def test_a_new_code_replaces_the_earlier_one(db, clock, chat_user) -> None:
    await _volunteer(db, clock, Channel.TELEGRAM, "7104")
    telegram = chat_user("7104")
    first = await _code(telegram)
    second = await _code(telegram)
    wechat = chat_user(OPENID, channel=Channel.WECHAT)
    if first != second:
        await wechat.text(f"/link {first}")
        assert "已过期" in wechat.texts()
    await wechat.text(f"/link {second}")
    assert "关联成功" in wechat.texts()


async def test_wrong_codes_are_limited_to_five_an_hour_across_instances(db, clock, chat_user) -> None:
    owner, _ = await _volunteer(db, clock, Channel.TELEGRAM, "7105")
    code = await _code(chat_user("7105"))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    wechat = chat_user(OPENID, channel=Channel.WECHAT)
    await wechat.text("/link 12ab")
    assert "6 位数字" in wechat.texts()  # a malformed code is explained, not counted
    for left in (4, 3, 2, 1, 0):
        await wechat.text(f"/link {wrong}")
        assert "关联码不正确" in wechat.texts() and f"还可以输错 {left} 次" in wechat.texts()
    # Another server instance (a second Conversation on the same database) holds to the same limit.
    elsewhere = ChatUser(
        Conversation(db.uow, clock, Policy(), translator, build_routes()), OPENID, channel=Channel.WECHAT
    )
    await elsewhere.text(f"/link {code}")
    assert "已达 5 次" in elsewhere.texts() and "1 小时后" in elsewhere.texts()
    assert await _owner(db, Channel.WECHAT, OPENID) != owner

    clock.advance(hours=1, minutes=1)
    code = await _code(chat_user("7105"))
    await wechat.text(f"/link {code}")
    assert "关联成功" in wechat.texts()
    assert await _owner(db, Channel.WECHAT, OPENID) == owner


async def test_two_profiles_are_not_merged_in_chat(db, clock, chat_user) -> None:
    owner, _ = await _volunteer(db, clock, Channel.TELEGRAM, "7106")
    await _volunteer(db, clock, Channel.WECHAT, OPENID, name="李四", phone="13912345678")
    code = await _code(chat_user("7106"))
    wechat = chat_user(OPENID, channel=Channel.WECHAT)
    await wechat.text(f"/link {code}")
    assert "已经有自己的志愿者档案" in wechat.texts() and "工作人员" in wechat.texts()
    assert await _owner(db, Channel.WECHAT, OPENID) != owner
    # The code was not spent on the refusal.
    async with db.uow() as uow:
        assert (await uow.link_codes.latest_for_update(hash_code(code))).used_at is None


async def test_the_code_must_come_from_the_other_app(db, clock, chat_user) -> None:
    await _volunteer(db, clock, Channel.TELEGRAM, "7107")
    telegram = chat_user("7107")
    code = await _code(telegram)
    await telegram.text(f"/link {code}")
    assert "当前账号生成" in telegram.texts()


async def test_link_in_english(db, clock, chat_user) -> None:
    await _volunteer(db, clock, Channel.TELEGRAM, "7108")
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "7108")
        user.language = "en"
        await uow.commit()
    telegram = chat_user("7108", "en")
    await telegram.text("/link")
    assert "Your link code" in telegram.texts() and "/link " in telegram.texts()
    wechat = chat_user(OPENID, "en", channel=Channel.WECHAT)
    code = re.search(r"/link (\d{6})", telegram.texts())[1]
    await wechat.text(f"/link {(int(code) + 1) % 1_000_000:06d}")
    assert "not right" in wechat.texts()
    await wechat.text(f"/link {code}")
    assert "Linked" in wechat.texts() and "Volunteer number" in wechat.texts()
