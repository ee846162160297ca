"""2-10.1: staff of the organizing org evaluate each attendee after the activity (attitude, behaviour,
effect, 1–5, a comment), once per volunteer and activity (a correction replaces it and is audited);
others are refused; the volunteer reads it with their hours, frequency and the beneficiaries'
satisfaction. Both databases; the real Telegram webhook and WeChat endpoint; time only by the fake clock."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from core.domain.attendance import RecordStatus
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.domain.survey import SurveyKind, SurveyResponse
from core.errors import NotEligible, PermissionDenied, RaceLost
from core.policy import Policy
from core.services.access import load_actor
from core.services.evaluations import evaluate
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_record
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import inline_buttons, organizer_card

BRIGADE = "南京市科技志愿服务总队"
TEAM = "南京市玄武区科技志愿服务队"
TITLE = "玄武湖科普讲解"
STAFF = Person(id=5_600_000_001, first_name="队员", language_code="zh-hans")
PARENT_STAFF = Person(id=5_600_000_002, first_name="总队", language_code="zh-hans")
VOLUNTEER = "oEvaluatedVolunteer000000001"  # on WeChat


async def _world(db: Database, clock: FakeClock) -> dict[str, Any]:
    """An activity of the team tomorrow 09:00–12:00 with two attendees holding confirmed 3-hour records
    (钱志愿 on WeChat, 孙志愿), one beneficiary answer; staff of the team and of the brigade on Telegram."""
    starts = clock.now() + timedelta(days=1)
    world: dict[str, Any] = {}
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        activity = await make_activity(
            uow, clock, admin, team.id, title=TITLE, starts_at=starts, ends_at=starts + timedelta(hours=3)
        )
        for key, person, org in (("staff", STAFF, team), ("parent", PARENT_STAFF, brigade)):
            user = await ensure_user(uow, clock, Channel.TELEGRAM, str(person.id), language="zh_CN")
            await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
            world[key] = await load_actor(uow, user.id)
        for key, channel, external, name in (
            ("qian", Channel.WECHAT, VOLUNTEER, "钱志愿"),
            ("sun", Channel.TELEGRAM, "sun-1", "孙志愿"),
        ):
            user = await ensure_user(uow, clock, channel, external, language="zh_CN")
            await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
            form = RegistrationForm(
                name=name,
                phone=f"1390000{len(world):04d}",
                region="江苏省南京市",
                birth_date=date(1990, 1, 1),
            )
            volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
            await make_record(
                uow, clock, activity, volunteer.id, starts, "3.0", status=RecordStatus.CONFIRMED,
                decided_by=world["staff"].user_id,
            )  # fmt: skip
            world[key] = volunteer.id
            world[f"{key}_user"] = user.id
        await uow.surveys.add(
            SurveyResponse(
                activity.id,
                SurveyKind.BENEFICIARY,
                {"process": 5, "manner": 4, "attitude": 5, "expertise": 4, "skill": 4},
                starts + timedelta(hours=4),
            )
        )
        await uow.commit()
    world["activity"], world["ends"] = activity.id, starts + timedelta(hours=3)
    return world


async def test_staff_evaluate_an_attendee_from_the_card_and_correct_it(db, clock, chat) -> None:
    world = await _world(db, clock)
    staff = chat(STAFF)
    clock.set(world["ends"] - timedelta(minutes=1))
    await organizer_card(staff, TITLE)
    assert "评价志愿者" not in inline_buttons(staff)  # 2-10.1: after the activity

    clock.set(world["ends"] + timedelta(hours=1))
    await organizer_card(staff, TITLE)
    text = await staff.press("评价志愿者")
    assert f"“{TITLE}”共 2 名参加者，已评价 0 名" in text
    assert {"钱志愿", "孙志愿"} <= set(inline_buttons(staff))
    text = await staff.press("钱志愿")
    assert "评价志愿者 钱志愿" in text and "（1/3）服务态度" in text and "例如：4" in text
    assert inline_buttons(staff)[:5] == [
        "1 分 · 差",
        "2 分 · 较差",
        "3 分 · 一般",
        "4 分 · 良好",
        "5 分 · 优秀",
    ]
    await staff.press("4 分")
    text = await staff.say("9")
    assert "评分请选择 1 到 5 的整数，例如：4。" in text and "（2/3）行为表现" in text  # asked again
    text = await staff.say("5")
    assert "（3/3）服务效果" in text
    text = await staff.press("3 分")
    assert "可以写一句评语" in text and "例如：讲解耐心" in text
    text = await staff.say("讲解耐心，居民反响好")
    assert "✅ 已评价 钱志愿：服务态度 4、行为表现 5、服务效果 3。" in text

    async with db.uow() as uow:
        [row] = await uow.evaluations.for_activity(world["activity"])
        assert (row.volunteer_id, row.attitude, row.behaviour, row.effect) == (world["qian"], 4, 5, 3)
        assert row.comment == "讲解耐心，居民反响好" and row.evaluated_by == world["staff"].user_id
        notices = [
            n for n in await uow.notices.for_user(world["qian_user"]) if n.message_key == "notice.evaluated"
        ]
        assert len(notices) == 1 and notices[0].choices == [["evaluation.button.mine", "myev"]]

    await staff.press("参加者列表")
    assert "已评价 1 名" in staff.text and any(b.startswith("✅ 钱志愿") for b in inline_buttons(staff))
    text = await staff.press("✅ 钱志愿")
    assert "已有评价：服务态度 4、行为表现 5、服务效果 3" in text
    for score in ("5 分", "5 分", "4 分"):
        await staff.press(score)
    text = await staff.press("跳过")
    assert "✅ 已更正对 钱志愿 的评价：服务态度 5、行为表现 5、服务效果 4（修改已记录）。" in text

    async with db.uow() as uow:
        [row] = await uow.evaluations.for_activity(world["activity"])  # still one: replaced, not added
        assert (row.attitude, row.behaviour, row.effect, row.comment) == (5, 5, 4, None)
        entries = await uow.audit.for_entity("evaluation", row.id)
        assert [e.action for e in entries] == ["evaluation.add", "evaluation.correct"]
        assert (
            entries[1].details["attitude_was"] == 4
            and entries[1].details["comment_was"] == "讲解耐心，居民反响好"
        )
        assert entries[1].details["attitude"] == 5
        notices = [
            n for n in await uow.notices.for_user(world["qian_user"]) if n.message_key == "notice.evaluated"
        ]
        assert len(notices) == 1  # told once


async def test_only_staff_of_the_organizing_org_evaluate(db, clock, chat) -> None:
    world = await _world(db, clock)
    scores = {"attitude": 4, "behaviour": 4, "effect": 4}
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as early:
            await evaluate(uow, clock, world["staff"], world["activity"], world["qian"], scores)
        assert early.value.key == "evaluation.not_ended"
    clock.set(world["ends"] + timedelta(hours=1))
    async with db.uow() as uow:
        volunteer = await load_actor(uow, world["sun_user"])
        for actor in (world["parent"], volunteer):  # the org above reads, but never evaluates
            with pytest.raises(PermissionDenied):
                await evaluate(uow, clock, actor, world["activity"], world["qian"], scores)
        assert await uow.evaluations.for_activity(world["activity"]) == []

    parent = chat(PARENT_STAFF)
    text = await parent.send(parent.updates.callback(f"ev:{world['activity']}", person=PARENT_STAFF))
    assert "只有该组织的工作人员" in text
    text = await parent.send(
        parent.updates.callback(f"ev.v:{world['activity']}.{world['qian']}", person=PARENT_STAFF)
    )
    assert "只有该组织的工作人员" in text
    async with db.uow() as uow:
        assert await uow.evaluations.for_activity(world["activity"]) == []


async def test_the_volunteer_reads_their_evaluation_on_wechat(db, clock, wechat) -> None:
    world = await _world(db, clock)
    clock.set(world["ends"] + timedelta(hours=1))
    async with db.uow() as uow:
        await evaluate(
            uow, clock, world["staff"], world["activity"], world["qian"],
            {"attitude": 5, "behaviour": 4, "effect": 4}, "准备充分",
        )  # fmt: skip
        await uow.commit()
    user = wechat(VOLUNTEER)
    text = await user.say("/myeval")
    assert "我的评价（CVST 2 10.1）" in text
    assert "服务时长：3.0 小时（已确认）" in text
    assert "服务次数：共 1 次，近一年 1 次" in text
    assert "工作人员评价：1 次，平均 服务态度 5.0、行为表现 4.0、服务效果 4.0（满分 5 分）" in text
    assert "服务对象满意度：平均 4.4 分（5 项评分）" in text  # (5+4+5+4+4) / 5
    assert f"{TITLE}：服务态度 5、行为表现 4、服务效果 4，评语：准备充分" in text


async def test_two_first_evaluations_at_once_make_one_and_a_correction(db, clock, chat) -> None:
    """Two staff evaluate the same attendee for the first time at the same moment (two webhook deliveries
    side by side): on PostgreSQL both find none and both add; the later loses the race for the row and
    is run once more (as Conversation.handle runs a turn that raised RaceLost), which corrects the first."""
    world = await _world(db, clock)
    clock.set(world["ends"] + timedelta(hours=1))
    for volunteer in (world["qian"], world["sun"]):  # two rounds: the race is not won the same way each time

        async def evaluate_once(scores: dict[str, int], volunteer: int = volunteer) -> bool:
            for _ in range(2):
                try:
                    async with db.uow() as uow:
                        _, corrected = await evaluate(
                            uow, clock, world["staff"], world["activity"], volunteer, scores
                        )
                        await uow.commit()
                        return corrected
                except RaceLost:
                    continue
            raise AssertionError("lost the race twice")

        first = {"attitude": 5, "behaviour": 5, "effect": 5}
        second = {"attitude": 3, "behaviour": 3, "effect": 3}
        corrections = await asyncio.gather(evaluate_once(first), evaluate_once(second))
        assert sorted(corrections) == [False, True]
        async with db.uow() as uow:
            [kept] = [
                e
                for e in await uow.evaluations.for_activity(world["activity"])
                if e.volunteer_id == volunteer
            ]
            actions = [e.action for e in await uow.audit.for_entity("evaluation", kept.id)]
            assert kept.scores() in (first, second)
        assert sorted(actions) == ["evaluation.add", "evaluation.correct"]
