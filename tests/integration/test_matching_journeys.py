"""Needs to matches and the survey people can find, through both adapters (real Telegram Update JSON
to the webhook, signed WeChat XML), on both databases; time moves only by the fake clock.

- 3-6.1.1, 3-6.1.2: a need sent in WeChat is reviewed and taken in Telegram, becomes an activity plan
  prefilled from it, is published, and the requester is told it is scheduled; staff then see the best
  volunteers with why, and invite one.
- 3-8.1.2.1, 3-7.3: the organizer gets the beneficiaries' survey link and QR code from the card; a
  stranger who never registered answers once in WeChat and once in Telegram (a second time refused),
  and for a high-privacy service no answer carries who gave it."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text as sql

from core.domain.codes import Channel, ServiceContent
from core.domain.need import NeedStatus
from core.domain.people import Actor, Role
from core.domain.survey import QUESTIONS, SurveyKind
from core.services.users import ensure_user, grant_role
from locales import translator
from tests.builders import make_activity, make_admin, make_org, make_volunteer
from tests.fakes.telegram_api import TEST_BOT_USERNAME
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]  # the two-channel app

ORG = "南京市玄武区科技志愿服务队"
STAFF = Person(id=5_600_000_001, first_name="组织者", language_code="zh-hans")
PASSER_BY = Person(id=5_600_000_002, first_name="路人甲", language_code="zh-hans")
ELDERLY_HELP = ServiceContent.ELDERLY_TECH_HELP.value


async def _org_with_telegram_staff(db, clock) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, org.id)
        for name, skills in (("王医生", ["medicine"]), ("赵老师", ["education"])):
            volunteer, _ = await make_volunteer(uow, clock, org_id=org.id, name=name)
            volunteer.service_areas, volunteer.skills = [ELDERLY_HELP], skills
        await uow.commit()
    return org.id


async def test_need_in_wechat_taken_planned_published_requester_told_then_matched_and_invited(
    db, clock, chat, wechat
) -> None:
    org_id = await _org_with_telegram_staff(db, clock)
    requester = wechat("oMatchRequester000000000001")
    await requester.subscribe(f"need-{org_id}")
    await requester.say("梅园街道社区卫生服务中心")
    await requester.pick("同意")
    await requester.say("13812345678")
    await requester.say("为社区老人讲解智能手机挂号")
    await requester.pick("健康助老类")
    await requester.pick("科技助老")
    await requester.pick("社会公众")
    await requester.say("2")
    await requester.pick("医学")
    await requester.pick("完成")
    await requester.pick("线下")
    await requester.say("12月上旬的周末上午")
    await requester.say("梅园街道社区活动室")
    assert re.match(r"^需求已提交（编号 #\d+）！", await requester.pick("提交需求"))

    staff = chat(STAFF)
    await staff.say("/needs")
    await staff.press("梅园街道")
    await staff.press("通过")
    text = await staff.press(f"以“{ORG}”承接")
    # Taken: the plan starts prefilled from the need, asking only what the need does not say.
    assert "已承接需求" in text and "已按需求填好" in text and "12月上旬的周末上午" in text
    assert "开始时间？" in text
    await staff.say("2026-12-05 09:00")
    await staff.say("11:00")
    await staff.say("32.0603,118.7969")
    await staff.say("教老人用手机挂号、问诊")
    await staff.say("饮用水、交通补贴")
    await staff.say("无")
    await staff.press("低")
    summary = await staff.press("否")
    assert "科技助老：梅园街道社区卫生服务中心" in summary and "梅园街道社区活动室" in summary
    assert "2026-12-05 09:00" in summary
    assert "已发布" in await staff.press("立即发布")

    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.WECHAT, requester.openid)
        [need] = await uow.needs.for_user(user.id)
        notices = await uow.notices.for_user(user.id)
        activity_id = [a for a in await uow.audit.for_entity("need", need.id) if a.action == "need_plan"][
            0
        ].details["activity"]
        activity = await uow.activities.get(activity_id)
        assert need.status is NeedStatus.TAKEN
        assert activity.capacity == 2 and activity.required_skills == ["medicine"]
        assert activity.content == "为社区老人讲解智能手机挂号" and activity.org_id == org_id
        assert [n.message_key for n in notices][-1] == "notice.need_scheduled"
        need_id = need.id
        told = translator("zh_CN")(notices[-1].message_key, **notices[-1].params)
    assert f"你的需求 #{need_id} 已安排：{ORG} 将开展“科技助老：梅园街道社区卫生服务中心”" in told
    assert "时间：2026-12-05 09:00" in told and "梅园街道社区活动室" in told

    # The best volunteers, with why; the one whose field fits first.
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press("科技助老：梅园街道")
    text = await staff.press("匹配志愿者")
    assert "最匹配的 2 名志愿者" in text
    assert "1. 王医生 · 医学 · 科技助老 · 尚无服务记录" in text
    assert "2. 赵老师 · 科技助老 · 尚无服务记录" in text
    assert "已邀请 王医生" in await staff.press("邀请 王医生")
    assert "1. 王医生 · 医学 · 科技助老 · 尚无服务记录 · 已邀请" in staff.text
    # From the need as well: the same ranking, now for the planned activity.
    await staff.say("/needs")
    await staff.press("梅园街道")
    buttons = [
        b["text"]
        for m in staff.last
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    assert "查看已安排的活动" in buttons and "🗓 安排成活动" not in buttons
    assert "2. 赵老师" in await staff.press("匹配志愿者")


async def _ended_activity(db, clock, *, high_privacy: bool) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, org.id)
        admin = await make_admin(uow, clock)
        start = clock.now() + timedelta(hours=1)
        activity = await make_activity(
            uow,
            clock,
            admin,
            org.id,
            title="老年人心理健康讲座",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            high_privacy=high_privacy,
        )
        await uow.commit()
    clock.advance(hours=4)
    return activity.id


async def _answer(say, pick, count: int) -> str:
    for _ in range(count):
        await pick("5 非常满意")
    return await pick("跳过")


async def test_organizer_gets_the_survey_link_and_qr_and_strangers_answer_once_anonymously(
    db, clock, chat, wechat, fake_telegram
) -> None:
    activity_id = await _ended_activity(db, clock, high_privacy=True)
    payload = f"survey-{activity_id}"
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press("老年人心理健康讲座")
    photos_before = len(fake_telegram.calls("sendPhoto"))
    text = await staff.press("满意度调查")
    assert f"https://t.me/{TEST_BOT_USERNAME}?start={payload}" in text
    assert f"stvs wechat qrcode {payload}" in text and "答卷不记录作答人" in text
    [photo] = [c for c in fake_telegram.calls("sendPhoto")[photos_before:] if c.params["chat_id"] == STAFF.id]
    assert photo.params["photo"].data.startswith(b"\x89PNG") and f"start={payload}" in photo.params["caption"]

    count = len(QUESTIONS[SurveyKind.BENEFICIARY])
    # A stranger in WeChat scans the scene QR code: no registration, one answer.
    stranger = wechat("oMatchStranger0000000000001")
    assert "无需注册" in await stranger.scan(payload)
    assert "感谢" in await _answer(stranger.say, stranger.pick, count)
    assert "只能填写一次" in await stranger.scan(payload)
    # A passer-by opens the Telegram link.
    passer_by = chat(PASSER_BY)
    assert "无需注册" in await passer_by.send(passer_by.updates.start(payload, person=PASSER_BY))
    assert "感谢" in await _answer(passer_by.say, passer_by.press, count)
    await passer_by.send(passer_by.updates.start(payload, person=PASSER_BY))
    assert "只能填写一次" in passer_by.text

    async with db.uow() as uow:
        authors = [r.user_id for r in await uow.surveys.for_activity(activity_id)]
        respondents = (
            await uow.session.execute(
                sql("SELECT count(*) FROM survey_respondents WHERE activity_id = :a"), {"a": activity_id}
            )
        ).scalar_one()
        for openid, channel in ((stranger.openid, Channel.WECHAT), (str(PASSER_BY.id), Channel.TELEGRAM)):
            user = await uow.users.by_identity(channel, openid)
            assert await uow.volunteers.by_user(user.id) is None  # never registered
    assert authors == [None, None] and respondents == 2  # 3-7.3: no author kept with the answers
    stats = await staff.say(f"/stats act-{activity_id}")
    assert "2" in stats and PASSER_BY.first_name not in stats and stranger.openid not in stats


async def test_an_ordinary_survey_keeps_the_author_and_wechat_staff_see_how_to_get_the_scene_qr(
    db, clock, chat, wechat
) -> None:
    activity_id = await _ended_activity(db, clock, high_privacy=False)
    async with db.uow() as uow:
        org_id = (await uow.activities.get(activity_id)).org_id
        user = await ensure_user(uow, clock, Channel.WECHAT, "oMatchStaff000000000000001")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, org_id)
        await uow.commit()
    staff = wechat("oMatchStaff000000000000001")
    await staff.say("/organizer")
    await staff.pick("本组织活动")
    await staff.pick("老年人心理健康讲座")
    text = await staff.pick("满意度调查")
    assert f"stvs wechat qrcode survey-{activity_id}" in text and "答卷不记录作答人" not in text
    passer_by = chat(PASSER_BY)
    await passer_by.send(passer_by.updates.start(f"survey-{activity_id}", person=PASSER_BY))
    await _answer(passer_by.say, passer_by.press, len(QUESTIONS[SurveyKind.BENEFICIARY]))
    async with db.uow() as uow:
        [response] = await uow.surveys.for_activity(activity_id)
        user = await uow.users.by_identity(Channel.TELEGRAM, str(PASSER_BY.id))
        assert response.user_id == user.id
