"""WeChat multi-select (可多选): the professional fields and service areas of the registration and of
the profile take several numbers in one reply ("1,3", "1 3", "1，3", "1、3"), each toggled as if its
option had been picked alone; a number that picks nothing is refused with why and how. Through the real
/wechat endpoint, on both databases."""

from __future__ import annotations

from core.domain.codes import Channel
from tests.integration import test_wechat_journeys as journeys
from tests.integration.test_wechat_journeys import T, _activity, _volunteer

# The app under test, as the WeChat journeys build it (plaintext mode).
app_client = journeys.app_client
settings = journeys.settings
signer = journeys.signer
messenger = journeys.messenger
mode = journeys.mode
person = journeys.person


def _chosen(user) -> list[str]:
    return [label.removeprefix("✅ ") for label in user.options() if label.startswith("✅ ")]


async def _at_the_fields(user) -> None:
    await user.subscribe()
    await user.pick("注册志愿者")
    await user.pick("中文")
    await user.pick("同意")
    await user.say("1995-03-08")
    await user.say("王小明")
    text = await user.say("13812345678")
    assert "可多选，已选 0 项" in text and "例如：1,3" in text  # the prompt says several numbers work


async def test_several_numbers_at_once_toggle_each_field_and_area(db, clock, person) -> None:
    await _activity(db, clock)  # the organization to join exists
    user = person("oMultiSelect000000000000001")
    await _at_the_fields(user)
    first, third = user.options()[0], user.options()[2]

    text = await user.say("1,3")
    assert "已选 2 项" in text and _chosen(user) == [first, third]
    await user.say("2、3")  # 3 again: off; 2: on
    assert _chosen(user) == [first, user.options()[1].removeprefix("✅ ")]
    await user.say("1，2")  # a full-width comma, as a Chinese keyboard types it
    assert "已选 0 项" in user.last and _chosen(user) == []
    await user.say("1 3")
    assert "已选 2 项" in user.last and _chosen(user) == [first, third]

    text = await user.say("1,99")
    assert text.startswith(T("chat.reg.pick_many.bad", number=99)) and "已选 2 项" in text
    done = user.number_of("完成")
    text = await user.say(f"2,{done}")  # "完成" is said alone
    assert text.startswith(T("chat.reg.pick_many.bad", number=done)) and "已选 2 项" in text

    text = await user.pick("完成")
    assert "服务内容" in text and "已选 0 项" in text
    await user.say("1 2 3")
    assert "已选 3 项" in user.last
    text = await user.pick("完成")
    assert text.startswith("请输入您所在的地区")


async def test_several_numbers_change_the_profile_fields(db, clock, person) -> None:
    user = person("oMultiSelect000000000000002")
    await _volunteer(db, clock, user.openid, "陈晓", "13812340002")
    await user.click("PROFILE")
    await user.pick("修改资料")
    await user.pick("专业领域")
    before = _chosen(user)
    picks = [
        n for n, label in enumerate(user.options(), 1) if not label.startswith("✅ ") and "完成" not in label
    ]
    await user.say(f"{picks[0]}，{picks[1]}")
    assert len(_chosen(user)) == len(before) + 2
    text = await user.pick("完成")
    assert "已" in text
    async with db.uow() as uow:
        found = await uow.users.by_identity(Channel.WECHAT, user.openid)
        volunteer = await uow.volunteers.by_user(found.id)
        assert len(volunteer.skills) == len(before) + 2
