"""The activity record (3-6.3) on both databases and in chat: filed by the organizing org's staff after the
activity (the activity is then recorded), corrected with an audit trail, listed when overdue for the org
and the org above it, reminded on day 5 and alerted after day 7 by the daily job, once each. The chat
journeys go through the real Telegram webhook and the real WeChat endpoint (safe mode); time moves only
through the fake clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from core.domain.activity import ActivityStatus
from core.domain.attendance import MakeupStatus, RecordStatus
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.errors import Conflict, InvalidInput, NotEligible, PermissionDenied
from core.policy import Policy
from core.services.access import load_actor
from core.services.activities import cancel_activity
from core.services.attendance import staff_check
from core.services.records import confirm_records, decide_makeup, makeup_candidates, request_makeup
from core.services.reports import (
    ReportForm,
    file_report,
    missing_reports,
    report_scope,
    revise_report,
)
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from scheduler.jobs import run_job
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import inline_buttons, organizer_card

BRIGADE = "南京市科技志愿服务总队"
TEAM = "南京市玄武区科技志愿服务队"
OTHER = "南京市鼓楼区科技志愿服务队"
TITLE = "玄武湖科普讲解"
STAFF = Person(id=5_400_000_009, first_name="组织者", language_code="zh-hans")
PARENT_STAFF = Person(id=5_400_000_008, first_name="总队", language_code="zh-hans")
WECHAT_STAFF = "oReportStaff0000000000000001"


# ---- services, on both databases -----------------------------------------------------------------


@dataclass
class Orgs:
    brigade: int
    team: int
    other: int
    team_staff: Actor
    brigade_staff: Actor
    other_staff: Actor


async def _orgs(db: Database, clock: FakeClock) -> Orgs:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        other = await make_org(uow, clock, OTHER, parent_id=brigade.id)
        orgs = Orgs(
            brigade.id,
            team.id,
            other.id,
            await make_staff(uow, clock, team.id),
            await make_staff(uow, clock, brigade.id),
            await make_staff(uow, clock, other.id),
        )
        await uow.commit()
    return orgs


async def _activity(db: Database, clock: FakeClock, org_id: int, **changes: Any) -> tuple[int, datetime]:
    """Published by an admin, starting in ten days for three hours (the builders' plan)."""
    async with db.uow() as uow:
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org_id, title=TITLE, **changes)
        await uow.commit()
    return activity.id, activity.ends_at


def _form(ends_at: datetime, **changes: Any) -> ReportForm:
    form = ReportForm(
        beneficiaries="社区老年居民",
        beneficiary_count=45,
        content="防诈骗讲座 1 场，现场答疑",
        served_from=ends_at - timedelta(hours=3),
        served_until=ends_at,
        quality=4,
        leader="王明",
        recorder="李芳",
        summary="居民参与积极",
    )
    return replace(form, **changes)


async def _file(db: Database, clock: FakeClock, actor: Actor, activity_id: int, form: ReportForm) -> int:
    async with db.uow() as uow:
        report = await file_report(uow, clock, actor, activity_id, form)
        await uow.commit()
    assert report.id is not None
    return report.id


async def _refused(db: Database, clock: FakeClock, actor: Actor, activity_id: int, form: ReportForm) -> Any:
    """The refusal, and nothing written."""
    async with db.uow() as uow:
        with pytest.raises((InvalidInput, NotEligible, PermissionDenied, Conflict)) as refused:
            await file_report(uow, clock, actor, activity_id, form)
    assert await _report(db, activity_id) is None or isinstance(refused.value, Conflict)
    return refused.value


async def _report(db: Database, activity_id: int) -> SimpleNamespace | None:
    async with db.uow() as uow:
        report = await uow.reports.for_activity(activity_id)
        return None if report is None else _copied(report)


async def _status(db: Database, activity_id: int) -> ActivityStatus:
    async with db.uow() as uow:
        activity = await uow.activities.read(activity_id)
        assert activity is not None
        return activity.status


async def _audit(db: Database, report_id: int) -> list[SimpleNamespace]:
    async with db.uow() as uow:
        return [_copied(e) for e in await uow.audit.for_entity("activity_report", report_id)]


def _copied(row: object) -> SimpleNamespace:
    return SimpleNamespace(**{k: v for k, v in vars(row).items() if not k.startswith("_")})


async def test_staff_file_the_record_after_the_end_and_the_activity_is_recorded(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=2))

    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))

    report = await _report(db, activity_id)
    assert report is not None
    assert (report.beneficiaries, report.beneficiary_count, report.quality) == ("社区老年居民", 45, 4)
    assert (report.leader, report.recorder, report.org_id) == ("王明", "李芳", orgs.team)
    assert report.served_until == ends and report.filed_at == clock.now() and report.revised_at is None
    assert report.filed_by == orgs.team_staff.user_id
    assert await _status(db, activity_id) is ActivityStatus.RECORDED
    [entry] = await _audit(db, report.id)
    assert entry.action == "report.file" and entry.details == {"activity_id": activity_id, "late": False}


async def test_a_record_filed_after_the_seven_days_is_kept_and_marked_late(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=9))
    report_id = await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    [entry] = await _audit(db, report_id)
    assert entry.details["late"] is True


async def test_filing_before_the_end_is_refused_with_the_end_time(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends - timedelta(minutes=1))
    form = _form(ends, served_until=ends - timedelta(hours=1))

    refused = await _refused(db, clock, orgs.team_staff, activity_id, form)
    assert refused.key == "report.not_ended" and refused.params["title"] == TITLE
    assert await _status(db, activity_id) is ActivityStatus.PUBLISHED


async def test_staff_of_another_org_and_of_the_parent_org_cannot_file(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=1))

    for actor in (orgs.other_staff, orgs.brigade_staff):  # the parent reads, but never files
        refused = await _refused(db, clock, actor, activity_id, _form(ends))
        assert isinstance(refused, PermissionDenied) and refused.key == "access.not_staff"


async def test_a_cancelled_activity_needs_no_record(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    async with db.uow() as uow:  # called off before it was held (once ended, it is not cancelled)
        await cancel_activity(uow, clock, orgs.team_staff, activity_id, "暴雨")
        await uow.commit()
    clock.set(ends + timedelta(hours=1))

    refused = await _refused(db, clock, orgs.team_staff, activity_id, _form(ends))
    assert refused.key == "report.cancelled"
    async with db.uow() as uow:
        assert await missing_reports(uow, clock, None) == []


async def test_answers_out_of_range_are_refused_each_with_its_reason(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=1))
    cases = {
        "report.invalid.quality": _form(ends, quality=6),
        "report.invalid.count": _form(ends, beneficiary_count=-1),
        "report.invalid.time": _form(ends, served_from=ends, served_until=ends),
        "report.invalid.time_future": _form(ends, served_until=clock.now() + timedelta(hours=1)),
        "report.invalid.leader": _form(ends, leader="  "),
        "report.invalid.beneficiaries": _form(ends, beneficiaries="人" * 201),
        "report.invalid.summary": _form(ends, summary="好" * 2001),
    }
    for key, form in cases.items():
        refused = await _refused(db, clock, orgs.team_staff, activity_id, form)
        assert refused.key == key
    assert await _status(db, activity_id) is ActivityStatus.PUBLISHED


async def test_a_second_filing_is_refused_and_the_first_stands(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=1))
    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    refused = await _refused(db, clock, orgs.team_staff, activity_id, _form(ends, quality=1))
    assert refused.key == "report.exists"
    report = await _report(db, activity_id)
    assert report is not None and report.quality == 4


async def test_revising_the_record_is_audited_with_what_it_said_before(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=1))
    report_id = await _file(db, clock, orgs.team_staff, activity_id, _form(ends))

    clock.advance(days=1)
    async with db.uow() as uow:
        await revise_report(
            uow, clock, orgs.team_staff, activity_id, _form(ends, quality=5, beneficiary_count=50)
        )
        await uow.commit()

    report = await _report(db, activity_id)
    assert report is not None and (report.quality, report.beneficiary_count) == (5, 50)
    assert report.revised_at == clock.now() and report.content == "防诈骗讲座 1 场，现场答疑"
    entries = await _audit(db, report_id)
    assert [e.action for e in entries] == ["report.file", "report.revise"]
    assert entries[1].details == {
        "fields": ["beneficiary_count", "quality"],
        "before_beneficiary_count": 45,
        "before_quality": 4,
    }
    assert entries[1].actor_user_id == orgs.team_staff.user_id


async def test_revising_is_for_the_organizing_org_and_must_change_something(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=1))
    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await revise_report(uow, clock, orgs.brigade_staff, activity_id, _form(ends, quality=1))
        with pytest.raises(InvalidInput) as unchanged:
            await revise_report(uow, clock, orgs.team_staff, activity_id, _form(ends))
    assert unchanged.value.key == "report.unchanged"


async def test_overdue_records_are_listed_for_the_org_and_its_parent_not_for_a_sibling(db, clock) -> None:
    orgs = await _orgs(db, clock)
    late_id, ends = await _activity(db, clock, orgs.team)  # ends first: overdue
    soon_id, _ = await _activity(
        db, clock, orgs.team, starts_at=ends + timedelta(days=2), ends_at=ends + timedelta(days=2, hours=2)
    )
    fresh_id, _ = await _activity(
        db, clock, orgs.team, starts_at=ends + timedelta(days=5), ends_at=ends + timedelta(days=5, hours=1)
    )
    clock.set(ends + timedelta(days=8))  # late: ended 8 days ago; soon: 6 days ago; fresh: 3 days ago

    async with db.uow() as uow:
        for staff in (orgs.team_staff, orgs.brigade_staff):
            listed = await missing_reports(uow, clock, await report_scope(uow, staff))
            assert [(i.activity.activity_id, i.overdue) for i in listed] == [
                (late_id, True),
                (soon_id, False),
            ]
            assert listed[0].org_name == TEAM and listed[0].due_at == ends + timedelta(days=7)
        assert await missing_reports(uow, clock, await report_scope(uow, orgs.other_staff)) == []
        assert orgs.team in await report_scope(uow, orgs.brigade_staff)
        assert fresh_id not in [i.activity.activity_id for i in await missing_reports(uow, clock, None)]


async def test_a_filed_record_is_no_longer_overdue(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=10))
    async with db.uow() as uow:
        [item] = await missing_reports(uow, clock, [orgs.team])
        assert item.overdue
    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    async with db.uow() as uow:
        assert await missing_reports(uow, clock, [orgs.team]) == []
        assert await missing_reports(uow, clock, await report_scope(uow, orgs.brigade_staff)) == []


async def test_hours_and_make_ups_still_work_once_the_record_is_filed(db, clock) -> None:
    """Filing records the activity (已归档); confirming hours and make-up requests go on as before."""
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    async with db.uow() as uow:
        _, first_actor = await make_volunteer(uow, clock, org_id=orgs.team, name="王小明")
        second, second_actor = await make_volunteer(uow, clock, org_id=orgs.team, name="赵小红")
        first_signup = await sign_up(uow, clock, first_actor, activity_id)
        await sign_up(uow, clock, second_actor, activity_id)
        await uow.commit()
    clock.set(ends - timedelta(hours=3))
    for _ in range(2):  # checked in, then out, by hand on site
        async with db.uow() as uow:
            await staff_check(uow, clock, Policy(), orgs.team_staff, first_signup.id)
            await uow.commit()
        clock.set(ends)

    clock.set(ends + timedelta(days=1))
    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    assert await _status(db, activity_id) is ActivityStatus.RECORDED

    async with db.uow() as uow:
        [record] = await uow.records.for_activity(activity_id)
        [confirmed] = await confirm_records(uow, clock, Policy(), orgs.team_staff, [record.id])
        assert confirmed.status is RecordStatus.CONFIRMED
        assert [a.id for a in await makeup_candidates(uow, clock, Policy(), second.id)] == [activity_id]
        request = await request_makeup(
            uow, clock, Policy(), second_actor, activity_id, ends - timedelta(hours=2), ends, "手机没电了"
        )
        decided = await decide_makeup(uow, clock, Policy(), orgs.team_staff, request.id, approve=True)
        assert decided.status is MakeupStatus.APPROVED
        await uow.commit()


# ---- the daily job ------------------------------------------------------------------------------


async def _notices(db: Database, user_id: int | None) -> list[SimpleNamespace]:
    assert user_id is not None
    async with db.uow() as uow:
        return [_copied(n) for n in await uow.notices.for_user(user_id)]


async def test_job_reminds_on_day_5_and_alerts_the_org_and_its_parent_after_day_7_once(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    team_user, brigade_user = orgs.team_staff.user_id, orgs.brigade_staff.user_id

    clock.set(ends + timedelta(days=4, hours=23))
    assert await run_job("reports-remind", db.uow, clock) == 0  # not yet day 5

    clock.set(ends + timedelta(days=5, hours=1))
    assert await run_job("reports-remind", db.uow, clock) == 1
    assert await run_job("reports-remind", db.uow, clock) == 0  # once only
    [due] = await _notices(db, team_user)
    assert due.key == f"report-due:{activity_id}:{team_user}" and due.message_key == "notice.report_due"
    assert due.params["title"] == TITLE and due.params["due"] == "2026-12-18 12:00"
    assert due.choices == [["report.button.open", f"rp:{activity_id}"]]
    assert await _notices(db, brigade_user) == []  # the parent hears only when it is overdue

    clock.set(ends + timedelta(days=7, hours=1))
    assert await run_job("reports-remind", db.uow, clock) == 2
    clock.advance(days=1)
    assert await run_job("reports-remind", db.uow, clock) == 0  # once only, however long overdue
    for user_id in (team_user, brigade_user):
        overdue = [n for n in await _notices(db, user_id) if n.message_key == "notice.report_overdue"]
        assert [n.key for n in overdue] == [f"report-overdue:{activity_id}:{user_id}"]
        assert overdue[0].params["org"] == TEAM
    assert await _notices(db, orgs.other_staff.user_id) == []


async def test_job_says_nothing_of_a_filed_record_and_filing_withdraws_a_waiting_reminder(db, clock) -> None:
    orgs = await _orgs(db, clock)
    activity_id, ends = await _activity(db, clock, orgs.team)
    clock.set(ends + timedelta(days=5, hours=1))
    assert await run_job("reports-remind", db.uow, clock) == 1  # queued, not yet sent

    await _file(db, clock, orgs.team_staff, activity_id, _form(ends))
    [reminder] = await _notices(db, orgs.team_staff.user_id)
    assert reminder.withdrawn_at == clock.now() and reminder.sent_at is None

    clock.set(ends + timedelta(days=8))
    assert await run_job("reports-remind", db.uow, clock) == 0
    assert await _notices(db, orgs.brigade_staff.user_id) == []


# ---- chat: the real Telegram webhook and the real WeChat endpoint (safe mode) -----------------------


@dataclass
class World:
    activity_id: int
    starts: datetime
    ends: datetime


async def _staff_user(uow: Any, clock: FakeClock, channel: Channel, external_id: str, org_id: int) -> int:
    user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
    await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org_id)
    return user.id


async def _world(db: Database, clock: FakeClock, *, staff_name: str | None = "刘组织") -> World:
    """A team under a brigade; an activity tomorrow 09:00–12:00 (Nanjing time); the team's staff on
    Telegram (a registered volunteer called ``staff_name`` when given), the brigade's staff on Telegram
    and the team's staff on WeChat."""
    starts = clock.now() + timedelta(days=1)
    ends = starts + timedelta(hours=3)
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        activity = await make_activity(
            uow, clock, admin, team.id, title=TITLE, starts_at=starts, ends_at=ends, beneficiaries="社区居民"
        )
        user_id = await _staff_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), team.id)
        if staff_name is not None:
            await give_consent(uow, clock, user_id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
            form = RegistrationForm(
                name=staff_name, phone="13900001111", region="江苏省南京市玄武区", birth_date=date(1985, 3, 1)
            )
            await register_volunteer(uow, clock, user_id, form, policy=Policy())
        await _staff_user(uow, clock, Channel.TELEGRAM, str(PARENT_STAFF.id), brigade.id)
        await _staff_user(uow, clock, Channel.WECHAT, WECHAT_STAFF, team.id)
        await uow.commit()
    return World(activity.id, starts, ends)


async def _stored(db: Database, activity_id: int) -> SimpleNamespace | None:
    return await _report(db, activity_id)


async def test_staff_file_the_record_from_the_staff_card_with_the_defaults_offered(db, clock, chat) -> None:
    world = await _world(db, clock)
    staff = chat(STAFF)

    clock.set(world.ends - timedelta(minutes=5))
    await organizer_card(staff, TITLE)
    assert "活动记录" not in inline_buttons(staff)  # not before the activity has ended

    clock.set(world.ends + timedelta(hours=2))
    await organizer_card(staff, TITLE)
    text = await staff.press("活动记录")
    assert f"填写活动记录（CVST 3 6.3）：“{TITLE}”，共 8 项，请在 2026-12-09 12:00 前完成。" in text
    assert "服务对象是谁？请简要描述（200 字以内），例如：玄武区社区老年居民。" in text
    assert inline_buttons(staff) == ["沿用方案：社区居民"]

    text = await staff.press("沿用方案")
    assert "服务了多少人？请输入人数，例如：45（无法统计时填 0）。" in text
    text = await staff.say("四十五")
    assert "服务人数请输入 0 到 1000000 的整数，例如：45。" in text
    assert "服务了多少人？" in text  # asked again
    text = await staff.say("45人")
    assert "服务内容是什么？" in text and "例如：防诈骗讲座 1 场" in text
    await staff.say("防诈骗讲座 1 场，现场答疑 30 人次")
    text = staff.text
    assert "实际服务时间？" in text and "例如：2026-12-02 09:00 - 12:00" in text  # the plan: past once ended
    assert inline_buttons(staff) == ["按计划时间 09:00–12:00"]

    text = await staff.press("按计划时间 09:00–12:00")
    assert "质量评价：1 到 5 分，5 分最好" in text
    assert inline_buttons(staff) == ["1 分 · 差", "2 分 · 较差", "3 分 · 一般", "4 分 · 良好", "5 分 · 优秀"]
    text = await staff.press("4 分")
    assert "活动负责人是谁？请输入姓名，例如：王明。" in text and inline_buttons(staff) == ["刘组织（本人）"]
    text = await staff.say("王明")
    assert "记录人是谁？" in text
    text = await staff.press("刘组织（本人）")
    assert "活动总结与评价" in text and inline_buttons(staff) == ["无"]
    text = await staff.say("居民参与积极，宣传册不够")

    assert f"请核对活动记录：“{TITLE}”" in text
    for line in (
        "日期：2026-12-02",
        "地点：海淀区科技馆",
        "服务对象：社区居民（45 人）",
        "服务内容：防诈骗讲座 1 场，现场答疑 30 人次",
        "服务时间：2026-12-02 09:00–12:00",
        "质量评价：4 分 · 良好",
        "负责人：王明",
        "记录人：刘组织",
        "总结：居民参与积极，宣传册不够",
    ):
        assert line in text, line
    assert inline_buttons(staff) == ["提交", "修改", "取消"]

    text = await staff.press("修改")
    assert "要修改哪一项？" in text and "服务人数" in inline_buttons(staff)
    text = await staff.press("服务人数")
    assert "服务了多少人？" in text
    text = await staff.say("50")
    assert "服务对象：社区居民（50 人）" in text and inline_buttons(staff) == ["提交", "修改", "取消"]
    assert await _stored(db, world.activity_id) is None  # nothing is filed before 提交

    text = await staff.press("提交")
    assert f"✅ 活动记录已归档：“{TITLE}”。" in text
    assert f"📋 活动记录（已归档）：“{TITLE}”" in text and "归档时间：2026-12-02 14:00" in text
    report = await _stored(db, world.activity_id)
    assert report is not None
    assert (report.beneficiaries, report.beneficiary_count, report.quality) == ("社区居民", 50, 4)
    assert (report.leader, report.recorder, report.summary) == ("王明", "刘组织", "居民参与积极，宣传册不够")
    assert report.served_from == world.starts and report.served_until == world.ends
    assert await _status(db, world.activity_id) is ActivityStatus.RECORDED

    text = await organizer_card(staff, TITLE)
    assert f"【{TITLE}】（已归档）" in text
    text = await staff.press("活动记录")
    assert "服务对象：社区居民（50 人）" in text and "修改" in inline_buttons(staff)


async def test_staff_correct_a_filed_record_and_the_change_is_audited(db, clock, chat) -> None:
    world = await _world(db, clock)
    async with db.uow() as uow:
        actor = await load_actor(uow, (await uow.users.by_identity(Channel.TELEGRAM, str(STAFF.id))).id)
    clock.set(world.ends + timedelta(days=1))
    report_id = await _file(db, clock, actor, world.activity_id, _form(world.ends))
    staff = chat(STAFF)

    await organizer_card(staff, TITLE)
    await staff.press("活动记录")
    text = await staff.press("修改")
    assert "要修改哪一项？" in text
    await staff.press("质量评价")
    text = await staff.say("5")  # typed, as well as pressed
    assert "质量评价：5 分 · 优秀" in text and inline_buttons(staff) == ["提交修改", "修改", "取消"]
    text = await staff.press("提交修改")
    assert f"✅ 活动记录已修改：“{TITLE}”。修改前的内容保留在审计记录中。" in text
    assert "归档时间：2026-12-03 12:00，2026-12-03 12:00 修改" in text

    report = await _stored(db, world.activity_id)
    assert report is not None and report.quality == 5 and report.revised_at == clock.now()
    entries = await _audit(db, report_id)
    assert entries[-1].action == "report.revise" and entries[-1].details["before_quality"] == 4


async def test_a_typed_service_time_is_checked_and_each_refusal_says_how_to_fix_it(db, clock, chat) -> None:
    world = await _world(db, clock)
    staff = chat(STAFF)
    clock.set(world.ends + timedelta(hours=1))
    await organizer_card(staff, TITLE)
    await staff.press("活动记录")
    await staff.say("社区居民")
    await staff.say("30")
    await staff.say("讲座")

    text = await staff.say("上午九点到十一点")
    assert (
        "时间格式不对。请按“开始 - 结束”输入，例如：2026-12-02 09:00 - 12:00；"
        "跨天时写两个日期，例如：2026-12-01 22:00 - 2026-12-02 01:00。"
    ) in text
    assert "实际服务时间？" in text  # asked again
    text = await staff.say("2026-12-02 11:00 - 09:00")
    assert "服务结束时间应晚于开始时间，例如：2026-12-02 09:00 - 12:00。" in text
    text = await staff.say("2026-12-02 09:00 - 2026-12-03 11:00")
    assert "服务时间不能晚于现在（2026-12-02 13:00）。" in text
    text = await staff.say("2026-12-02 09:30 - 11:30")
    assert "质量评价" in text
    await staff.say("9")
    assert "质量评价为 1 到 5 分" in staff.text
    await staff.press("3 分")
    await staff.say("王明")
    await staff.say("李芳")
    text = await staff.press("无")
    assert "服务时间：2026-12-02 09:30–11:30" in text and "总结：-" in text
    await staff.press("取消")
    assert "已放弃，活动记录没有保存任何改动。" in staff.text
    assert await _stored(db, world.activity_id) is None


async def test_overdue_list_in_the_organizer_menu_for_the_team_and_its_brigade(db, clock, chat) -> None:
    world = await _world(db, clock)
    staff, parent = chat(STAFF), chat(PARENT_STAFF)
    clock.set(world.ends + timedelta(days=8))

    await staff.say("/organizer")
    text = await staff.press("逾期记录")
    assert "活动记录应在活动结束后 7 日内归档。已逾期 1 项，即将到期 0 项：" in text
    assert f"1. ⚠️ {TITLE}（{TEAM}）：2026-12-02 结束，已逾期 1 天" in text

    text = await parent.say("/records")
    assert f"1. ⚠️ {TITLE}（{TEAM}）：2026-12-02 结束，已逾期 1 天" in text
    assert inline_buttons(parent)[0] == f"12-02 {TITLE}"  # numbered by the list's lines, not by itself
    text = await parent.press(f"12-02 {TITLE}")
    assert f"“{TITLE}”（{TEAM}）的活动记录尚未归档，应在 2026-12-09 12:00 前填写。" in text
    assert "由该组织的工作人员填写" in text

    text = await staff.press(f"12-02 {TITLE}")
    assert "填写活动记录（CVST 3 6.3）" in text and "服务对象是谁？" in text
    assert "已超过 2026-12-09 12:00 的期限，请尽快完成" in text  # not "do it before" a passed date


async def test_due_soon_is_listed_then_nothing_once_filed(db, clock, chat) -> None:
    world = await _world(db, clock)
    staff = chat(STAFF)
    clock.set(world.ends + timedelta(days=6))
    text = await staff.say("/records")
    assert "已逾期 0 项，即将到期 1 项" in text
    assert f"1. ⏳ {TITLE}（{TEAM}）：请在 2026-12-09 12:00 前填写" in text

    async with db.uow() as uow:
        actor = await load_actor(uow, (await uow.users.by_identity(Channel.TELEGRAM, str(STAFF.id))).id)
    await _file(db, clock, actor, world.activity_id, _form(world.ends))
    text = await staff.say("/records")
    assert "没有逾期或即将到期（2 天内）的活动记录。" in text


async def test_wechat_staff_file_the_record_with_numbers_and_typed_text(db, clock, wechat, messenger) -> None:
    world = await _world(db, clock, staff_name=None)
    user = wechat(WECHAT_STAFF)
    clock.set(world.ends + timedelta(days=6))

    text = await user.say("/records")
    assert f"1. ⏳ {TITLE}（{TEAM}）：请在 2026-12-09 12:00 前填写" in text
    assert f"回复 1：12-02 {TITLE}\n" in text  # one number: the channel's
    text = await user.pick(f"12-02 {TITLE}")
    assert "服务对象是谁？" in text and user.options() == ["沿用方案：社区居民"]
    text = await user.say("玄武区老年居民")
    assert "服务了多少人？" in text and user.options() == []
    text = await user.say("1")  # a number typed where no option is shown is the answer
    assert "服务内容是什么？" in text
    await user.pick("沿用方案")
    assert user.options() == ["按计划时间 09:00–12:00"]
    text = await user.say("1")
    assert "质量评价" in text
    text = await user.say("5")  # the fifth option is 5 points
    assert "活动负责人是谁？" in text and user.options() == []  # no name on record: typed
    assert "活动负责人是谁？请输入姓名，例如：王明。" in text and "下面的选项" not in text  # none promised
    text = await user.say("王明")
    assert "记录人是谁？请输入姓名，例如：李芳。" in text and "下面的选项" not in text
    assert user.options() == []
    await user.say("李芳")
    text = await user.pick("无")
    assert "服务对象：玄武区老年居民（1 人）" in text and "质量评价：5 分 · 优秀" in text
    assert user.options() == ["提交", "修改", "取消"]
    text = await user.pick("提交")
    assert f"✅ 活动记录已归档：“{TITLE}”。" in text

    report = await _stored(db, world.activity_id)
    assert report is not None
    assert (report.beneficiaries, report.beneficiary_count, report.quality) == ("玄武区老年居民", 1, 5)
    assert report.content == "讲座与问答" and (report.leader, report.recorder) == ("王明", "李芳")
    assert await _status(db, world.activity_id) is ActivityStatus.RECORDED
