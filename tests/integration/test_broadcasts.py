"""Recruitment broadcast (2-7.2, 3-6.1.3.3, targeted by 2-6.2 b): who is called, once a day at most,
all queued in one transaction and sent by the outbox; then the journey in Telegram."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain.codes import Channel, Qualification, ServiceContent
from core.domain.people import Actor, Role
from core.domain.volunteer import VolunteerStatus
from core.errors import Conflict, NotEligible, PermissionDenied
from core.services.activities import create_activity
from core.services.broadcasts import broadcast_recruitment, recruitment_audience
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration import test_telegram_webhook as telegram

chat = telegram.chat
updates = telegram.updates

LECTURE = ServiceContent.POPULAR_LECTURE.value
OTHER = ServiceContent.SCIENCE_EDUCATION.value


async def _world(db: Database, clock: FakeClock) -> dict[str, Any]:
    """A team with a sub-team and an unrelated team; volunteers in every position a rule looks at."""
    async with db.uow() as uow:
        team = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        sub = await make_org(uow, clock, "南京市鼓楼区宁海路街道科技志愿服务队", parent_id=team.id)
        strict = await make_org(
            uow, clock, "南京市鼓楼区湖南路街道科技志愿服务队", parent_id=team.id, join_requires_approval=True
        )
        elsewhere = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, team.id)
        activity = await make_activity(
            uow, clock, admin, team.id, service_content=ServiceContent.POPULAR_LECTURE
        )
        people: dict[str, Any] = {}
        for name, org, areas in (
            ("any", team, []),  # chose no service areas: any kind is welcome
            ("match", sub, [LECTURE, OTHER]),
            ("other_kind", sub, [OTHER]),
            ("elsewhere", elsewhere, [LECTURE]),
            ("signed_up", team, [LECTURE]),
            ("pending", strict, [LECTURE]),
            ("cleared", team, [LECTURE]),
        ):
            volunteer, actor = await make_volunteer(uow, clock, org_id=org.id, name=name.replace("_", " "))
            volunteer.service_areas = areas
            people[name] = actor
        await sign_up(uow, clock, people["signed_up"], activity.id)
        cleared = await uow.volunteers.get(people["cleared"].volunteer_id)
        assert cleared is not None
        cleared.status = VolunteerStatus.CLEARED
        await uow.commit()
    return {"activity": activity, "staff": staff, "admin": admin, "team": team, "people": people}


async def test_the_call_reaches_members_below_who_would_take_it(db: Database, clock: FakeClock) -> None:
    world = await _world(db, clock)
    people, activity = world["people"], world["activity"]
    async with db.uow() as uow:
        audience = await recruitment_audience(uow, clock, world["staff"], activity.id)
    assert set(audience.user_ids) == {people["any"].user_id, people["match"].user_id}


async def test_a_call_is_queued_once_and_again_only_after_a_day(db: Database, clock: FakeClock) -> None:
    world = await _world(db, clock)
    people, activity, staff = world["people"], world["activity"], world["staff"]
    async with db.uow() as uow:
        assert await broadcast_recruitment(uow, clock, staff, activity.id) == 2
        await uow.commit()
    async with db.uow() as uow:
        notices = await uow.notices.for_user(people["match"].user_id)
        (call,) = [n for n in notices if n.message_key == "notice.recruitment"]
        assert call.key == f"recruit:{activity.id}:1:{people['match'].user_id}"
        assert call.params["title"] == activity.title and call.params["org"] == "南京市鼓楼区科技志愿服务队"
        assert call.choices == [["chat.button.view_activity", f"a:{activity.id}"]]
        assert await uow.notices.for_user(people["other_kind"].user_id) == []
        with pytest.raises(Conflict) as soon:
            await broadcast_recruitment(uow, clock, staff, activity.id)
        assert soon.value.key == "broadcast.too_soon"

    clock.advance(hours=25)
    async with db.uow() as uow:  # the one who signed up in between is not called again
        await sign_up(uow, clock, people["any"], activity.id)
        assert await broadcast_recruitment(uow, clock, staff, activity.id) == 1
        await uow.commit()
    async with db.uow() as uow:
        keys = [n.key for n in await uow.notices.for_user(people["match"].user_id)]
        assert keys == [
            f"recruit:{activity.id}:1:{people['match'].user_id}",
            f"recruit:{activity.id}:2:{people['match'].user_id}",
        ]
        entries = [
            e
            for e in await uow.audit.for_entity("activity", activity.id)
            if e.action == "recruitment.broadcast"
        ]
        assert [e.details["recipients"] for e in entries] == [2, 1]


async def test_only_staff_call_and_only_for_an_activity_open_to_sign_ups(
    db: Database, clock: FakeClock
) -> None:
    world = await _world(db, clock)
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await broadcast_recruitment(uow, clock, world["people"]["any"], world["activity"].id)
        draft = await create_activity(uow, clock, world["admin"], activity_draft(world["team"].id, clock))
        with pytest.raises(NotEligible) as closed:
            await broadcast_recruitment(uow, clock, world["staff"], draft.id)
        assert closed.value.key == "broadcast.not_open"


async def test_a_call_for_a_qualified_service_reaches_only_those_on_record(
    db: Database, clock: FakeClock
) -> None:
    world = await _world(db, clock)
    people = world["people"]
    async with db.uow() as uow:
        clinic = await make_activity(
            uow,
            clock,
            world["admin"],
            world["team"].id,
            service_content=ServiceContent.POPULAR_LECTURE,
            required_qualifications=[Qualification.NURSE.value],
        )
        nurse = await uow.volunteers.get(people["match"].volunteer_id)
        assert nurse is not None
        nurse.qualifications = [Qualification.NURSE.value]
        await uow.commit()
    async with db.uow() as uow:
        audience = await recruitment_audience(uow, clock, world["staff"], clinic.id)
    assert audience.user_ids == (people["match"].user_id,)


STAFF_ZH = Person(id=5_000_000_029, first_name="组织者", language_code="zh-hans")


async def test_in_telegram_staff_send_the_call_and_a_member_opens_the_activity(
    db, clock, chat, app_client
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, title="社区防诈骗科普讲座")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF_ZH.id))
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    volunteer = chat(telegram.VOLUNTEER_ZH)
    await telegram._register(volunteer, "13812345678")  # joins 南京市玄武区科技志愿服务队

    staff = chat(STAFF_ZH)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press("社区防诈骗科普讲座")
    text = await staff.press("广播招募")
    assert text.startswith("将向 1 名志愿者发送“社区防诈骗科普讲座”的招募消息")
    assert "已将“社区防诈骗科普讲座”的招募消息加入发送队列，共 1 人" in await staff.press("确定发送")
    # The preview's button pressed again: refused, and nothing more is queued.
    again = await staff.send(staff.updates.callback(f"oa.bcs:{activity.id}", person=STAFF_ZH))
    assert "这个活动在 24 小时内已经广播过招募" in again

    result = await dispatch_due(db.uow, clock, app_client.app[telegram.SERVICES].messengers, translator)
    assert result.sent == 1
    (call,) = volunteer.new_messages()
    assert call["text"].startswith("【招募】南京市玄武区科技志愿服务队 正在招募志愿者：社区防诈骗科普讲座")
    volunteer.last = [call]
    card = await volunteer.press("查看活动")
    assert "社区防诈骗科普讲座" in card and "我要报名" in str(volunteer.last[-1]["reply_markup"])


async def test_a_volunteer_who_turned_calls_off_in_settings_is_not_called(db, clock, chat) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, title="社区防诈骗科普讲座")
        staff = await make_staff(uow, clock, org.id)
        await uow.commit()
    volunteer = chat(telegram.VOLUNTEER_ZH)
    await telegram._register(volunteer, "13812345678")  # joins 南京市玄武区科技志愿服务队
    await volunteer.say("/profile")
    text = await volunteer.press("消息设置")
    assert "招募消息（组织向匹配的志愿者发出的活动招募）：接收" in text
    text = await volunteer.press("不再接收招募消息")
    assert "今后不再向您发送招募消息" in text and "：不接收" in text
    async with db.uow() as uow:
        assert (await recruitment_audience(uow, clock, staff, activity.id)).user_ids == ()

    text = await volunteer.say("/settings")
    assert "：不接收" in text
    assert "今后会向您发送匹配的招募消息" in await volunteer.press("重新接收招募消息")
    async with db.uow() as uow:
        assert len((await recruitment_audience(uow, clock, staff, activity.id)).user_ids) == 1
