"""Satisfaction surveys in chat (3-8.1.2.1 beneficiaries, 3-8.1.2.2 volunteers), one answer each,
anonymous for high-privacy services (3-7.3), and their statistics for the org's staff (3-8.2)."""

from __future__ import annotations

from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.domain.survey import SurveyKind
from core.services.access import load_actor
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from tests.builders import make_activity, make_org, make_volunteer

ORG = "海淀区科普志愿服务队"


async def _activity(db, clock, staff_id: str, **changes) -> int:
    """A published activity of an org with staff chatting as staff_id; time moved to its day."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, staff_id)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        activity = await make_activity(uow, clock, await load_actor(uow, user.id), org.id, **changes)
        await uow.commit()
        return activity.id


async def _rate(person, *ratings: str) -> None:
    for rating in ratings:
        await person.press(rating)


async def test_beneficiary_answers_by_deep_link_and_only_once(db, clock, chat_user) -> None:
    activity_id = await _activity(db, clock, "8001")
    person = chat_user("8101")
    await person.text(f"/start survey-{activity_id}")
    assert "还没有开始" in person.texts()
    clock.advance(days=10, hours=1)

    await person.text(f"/start survey-{activity_id}")
    assert "社区科普讲座" in person.texts() and "无需注册" in person.texts()
    assert "（1/5）" in person.texts() and "例如：5" in person.texts()
    assert person.buttons() == ["1 非常不满意", "2 不满意", "3 一般", "4 满意", "5 非常满意"]
    await person.text("很好")
    assert "1 到 5" in person.texts() and "（1/5）" in person.texts()
    await _rate(person, "5 非常满意", "4 满意")
    await person.text("3")  # a typed score is an answer too
    await _rate(person, "5 非常满意", "4 满意")
    assert "意见或建议" in person.texts() and "跳过" in person.buttons()
    await person.text("讲解很清楚，希望多留答疑时间")
    assert "感谢您的评价" in person.texts()

    async with db.uow() as uow:
        [response] = await uow.surveys.for_activity(activity_id)
        user = await uow.users.by_identity(Channel.TELEGRAM, "8101")
        assert response.kind is SurveyKind.BENEFICIARY and response.user_id == user.id
        assert response.answers == {"process": 5, "manner": 4, "attitude": 3, "expertise": 5, "skill": 4}
        assert response.comment == "讲解很清楚，希望多留答疑时间"
        assert await uow.volunteers.by_user(user.id) is None

    await person.text(f"/start survey-{activity_id}")
    assert "已经填写过" in person.texts()
    async with db.uow() as uow:
        assert len(await uow.surveys.for_activity(activity_id)) == 1


async def test_volunteer_survey_is_for_those_who_took_part(db, clock, chat_user) -> None:
    activity_id = await _activity(db, clock, "8002")
    async with db.uow() as uow:
        _, outsider = await make_volunteer(uow, clock, name="周旁观")
        _, helper = await make_volunteer(uow, clock, name="吴志愿")
        await sign_up(uow, clock, helper, activity_id)
        outsider_id = (await uow.identities.for_user(outsider.user_id))[0].external_id
        helper_id = (await uow.identities.for_user(helper.user_id))[0].external_id
        await uow.commit()
    clock.advance(days=10, hours=1)

    for someone in (chat_user("8102"), chat_user(outsider_id)):
        await someone.text(f"/start vsurvey-{activity_id}")
        assert "只能由参加" in someone.texts()

    volunteer = chat_user(helper_id)
    await volunteer.text(f"/start vsurvey-{activity_id}")
    assert "志愿者满意度调查" in volunteer.texts() and "（1/3）" in volunteer.texts()
    assert "培训" in volunteer.texts()
    await _rate(volunteer, "4 满意", "5 非常满意", "5 非常满意")
    await volunteer.press("跳过")
    assert "感谢您的评价" in volunteer.texts()
    async with db.uow() as uow:
        [response] = await uow.surveys.for_activity(activity_id)
        assert response.kind is SurveyKind.VOLUNTEER and response.comment is None
        assert response.answers == {"training": 4, "gain": 5, "identification": 5}


async def test_high_privacy_activity_stores_no_user_and_says_so(db, clock, chat_user) -> None:
    activity_id = await _activity(db, clock, "8003", high_privacy=True)
    clock.advance(days=10, hours=1)
    person = chat_user("8103")
    await person.text(f"/start survey-{activity_id}")
    assert "匿名保存" in person.texts()
    await _rate(person, *["3 一般"] * 5)
    await person.press("跳过")
    async with db.uow() as uow:
        [response] = await uow.surveys.for_activity(activity_id)
        assert response.user_id is None
    await person.text(f"/start survey-{activity_id}")
    assert "已经填写过" in person.texts()  # still one answer each


async def test_stats_show_averages_to_staff_only(db, clock, chat_user) -> None:
    activity_id = await _activity(db, clock, "8004")
    clock.advance(days=10, hours=1)
    first, second = chat_user("8104"), chat_user("8105", language="en")
    await first.text(f"/start survey-{activity_id}")
    await _rate(first, *["5 非常满意"] * 5)
    await first.text("很实用")
    await second.text(f"/start survey-{activity_id}")
    await _rate(second, "4 Satisfied", "3 Neutral", "4 Satisfied", "4 Satisfied", "2 Dissatisfied")
    await second.press("Skip")

    staff = chat_user("8004")
    await staff.text(f"/stats act-{activity_id}")
    stats = staff.texts()
    assert "满意度统计" in stats and "【服务对象满意度】共 2 份" in stats
    assert "服务过程：平均 4.50 分，满意（4–5 分）占 100%" in stats
    assert "服务方式：平均 4.00 分，满意（4–5 分）占 50%" in stats
    assert "服务技能：平均 3.50 分，满意（4–5 分）占 50%" in stats
    assert "【志愿者满意度】暂无回答" in stats and "很实用" in stats
    await staff.send_payload(f"stats:{activity_id}")
    assert "平均 4.50 分" in staff.texts()
    await staff.text("/stats 12")
    assert "/stats act-12" in staff.texts()

    await first.text(f"/stats act-{activity_id}")
    assert "只有该组织的工作人员" in first.texts() and "平均" not in first.texts()
