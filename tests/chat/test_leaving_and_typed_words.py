"""Leaving a form for the menu says so, /help inside a form offers to go on with it, the tools open by
their typed names on every channel, and someone not registered is offered a need beside registering."""

from __future__ import annotations

import pytest

from core.chat.conversation import Conversation, Routes
from core.chat.forms import Form, Step, always, asking, location, refuse_and_ask
from core.chat.messages import Command, Input, Say
from core.chat.turn import Turn
from core.domain.codes import Channel
from core.domain.people import ChannelIdentity
from core.policy import Policy
from locales import translator
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.chat.conftest import ChatUser
from tests.chat.people import org_with_staff
from tests.fakes.clock import FakeClock

T = translator("zh_CN")
LEFT = "已离开没填完的表单"
TITLE_QUESTION = "活动名称是什么"
KIND_QUESTION = "服务内容属于哪一类"


async def _staff(db: Database, clock: FakeClock, chat_user, channel: Channel = Channel.TELEGRAM) -> ChatUser:
    await org_with_staff(db, clock, "staff-1", "南京市玄武区科技志愿服务队")
    if channel is Channel.TELEGRAM:
        return chat_user("staff-1")
    # The same staff member, known on another channel too.
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "staff-1")
        await uow.identities.add(ChannelIdentity(channel, "staff-1", user.id, clock.now()))
        await uow.commit()
    return chat_user("staff-1", channel=channel)


# ---- 1. leaving a form, and /help inside one ------------------------------------------------------


async def test_menu_typed_in_a_form_says_the_form_was_left_and_how_to_start_it_again(
    db, clock, chat_user
) -> None:
    staff = await _staff(db, clock, chat_user)
    await staff.text("/publish")
    await staff.text("社区科普讲座")
    assert KIND_QUESTION in staff.texts()
    await staff.text("菜单")
    assert staff.texts().startswith(LEFT) and "/publish" in staff.texts()
    assert "找活动" in staff.buttons()  # the menu follows
    await staff.text("/publish")
    assert TITLE_QUESTION in staff.texts()  # left, as it said: the form starts from its first question


async def test_the_cancel_button_under_a_question_says_the_form_was_left(db, clock, chat_user) -> None:
    user = chat_user("need-1")
    await user.text("/need")
    await user.press("取消")  # the button under a question: the menu
    assert user.texts().startswith(LEFT) and "/need" in user.texts()


async def test_the_menu_outside_a_form_says_nothing_was_left(db, clock, chat_user) -> None:
    user = chat_user("menu-1")
    await user.text("菜单")
    assert LEFT not in user.texts() and "找活动" in user.buttons()


async def test_help_in_a_form_keeps_it_and_continue_asks_the_question_again(db, clock, chat_user) -> None:
    staff = await _staff(db, clock, chat_user)
    await staff.text("/publish")
    await staff.text("社区科普讲座")
    await staff.text("/help")
    assert "/cancel" in staff.texts()  # the help itself
    assert T("chat.help.form_open") in staff.texts()
    assert staff.buttons() == ["继续填写", "主菜单"]
    await staff.press("继续填写")
    assert KIND_QUESTION in staff.texts()  # the question, asked again with its buttons
    await staff.press("科技服务类")
    assert "具体的服务内容" in staff.texts()  # and the form goes on with the title kept
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, "staff-1")
        state = await uow.dialogs.for_user(user.id, clock.now())
        assert state.data["title"] == "社区科普讲座"


async def test_main_menu_from_help_in_a_form_leaves_it_and_says_so(db, clock, chat_user) -> None:
    staff = await _staff(db, clock, chat_user)
    await staff.text("/publish")
    await staff.text("帮助")
    await staff.press("主菜单")
    assert staff.texts().startswith(LEFT) and "/publish" in staff.texts()


@pytest.mark.parametrize("channel", [Channel.WECHAT, Channel.CONSOLE])
async def test_help_in_a_form_on_a_numbered_channel_continues_with_1(db, clock, chat_user, channel) -> None:
    user = chat_user("o-reg-1", channel=channel)
    await user.text("/start")
    await user.text("1")  # 注册志愿者
    await user.text("1")  # 中文
    await user.text("帮助")
    assert user.buttons() == ["继续填写", "主菜单"]
    await user.text("1")
    assert "隐私声明" in user.texts()  # the privacy question, asked again
    await user.text("1")  # 同意: its numbers answer again
    assert "出生日期" in user.texts()


async def test_help_in_a_form_of_one_question_asks_it_again(db, clock, chat_user) -> None:
    user = chat_user("fb-1")
    await user.text("/feedback")
    await user.text("/help")
    await user.press("继续填写")
    assert user.texts() == T("chat.feedback.ask")
    await user.text("页面很好用")
    assert "感谢" in user.texts()


async def test_help_outside_a_form_offers_the_menu_only(db, clock, chat_user) -> None:
    user = chat_user("help-1")
    await user.text("/help")
    assert user.buttons() == ["主菜单"] and T("chat.help.form_open") not in user.texts()


async def test_continue_pressed_after_the_form_ended_is_an_expired_button(db, clock, chat_user) -> None:
    staff = await _staff(db, clock, chat_user)
    await staff.text("/publish")
    await staff.text("/help")
    payload = next(c.payload for r in staff.last if isinstance(r, Say) for c in r.choices)
    await staff.text("/cancel")
    await staff.send_payload(payload)
    assert T("chat.button_expired") in staff.texts()


# ---- 2. typed words -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["帮助", "help", "Help", "?", "？"])
async def test_help_words_show_the_help_not_the_menu(db, clock, chat_user, word) -> None:
    user = chat_user("words-1")
    await user.text(word)
    assert "/cancel" in user.texts() and user.buttons() == ["主菜单"]


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.WECHAT, Channel.CONSOLE])
@pytest.mark.parametrize(
    ("word", "command"),
    [
        ("签到", "checkin"),
        ("导出", "export"),
        ("逾期记录", "records"),
        ("承接", "needs"),
        ("找活动", "find"),
        ("我的时长", "hours"),
        ("export", "export"),
        ("Records", "records"),
    ],
)
async def test_a_tools_name_typed_opens_it_as_its_command_does(
    db, clock, chat_user, channel, word, command
) -> None:
    staff = await _staff(db, clock, chat_user, channel)
    by_command = await staff.send(Command(command, ""))
    by_word = await staff.text(word)
    assert by_word == by_command


async def test_a_tools_name_typed_as_the_answer_of_a_form_is_the_answer(db, clock, chat_user) -> None:
    staff = await _staff(db, clock, chat_user)
    await staff.text("/publish")
    await staff.text("导出")  # the title, as written
    assert KIND_QUESTION in staff.texts()
    user = chat_user("fb-2")
    await user.text("/feedback")
    await user.text("签到")
    assert T("chat.not_understood") not in user.texts()
    async with db.uow() as uow:
        state = await uow.dialogs.for_user(
            (await uow.users.by_identity(Channel.TELEGRAM, "staff-1")).id, clock.now()
        )
        assert state.data["title"] == "导出"
        assert [f.text for f in await uow.feedback.open_for_orgs(None, 10)] == ["签到"]


async def test_cancel_and_menu_words_still_leave_any_question(db, clock, chat_user) -> None:
    user = chat_user("fb-3", channel=Channel.WECHAT)
    await user.text("/feedback")
    await user.text("取消")
    assert T("chat.cancelled") in user.texts()
    await user.text("/feedback")
    await user.text("主菜单")
    assert LEFT in user.texts()
    async with db.uow() as uow:
        assert await uow.feedback.open_for_orgs(None, 10) == []


# ---- 3. the welcome ---------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.WECHAT])
async def test_a_newcomer_may_ask_for_a_service_without_registering(db, clock, chat_user, channel) -> None:
    user = chat_user("beneficiary-1", channel=channel)
    await user.text("/start")
    assert user.texts().startswith("您好") and "不用注册" in user.texts()
    assert user.buttons() == ["注册志愿者", "提出需求"]
    await user.press("提出需求")
    assert "无需注册" in user.texts()  # the need form
    async with db.uow() as uow:
        person = await uow.users.by_identity(channel, "beneficiary-1")
        assert await uow.volunteers.by_user(person.id) is None
        assert (await uow.dialogs.for_user(person.id, clock.now())).flow == "need_form"


async def test_a_newcomer_who_registers_is_asked_the_language_first(db, clock, chat_user) -> None:
    user = chat_user("newcomer-1")
    await user.text("/start")
    await user.press("注册志愿者")
    assert user.buttons() == ["中文", "English"]


async def test_deep_links_still_open_what_they_name(db, clock, chat_user) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科普志愿服务队")
        activity = await make_activity(
            uow, clock, await make_admin(uow, clock), org.id, title="青少年科普讲座"
        )
        await uow.commit()
    user = chat_user("linked-1")
    await user.text(f"/start act-{activity.id}")
    assert "青少年科普讲座" in user.texts()
    await user.text(f"/start need-{org.id}")
    assert "南京市鼓楼区科普志愿服务队" in user.texts() and "无需注册" in user.texts()
    await user.text(f"/start org-{org.id}")
    assert user.buttons() == ["中文", "English"]  # joining an org: registration first, as before


# ---- 4. refusals at registration that say why --------------------------------------------------------


async def _at_birth(user: ChatUser) -> None:
    await user.text("/start")
    await user.press("注册志愿者")
    await user.press("中文")
    await user.press("同意")


async def test_a_birth_date_out_of_range_names_the_range_and_an_example(db, clock, chat_user) -> None:
    user = chat_user("reg-1")
    await _at_birth(user)
    await user.text("2030-01-01")
    assert "1900-01-01" in user.texts() and "2026-12-01" in user.texts() and "2000-01-31" in user.texts()
    await user.text("1899-12-31")
    assert "1900-01-01" in user.texts()
    await user.text("1990-01-01")
    assert "真实姓名" in user.texts()


async def test_the_guardian_name_is_asked_with_an_example(db, clock, chat_user) -> None:
    user = chat_user("reg-2")
    await _at_birth(user)
    await user.text("2015-06-01")
    assert "监护人的真实姓名" in user.texts() and "例如" in user.texts()
    await user.text("🌟")
    assert "请填写真实姓名" in user.texts()


@pytest.mark.parametrize("nonsense", ["x", "123", "？？", "ab"])
async def test_a_region_that_names_no_place_is_refused_with_an_example(
    db, clock, chat_user, nonsense
) -> None:
    user = chat_user("reg-3")
    await _at_birth(user)
    await user.text("1990-01-01")
    await user.text("张三")
    await user.contact("13812345678")
    await user.press("农学")
    await user.press("完成")
    await user.press("科普讲座")
    await user.press("完成")
    await user.text(nonsense)
    assert user.texts() == T("volunteer.region") and "江苏省南京市玄武区" in user.texts()
    await user.text("北京")
    assert "组织" in user.texts()  # the next question


# ---- 4. a location refused, per channel; a wrong number, one wording --------------------------------


async def _where_form(turn: Turn, given: Input) -> None:
    data = await WHERE.answer(turn, given)
    if data is not None:
        turn.state.clear()
        turn.say_text(f"ok {data['where']}")


async def _take_where(turn: Turn, given: Input, data: dict) -> dict:
    return {"where": location(given, "chat.org.form.location_format")}


WHERE = Form(
    "where", (Step("where", always, asking("chat.org.form.location"), _take_where),), retry=refuse_and_ask
)


async def _open_where(turn: Turn, _: str) -> None:
    await WHERE.proceed(turn, {})


async def _menu(turn: Turn, _: str) -> None:
    turn.say_text("menu")


@pytest.mark.parametrize(
    ("channel", "how"),
    [
        (Channel.TELEGRAM, "“📍 发送我的位置”按钮"),
        (Channel.WECHAT, "输入框旁的“+”"),
        (Channel.CONSOLE, "@纬度,经度"),
        (Channel.WEB, "位置输入框"),
    ],
)
async def test_text_where_a_location_is_asked_says_what_one_is_and_how_to_send_it(
    db: Database, clock: FakeClock, channel: Channel, how: str
) -> None:
    routes = Routes(
        buttons={}, commands={"where": _open_where}, flows={"where": _where_form}, menu=_menu, start=_menu
    )
    user = ChatUser(Conversation(db.uow, clock, Policy(), translator, routes), "loc-1", channel=channel)
    await user.text("/where")
    await user.text("abc")
    said = user.texts()
    assert T("chat.org.form.location_format") in said  # why
    assert "地图上的一个点" in said and how in said  # what a location is, and how this channel sends one
    await user.text("32.0603,118.7969")
    assert user.texts() == "ok (32.0603, 118.7969)"


async def test_a_wrong_number_says_the_real_range_in_one_wording(db, clock, chat_user) -> None:
    user = chat_user("o-num-1", channel=Channel.WECHAT)
    await user.text("/start")
    await user.text("7")  # outside a form, two options shown
    assert user.texts() == "请回复上面选项前的数字（1 到 2），例如：1"
    await user.text("1")
    await user.text("5")  # at the language question of the form: the same wording
    assert user.texts() == "请回复上面选项前的数字（1 到 2），例如：1"
    await user.text("/help")
    await user.text("/menu")
    await user.text("/help")  # outside a form: one option, 主菜单
    await user.text("3")
    assert user.texts() == "请回复上面选项前的数字 1。"
