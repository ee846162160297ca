"""A catalogue of bad input, each through the real endpoints (the Telegram webhook, WeChat's /wechat in
safe mode) on both databases: what the bot does not serve is answered with silence, what it cannot read
is answered in words, what is not a well-formed update or message is refused with its HTTP status, and
in every case nothing half-written stays behind: no dialog changed, no delivery recorded for a turn
that did not run, no user made for an update that was dropped, and no error logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bots.app import MAX_UPDATE_BYTES
from bots.wechat.receive import MAX_BODY_BYTES
from core.domain.codes import Channel
from core.services.users import ensure_user
from storage.database import Database
from storage.tables import deliveries
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.fakes.wechat_messages import ACCOUNT, cdata
from tests.integration.conftest import TELEGRAM_SECRET
from tests.integration.test_wechat_receive import WeChatUser
from tests.integration.two_channels import app_client, chat, messenger, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "messenger", "mode", "settings", "signer", "wechat"]

PERSON = Person(id=5_400_000_001, first_name="测试", language_code="zh-hans")
STRANGER = Person(id=5_400_000_002, first_name="路人", language_code="zh-hans")
GROUP = {"id": -1_001_234_567_890, "title": "志愿者群", "type": "supergroup"}
SMALL_GROUP = {"id": -4_123_456_789, "title": "小组", "type": "group"}
CHANNEL = {"id": -1_009_876_543_210, "title": "科普频道", "type": "channel"}
OPENID = "oBadInput00000000000000000001"
# A dialog in the middle of a flow, which an ignored update must leave exactly as it was.
FLOW = ("makeup", "times", {"activity": 7})
NOT_UNDERSTOOD = "抱歉，我没有理解。"
UNREADABLE = "目前只能读懂文字、位置、联系人和照片"
WECHAT_UNSUPPORTED = "目前只能处理文字和位置消息"
WELCOME = "您好！这里是科技志愿服务助手。"


@pytest.fixture(autouse=True)
def no_errors(caplog: pytest.LogCaptureFixture):
    """No case may log an error or an exception: bad input is expected, not a fault."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def _user_id(db: Database, channel: Channel, external_id: str) -> int | None:
    async with db.uow() as uow:
        user = await uow.users.by_identity(channel, external_id)
        return user.id if user is not None else None


async def _in_flow(db: Database, clock: FakeClock, channel: Channel, external_id: str) -> int:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
        state = await uow.dialogs.for_user(user.id, clock.now())
        state.flow, state.step, state.data = FLOW[0], FLOW[1], dict(FLOW[2])
        state.offered = ["menu"]
        await uow.dialogs.save(state)
        await uow.commit()
    return user.id


async def _dialog(db: Database, clock: FakeClock, user_id: int) -> tuple[str, str, dict[str, Any], list[str]]:
    async with db.uow() as uow:
        state = await uow.dialogs.for_user(user_id, clock.now())
        return state.flow, state.step, state.data, state.offered


async def _deliveries(db: Database) -> int:
    async with db.uow() as uow:
        return int((await uow.session.execute(select(func.count()).select_from(deliveries))).scalar_one())


# ---- Telegram ------------------------------------------------------------------------------------

Build = Callable[[TelegramUpdates], dict[str, Any]]


def _service(field: str, value: Any) -> Build:
    return lambda u: u.message({field: value}, person=PERSON)


def _other(kind: str, payload: Callable[[], dict[str, Any]]) -> Build:
    return lambda u: u.other(kind, payload())


def _member(chat: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {
        "chat": chat,
        "from": PERSON.user(),
        "date": 1796086800,
        "old_chat_member": {"status": old, "user": PERSON.user()},
        "new_chat_member": {"status": new, "user": PERSON.user(), "until_date": 0},
    }


_POLL = {
    "id": "5012345678901234567",
    "question": "周末去哪？",
    "options": [
        {"persistent_id": "0", "text": "科技馆", "voter_count": 0},
        {"persistent_id": "1", "text": "社区", "voter_count": 0},
    ],
    "total_voter_count": 0,
    "allows_revoting": False,
    "members_only": False,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
}

# Updates the bot does not serve, and service messages in a private chat: answered with silence.
TELEGRAM_SILENT: dict[str, Build] = {
    "edited text message": lambda u: u.edited_text(u.text("原来的话", person=PERSON), "改过的话"),
    "channel post": lambda u: u.in_chat("channel_post", CHANNEL, {"text": "/start"}),
    "edited channel post": lambda u: u.other(
        "edited_channel_post",
        {"message_id": 9, "chat": CHANNEL, "date": 1796086800, "edit_date": 1796086900, "text": "改"},
    ),
    "supergroup message": lambda u: u.in_chat("message", GROUP, {"text": "/start"}, person=PERSON),
    "group message": lambda u: u.in_chat("message", SMALL_GROUP, {"text": "报名"}, person=PERSON),
    "group photo with caption": lambda u: u.in_chat(
        "message",
        GROUP,
        {
            "photo": [{"file_id": "AgACx", "file_unique_id": "AQADx", "width": 90, "height": 90}],
            "caption": "合影",
        },
        person=PERSON,
    ),
    "inline query": _other(
        "inline_query",
        lambda: {
            "id": "123456789",
            "from": PERSON.user(),
            "query": "科普",
            "offset": "",
            "chat_type": "private",
        },
    ),
    "chosen inline result": _other(
        "chosen_inline_result", lambda: {"result_id": "1", "from": PERSON.user(), "query": "科普"}
    ),
    "poll update": _other("poll", lambda: dict(_POLL)),
    "poll answer": _other(
        "poll_answer",
        lambda: {
            "poll_id": "5012345678901234567",
            "user": PERSON.user(),
            "option_ids": [0],
            "option_persistent_ids": ["0"],
        },
    ),
    "my_chat_member (bot blocked)": _other(
        "my_chat_member", lambda: _member(PERSON.private_chat(), "member", "kicked")
    ),
    "chat_member in a group": _other("chat_member", lambda: _member(GROUP, "left", "member")),
    "chat join request": _other(
        "chat_join_request",
        lambda: {"chat": GROUP, "from": PERSON.user(), "user_chat_id": PERSON.id, "date": 1796086800},
    ),
    "unknown update type": _other("business_future_thing", lambda: {"anything": 1}),
    "pinned message": _service(
        "pinned_message", {"message_id": 3, "chat": PERSON.private_chat(), "date": 1796086800, "text": "置顶"}
    ),
    "auto-delete timer changed": _service(
        "message_auto_delete_timer_changed", {"message_auto_delete_time": 86400}
    ),
    "successful payment": _service(
        "successful_payment",
        {
            "currency": "XTR",
            "total_amount": 1,
            "invoice_payload": "x",
            "telegram_payment_charge_id": "tg1",
            "provider_payment_charge_id": "p1",
        },
    ),
    "gift": _service(
        "gift",
        {
            "gift": {
                "id": "5170145012310081615",
                "sticker": {
                    "file_id": "CAACgift",
                    "file_unique_id": "AgADgift",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": True,
                    "is_video": False,
                },
                "star_count": 15,
            }
        },
    ),
    "video chat scheduled": _service("video_chat_scheduled", {"start_date": 1796090000}),
    "users shared": _service("users_shared", {"request_id": 1, "users": [{"user_id": 5_400_000_009}]}),
    "write access allowed": _service("write_access_allowed", {"from_request": True}),
    "invalid field types": lambda u: {
        **(update := u.text("你好", person=PERSON)),
        "message": {**update["message"], "message_id": "not a number", "date": "yesterday"},
    },
    "message without a chat": lambda u: {
        **(update := u.text("你好", person=PERSON)),
        "message": {k: v for k, v in update["message"].items() if k != "chat"},
    },
    "callback query of wrong shape": lambda u: {
        **(update := u.callback("menu", person=PERSON)),
        "callback_query": {**update["callback_query"], "from": "nobody"},
    },
}


INVALID_UPDATES = frozenset(
    {"invalid field types", "message without a chat", "callback query of wrong shape", "unknown update type"}
)


@pytest.mark.parametrize("case", list(TELEGRAM_SILENT), ids=list(TELEGRAM_SILENT))
async def test_telegram_update_not_served_is_acknowledged_in_silence(
    case: str, db, clock, chat, fake_telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = await _in_flow(db, clock, Channel.TELEGRAM, str(PERSON.id))
    before = await _deliveries(db)
    talk = chat(PERSON)
    response = await talk.client.post(
        "/telegram/webhook",
        json=TELEGRAM_SILENT[case](talk.updates),
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status == 200 and await response.json() == {}  # no method in the answer either
    assert [c.method for c in fake_telegram.calls() if c.method.startswith("send")] == []
    assert await _dialog(db, clock, user_id) == (*FLOW, ["menu"])
    assert await _deliveries(db) == before
    assert await _user_id(db, Channel.TELEGRAM, str(STRANGER.id)) is None
    # Dropped before the dispatcher only when it is not a valid Update: the others are valid and
    # left unanswered on purpose.
    dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert bool(dropped) == (case in INVALID_UPDATES), [r.getMessage() for r in dropped]


# Messages in the private chat that the bot cannot use: answered in words, the dialog unchanged.
TELEGRAM_ANSWERED: dict[str, tuple[Build, str]] = {
    "sticker": (lambda u: u.sticker(person=PERSON), UNREADABLE),
    "voice": (
        _service(
            "voice", {"file_id": "AwACv", "file_unique_id": "AgADv", "duration": 3, "mime_type": "audio/ogg"}
        ),
        UNREADABLE,
    ),
    "video with a caption": (
        lambda u: u.message(
            {
                "video": {
                    "file_id": "BAACv",
                    "file_unique_id": "AgADw",
                    "width": 640,
                    "height": 360,
                    "duration": 5,
                },
                "caption": "09:00-10:30",
            },
            person=PERSON,
        ),
        UNREADABLE,
    ),
    "pdf document with a caption": (
        lambda u: u.document(
            {"file_id": "BQACd", "file_unique_id": "AgADd", "file_size": 2048},
            "证明.pdf",
            "application/pdf",
            caption="我的证明",
            person=PERSON,
        ),
        UNREADABLE,
    ),
    "poll sent by the user": (_service("poll", dict(_POLL)), UNREADABLE),
    "dice": (_service("dice", {"emoji": "🎲", "value": 4}), UNREADABLE),
    "text of 10,000 characters": (lambda u: u.text("长" * 10_000, person=PERSON), NOT_UNDERSTOOD),
    "control characters": (lambda u: u.text("\x00\x07\x1b[31m\x7f", person=PERSON), NOT_UNDERSTOOD),
    "right-to-left marks": (lambda u: u.text("\u202e\u200f报名\u202c\u2066", person=PERSON), NOT_UNDERSTOOD),
    "forged button payload": (lambda u: u.callback("mk.o:99999999999", person=PERSON), "这个按钮已失效"),
    "unknown button payload": (lambda u: u.callback("zz.unknown:1", person=PERSON), "这个按钮已失效"),
    "button without data": (
        lambda u: {
            **(update := u.callback("x", person=PERSON)),
            "callback_query": {k: v for k, v in update["callback_query"].items() if k != "data"},
        },
        "这个按钮已失效",
    ),
}


@pytest.mark.parametrize("case", list(TELEGRAM_ANSWERED), ids=list(TELEGRAM_ANSWERED))
async def test_telegram_message_the_bot_cannot_use_is_answered(case: str, db, clock, chat) -> None:
    build, expected = TELEGRAM_ANSWERED[case]
    talk = chat(PERSON)
    text = await talk.send(build(talk.updates))
    assert text.startswith(expected), text
    assert talk.last[-1].get("reply_markup"), "the answer ends with where to go next"
    assert await talk.say("/help")  # and the next message is served as usual


TELEGRAM_REFUSED: dict[str, tuple[Callable[[TelegramUpdates], bytes], int]] = {
    "not JSON": (lambda u: b"update_id=1&message=hi", 400),
    "invalid UTF-8": (lambda u: b'{"update_id": 1, "message": "\xff\xfe"}', 400),
    "a JSON array": (lambda u: json.dumps([u.text("你好", person=PERSON)]).encode(), 400),
    "no update_id": (
        lambda u: json.dumps({"message": u.text("你好", person=PERSON)["message"]}).encode(),
        400,
    ),
    "update_id as a string": (
        lambda u: json.dumps({**u.text("你好", person=PERSON), "update_id": "7"}).encode(),
        400,
    ),
    "update_id as a boolean": (
        lambda u: json.dumps({**u.text("你好", person=PERSON), "update_id": True}).encode(),
        400,
    ),
    "JSON nested a million deep": (
        lambda u: b'{"update_id": 1, "x": ' + b"[" * 500_000 + b"]" * 500_000 + b"}",
        400,
    ),
    "over a mebibyte": (
        lambda u: json.dumps({**u.text("你好", person=PERSON), "pad": "x" * MAX_UPDATE_BYTES}).encode(),
        413,
    ),
}


@pytest.mark.parametrize("case", list(TELEGRAM_REFUSED), ids=list(TELEGRAM_REFUSED))
async def test_telegram_body_that_is_not_an_update_is_refused(
    case: str, db, clock, chat, fake_telegram: FakeTelegramAPI
) -> None:
    build, status = TELEGRAM_REFUSED[case]
    talk = chat(PERSON)
    response = await talk.client.post(
        "/telegram/webhook",
        data=build(talk.updates),
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"},
    )
    assert response.status == status
    assert fake_telegram.calls("sendMessage") == []
    assert await _user_id(db, Channel.TELEGRAM, str(PERSON.id)) is None


async def test_telegram_bad_secret_is_refused_and_nothing_is_written(db, chat, fake_telegram) -> None:
    talk = chat(PERSON)
    assert await talk.post(talk.updates.text("你好", person=PERSON), secret="wrong") == 401
    assert await talk.post(talk.updates.text("你好", person=PERSON), secret=None) == 401
    assert fake_telegram.calls("sendMessage") == []
    assert await _user_id(db, Channel.TELEGRAM, str(PERSON.id)) is None


async def test_telegram_invalid_update_is_logged_without_its_content(db, chat, caplog) -> None:
    talk = chat(PERSON)
    update = talk.updates.text("我的手机 13812345678", person=PERSON)
    update["message"]["date"] = "not a date"
    assert await talk.post(update) == 200
    [warning] = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert warning.levelno == logging.WARNING and str(update["update_id"]) in warning.getMessage()
    assert "13812345678" not in warning.getMessage() and PERSON.first_name not in warning.getMessage()


async def test_telegram_replayed_update_is_answered_once(db, chat, fake_telegram) -> None:
    talk = chat(PERSON)
    update = talk.updates.command("help", person=PERSON)
    assert await talk.send(update)
    before = await _deliveries(db)
    assert await talk.post(update) == 200
    assert talk.new_messages() == [] and await _deliveries(db) == before


async def test_telegram_emoji_and_marks_in_a_name_are_refused_at_registration(db, chat) -> None:
    talk = chat(PERSON)
    await talk.say("/start")
    await talk.press("注册志愿者")
    await talk.press("中文")
    await talk.press("同意")
    await talk.say("1995-03-08")
    for name in ("🌟小明🌟", "张\u202e三", "李\u200b四", "王\x07五"):
        text = await talk.say(name)
        assert text.startswith("请填写真实姓名"), (name, text)
    text = await talk.say("阿依古丽·买买提")  # a middle dot is part of many names
    assert "手机" in text


# ---- WeChat ----------------------------------------------------------------------------------------


def _scan(kind: str) -> str:
    return (
        f"<EventKey>{cdata('SCAN_KEY')}</EventKey>\n<ScanCodeInfo><ScanType>{cdata('qrcode')}</ScanType>"
        f"<ScanResult>{cdata('https://example.org/' + kind)}</ScanResult></ScanCodeInfo>\n"
    )


def _pics(kind: str) -> str:
    return (
        f"<EventKey>{cdata('PHOTO_' + kind)}</EventKey>\n<SendPicsInfo><Count>1</Count><PicList><item>"
        f"<PicMd5Sum>{cdata('1b5f7c23b5bf75682a53e7b6d163e185')}</PicMd5Sum></item></PicList></SendPicsInfo>\n"
    )


# Events of every documented kind that want no answer: "success" only.
WECHAT_SILENT: dict[str, str] = {
    "VIEW": f"<EventKey>{cdata('https://example.org/')}</EventKey>\n<MenuId>1</MenuId>\n",
    "scancode_push": _scan("push"),
    "pic_sysphoto": _pics("sys"),
    "pic_photo_or_album": _pics("album"),
    "pic_weixin": _pics("weixin"),
    "location_select": (
        f"<EventKey>{cdata('LOC')}</EventKey>\n<SendLocationInfo><Location_X>32.04</Location_X>"
        f"<Location_Y>118.78</Location_Y><Scale>15</Scale><Label>{cdata('南京')}</Label>"
        f"<Poiname>{cdata('')}</Poiname></SendLocationInfo>\n"
    ),
    "view_miniprogram": f"<EventKey>{cdata('pages/index')}</EventKey>\n<MenuId>2</MenuId>\n",
    "TEMPLATESENDJOBFINISH": f"<MsgID>200163836</MsgID>\n<Status>{cdata('success')}</Status>\n",
    "MASSSENDJOBFINISH": f"<MsgID>1000001625</MsgID>\n<Status>{cdata('send success')}</Status>\n",
    "LOCATION": "<Latitude>32.04</Latitude>\n<Longitude>118.78</Longitude>\n<Precision>30.0</Precision>\n",
    "unsubscribe": f"<EventKey>{cdata('')}</EventKey>\n",
    "an event nobody documented yet": "",
}


@pytest.mark.parametrize("case", list(WECHAT_SILENT), ids=list(WECHAT_SILENT))
async def test_wechat_event_that_wants_no_answer_gets_success(case: str, db, clock, wechat) -> None:
    user_id = await _in_flow(db, clock, Channel.WECHAT, OPENID)
    user = wechat(OPENID)
    event = "FUTURE_EVENT" if case.startswith("an event") else case
    assert await user.send(user.messages.event(OPENID, event, WECHAT_SILENT[case])) == ""
    assert await _dialog(db, clock, user_id) == (*FLOW, ["menu"])


# Messages and events answered in words.
WECHAT_ANSWERED: dict[str, tuple[Callable[[WeChatUser], str], str]] = {
    "voice": (lambda u: u.messages.media(OPENID, "voice"), WECHAT_UNSUPPORTED),
    "video": (lambda u: u.messages.media(OPENID, "video"), WECHAT_UNSUPPORTED),
    "shortvideo": (lambda u: u.messages.media(OPENID, "shortvideo"), WECHAT_UNSUPPORTED),
    "link": (lambda u: u.messages.media(OPENID, "link"), WECHAT_UNSUPPORTED),
    "file": (lambda u: u.messages.media(OPENID, "file"), WECHAT_UNSUPPORTED),
    "image outside a question": (lambda u: u.messages.image(OPENID), "现在不需要照片。"),
    "CLICK with an unknown key": (
        lambda u: u.messages.click(OPENID, "NO_SUCH_KEY"),
        "科技志愿服务助手可以帮您",
    ),
    "scancode_waitmsg": (
        lambda u: u.messages.event(OPENID, "scancode_waitmsg", _scan("wait")),
        "科技志愿服务助手可以帮您",
    ),
    "follow by a product barcode": (
        lambda u: u.messages.subscribe_product(OPENID, "scanbarcode|EAN_13|6901234567892"),
        WELCOME,
    ),
    "follow by a product image": (
        lambda u: u.messages.subscribe_product(OPENID, "scanimage|abc123"),
        WELCOME,
    ),
    "follow by a QR code of no scene": (lambda u: u.messages.subscribe(OPENID, ""), WELCOME),
    "text of 10,000 characters": (lambda u: u.messages.text(OPENID, "长" * 10_000), NOT_UNDERSTOOD),
    "right-to-left marks": (lambda u: u.messages.text(OPENID, "\u202e\u200f报名\u202c"), NOT_UNDERSTOOD),
    "tab and newline only": (lambda u: u.messages.text(OPENID, "\t\n\r"), NOT_UNDERSTOOD),
}


@pytest.mark.parametrize("case", list(WECHAT_ANSWERED), ids=list(WECHAT_ANSWERED))
async def test_wechat_message_the_bot_cannot_use_is_answered(case: str, db, clock, wechat) -> None:
    user = wechat(OPENID)
    build, expected = WECHAT_ANSWERED[case]
    text = await user.send(build(user))
    assert expected in text, text
    assert await user.say("/help")


def _head(msg_type: str, openid: str = OPENID, create_time: str = "1796086800") -> str:
    return (
        f"<ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>"
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml>{head}<Content>&lol3;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml>{head}<Content>&xxe;</Content><MsgId>2</MsgId></xml>"""

WECHAT_REFUSED: dict[str, tuple[Callable[[], str], int]] = {
    "malformed XML": (lambda: "<xml><ToUserName>unclosed", 400),
    "not WeChat's root": (lambda: f"<root>{_head('text')}</root>", 400),
    "billion laughs": (lambda: BILLION_LAUGHS.format(head=_head("text")), 400),
    "external entity": (lambda: EXTERNAL_ENTITY.format(head=_head("text")), 400),
    "control character in XML": (
        lambda: f"<xml>{_head('text')}<Content>a\x01b</Content><MsgId>3</MsgId></xml>",
        400,
    ),
    "no MsgType": (
        lambda: f"<xml><FromUserName>{cdata(OPENID)}</FromUserName><CreateTime>1</CreateTime></xml>",
        400,
    ),
    "CreateTime not a number": (
        lambda: f"<xml>{_head('text', create_time='soon')}<Content>a</Content></xml>",
        400,
    ),
    "bad FromUserName": (lambda: f"<xml>{_head('text', openid='o<bad>!')}<Content>a</Content></xml>", 400),
    "MsgId not a number": (lambda: f"<xml>{_head('text')}<Content>a</Content><MsgId>x1</MsgId></xml>", 400),
    "over 64 KiB": (
        lambda: f"<xml>{_head('text')}<Content>{'字' * (MAX_BODY_BYTES // 3 + 10)}</Content></xml>",
        413,
    ),
}


@pytest.mark.parametrize("case", list(WECHAT_REFUSED), ids=list(WECHAT_REFUSED))
async def test_wechat_body_that_is_not_a_message_is_refused(case: str, db, clock, wechat) -> None:
    user = wechat(OPENID)
    build, status = WECHAT_REFUSED[case]
    xml = build().replace("1796086800", str(int(clock.now().timestamp())))
    if case == "bad FromUserName":
        query, body = user.signer.wrap(xml, openid=OPENID)
        query.pop("openid")
        response = await user.client.post("/wechat", params=query, data=body)
        assert response.status == status
    else:
        assert (await user.post(xml))[0] == status
    assert await _user_id(db, Channel.WECHAT, OPENID) is None
    assert await _deliveries(db) == 0


async def test_wechat_bad_signature_and_stale_timestamp_are_refused(db, clock, wechat) -> None:
    user = wechat(OPENID)
    query, body = user.signer.wrap(user.messages.text(OPENID, "/help"), openid=OPENID)
    response = await user.client.post("/wechat", params=query | {"msg_signature": "0" * 40}, data=body)
    assert response.status == 403
    stale = str(int(clock.now().timestamp()) - 3600)
    assert (await user.post(user.messages.text(OPENID, "/help"), timestamp=stale))[0] == 403
    assert await _user_id(db, Channel.WECHAT, OPENID) is None


async def test_wechat_replay_of_the_same_msgid_is_answered_once(db, clock, wechat) -> None:
    user = wechat(OPENID)
    xml = user.messages.text(OPENID, "/help", msg_id=24_999_000_000_000_001)
    assert await user.send(xml)
    before = await _deliveries(db)
    assert await user.send(xml) == ""  # "success": WeChat stops retrying, the user sees nothing twice
    assert await _deliveries(db) == before


async def test_wechat_emoji_in_a_name_is_refused_at_registration(db, clock, wechat) -> None:
    user = wechat(OPENID)
    await user.subscribe()
    await user.pick("注册志愿者")
    await user.pick("中文")
    await user.pick("同意")
    await user.say("1995-03-08")
    text = await user.say("😀张三")
    assert text.startswith("请填写真实姓名")
    assert "手机" in await user.say("张三")


@pytest.mark.parametrize("client_kind", ["telegram", "wechat"])
async def test_get_and_other_methods_on_the_endpoints_are_refused(
    client_kind: str, app_client: TestClient
) -> None:
    path = "/telegram/webhook" if client_kind == "telegram" else "/wechat"
    method = "GET" if client_kind == "telegram" else "PUT"
    assert (await app_client.request(method, path)).status == 405
