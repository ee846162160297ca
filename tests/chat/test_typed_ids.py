"""Ids typed after a command or as an answer are digits, ASCII or full-width (a Chinese input
method's ０…９): "²" passes ``str.isdigit`` but is no id, so a command naming it is answered as one
naming no id, never with an error."""

from __future__ import annotations

import pytest

from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.access import load_actor
from core.services.users import ensure_user, grant_role
from locales import translator
from tests.builders import make_activity, make_org

zh = translator("zh_CN")
STAFF = "8301"
ORG = "海淀区科普志愿服务队"


@pytest.fixture
async def staff(db, clock, chat_user):
    """Staff of an org with one activity (number 2, as "²" would read were it taken for a digit)."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, STAFF)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        actor = await load_actor(uow, user.id)
        for _ in range(2):
            await make_activity(uow, clock, actor, org.id)
        await uow.commit()
    return chat_user(STAFF)


async def test_stats_of_other_digits_answers_the_usage(staff) -> None:
    await staff.text("/stats act-²")
    assert zh("chat.survey.stats.usage") in staff.texts()


async def test_qr_of_other_digits_answers_the_usage(staff) -> None:
    await staff.text("/qr act-²")
    assert staff.texts() == zh("chat.qr.usage")


async def test_report_of_other_digits_asks_for_the_period(staff) -> None:
    await staff.text("/report act-²")
    assert "统计报告" in staff.texts() and "#2" not in staff.texts()


async def test_need_addressed_with_other_digits_is_addressed_to_none(staff) -> None:
    await staff.text("/need ²")
    assert staff.texts().startswith("提交服务需求") and ORG not in staff.texts()


async def test_complaint_about_activity_number_of_other_digits_names_none(staff) -> None:
    await staff.text("/complain")
    await staff.press(zh("complaint.button.by_number"))
    await staff.text("#²")
    assert staff.texts() == zh("complaint.activity_unknown", given="#²")


async def test_full_width_digits_from_a_chinese_input_method_are_read(staff) -> None:
    await staff.text("/stats act-２")
    assert zh("chat.survey.stats.usage") not in staff.texts()
    await staff.text("/qr act-２")
    assert staff.texts() != zh("chat.qr.usage")
