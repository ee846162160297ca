"""Star ratings on both databases (4-6.2.1, 4-6.3.1): a volunteer's stars hold a year after the last
confirmed service and the nightly review tells of a lapse once; an org's rating counts its teams, the
last twelve months, confirmed service only, and only those who may see it see it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.domain.activity import Activity, Project
from core.domain.attendance import RecordStatus, ServiceRecord
from core.domain.codes import Channel, TrainingKind
from core.domain.people import Actor, Role
from core.domain.survey import SurveyKind, SurveyResponse
from core.errors import PermissionDenied
from core.policy import Policy
from core.ports import UnitOfWork
from core.services.activities import cancel_activity
from core.services.stars import rate_org, review_stars, volunteer_standing
from core.services.users import ensure_user, grant_role
from scheduler.jobs import run_job
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock
from tests.integration.test_attendance_journeys import (
    STAFF,
)
from tests.integration.two_channels import (
    app_client,
    chat,
    mode,
    settings,
)

__all__ = ["app_client", "chat", "mode", "settings"]  # the real app, as the attendance journeys run it

POLICY = Policy()
POLICY_ZONE = ZoneInfo(POLICY.default_timezone)


async def _record(
    uow: UnitOfWork,
    clock: FakeClock,
    volunteer_id: int,
    activity: Activity,
    hours: str,
    status: RecordStatus = RecordStatus.CONFIRMED,
) -> ServiceRecord:
    assert activity.id is not None
    return await uow.records.add(
        ServiceRecord(
            volunteer_id=volunteer_id,
            activity_id=activity.id,
            org_id=activity.org_id,
            started_at=activity.starts_at,
            ended_at=activity.ends_at,
            onsite_hours=Decimal(hours),
            coefficient=Decimal(1),
            credited_hours=Decimal(hours),
            created_at=clock.now(),
            status=status,
        )
    )


async def _notice_keys(db: Database, volunteer_id: int) -> list[str]:
    async with db.uow() as uow:
        user_id = await uow.volunteers.user_id_of(volunteer_id)
        assert user_id is not None
        return [n.key for n in await uow.notices.for_user(user_id) if n.key.startswith("star.")]


# ---- volunteers (4-6.2.1) ------------------------------------------------------------------------


async def test_stars_hold_a_year_after_the_last_confirmed_service_trainings_and_pending_aside(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京科普宣讲志愿服务队")
        staff = await make_staff(uow, clock, org.id)
        volunteer, _ = await make_volunteer(uow, clock, org_id=org.id)
        service = await make_activity(uow, clock, staff, org.id)
        training = await make_activity(uow, clock, staff, org.id, training_kind=TrainingKind.POST)
        later = await make_activity(
            uow,
            clock,
            staff,
            org.id,
            starts_at=clock.now() + timedelta(days=40),
            ends_at=clock.now() + timedelta(days=40, hours=3),
        )
        await _record(uow, clock, volunteer.id, service, "95.0")
        await _record(uow, clock, volunteer.id, training, "10.0")  # training: not service hours
        pending = await _record(uow, clock, volunteer.id, later, "8.0", RecordStatus.PENDING)
        await uow.commit()
    async with db.uow() as uow:
        hours, standing = await volunteer_standing(uow, POLICY, volunteer.id)
    assert hours == Decimal("95.0") and standing.level == 0

    async with db.uow() as uow:
        record = await uow.records.get(pending.id or 0)
        assert record is not None
        record.status = RecordStatus.CONFIRMED
        await uow.commit()
    async with db.uow() as uow:
        hours, standing = await volunteer_standing(uow, POLICY, volunteer.id)
    last_day = record.started_at.astimezone(POLICY_ZONE).date()
    assert hours == Decimal("103.0") and standing.level == 1
    assert standing.valid_until == last_day + timedelta(days=365)


async def test_review_warns_thirty_days_ahead_then_tells_the_lapse_once(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京科普宣讲志愿服务队")
        staff = await make_staff(uow, clock, org.id)
        starred, _ = await make_volunteer(uow, clock, org_id=org.id)
        unstarred, _ = await make_volunteer(uow, clock, org_id=org.id, name="赵新手")
        activity = await make_activity(uow, clock, staff, org.id)
        await _record(uow, clock, starred.id, activity, "320.0")  # two stars
        await _record(uow, clock, unstarred.id, activity, "40.0")
        await uow.commit()
    last_day = activity.starts_at.astimezone(POLICY_ZONE).date()
    until = last_day + timedelta(days=365)

    clock.set(_noon(until - timedelta(days=31)))
    assert await run_job("stars-review", db.uow, clock, POLICY) == 0
    clock.set(_noon(until - timedelta(days=30)))
    assert await run_job("stars-review", db.uow, clock, POLICY) == 1
    assert await run_job("stars-review", db.uow, clock, POLICY) == 0  # told once
    assert await _notice_keys(db, starred.id) == [f"star.lapsing:{starred.id}:{last_day}"]

    clock.set(_noon(until))
    async with db.uow() as uow:
        assert await review_stars(uow, clock, POLICY) == 0  # still in force on its last day
    clock.set(_noon(until + timedelta(days=1)))
    assert await run_job("stars-review", db.uow, clock, POLICY) == 1
    assert await run_job("stars-review", db.uow, clock, POLICY) == 0
    keys = await _notice_keys(db, starred.id)
    assert keys == [f"star.lapsing:{starred.id}:{last_day}", f"star.lapsed:{starred.id}:{last_day}"]
    assert await _notice_keys(db, unstarred.id) == []
    async with db.uow() as uow:
        notices = [n for n in await uow.notices.for_user(await uow.volunteers.user_id_of(starred.id) or 0)]
        lapsed = next(n for n in notices if n.key.startswith("star.lapsed"))
        assert lapsed.message_key == "notice.star_lapsed"
        assert lapsed.params["stars"] == "★★" and lapsed.params["until"] == until.isoformat()
        _, standing = await volunteer_standing(uow, POLICY, starred.id)
        assert standing.lapsed(until + timedelta(days=1))


async def test_a_review_missed_for_a_week_still_tells_the_lapse(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京科普宣讲志愿服务队")
        staff = await make_staff(uow, clock, org.id)
        volunteer, _ = await make_volunteer(uow, clock, org_id=org.id)
        activity = await make_activity(uow, clock, staff, org.id)
        await _record(uow, clock, volunteer.id, activity, "150.0")
        await uow.commit()
    last_day = activity.starts_at.astimezone(POLICY_ZONE).date()
    clock.set(_noon(last_day + timedelta(days=365 + 7)))
    await run_job("stars-review", db.uow, clock, POLICY)
    assert await _notice_keys(db, volunteer.id) == [f"star.lapsed:{volunteer.id}:{last_day}"]


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=POLICY_ZONE)


# ---- organizations (4-6.3.1) ---------------------------------------------------------------------


async def _answers(uow: UnitOfWork, clock: FakeClock, activity: Activity, rating: int, n: int) -> None:
    assert activity.id is not None
    for _ in range(n):
        answers = dict.fromkeys(("process", "manner", "attitude", "expertise", "skill"), rating)
        await uow.surveys.add(SurveyResponse(activity.id, SurveyKind.BENEFICIARY, answers, clock.now()))


async def _past(uow: UnitOfWork, clock: FakeClock, staff: Actor, org_id: int, **changes: Any) -> Activity:
    """An activity that will have been held once the clock moves 30 days on."""
    starts = clock.now() + timedelta(days=10)
    return await make_activity(
        uow, clock, staff, org_id, starts_at=starts, ends_at=starts + timedelta(hours=3), **changes
    )


async def test_org_rating_counts_its_teams_over_the_year_and_confirmed_service_only(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, "南京市科技志愿服务总队")
        team = await make_org(uow, clock, "玄武区科普志愿服务队", parent_id=brigade.id)
        other = await make_org(uow, clock, "鼓楼区科普志愿服务队", parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        project = await uow.projects.add(Project(org_id=team.id, name="科普进社区", brand="玄武科普"))
        held = [await _past(uow, clock, admin, team.id, project_id=project.id) for _ in range(3)]
        training = await _past(uow, clock, admin, team.id, training_kind=TrainingKind.GENERAL)
        cancelled = await _past(uow, clock, admin, team.id)
        await cancel_activity(uow, clock, admin, cancelled.id or 0, "场地不可用")
        elsewhere = await _past(uow, clock, admin, other.id)
        volunteers = [(await make_volunteer(uow, clock, org_id=team.id))[0] for _ in range(4)]
        await _record(uow, clock, volunteers[0].id, held[0], "300.0")
        await _record(uow, clock, volunteers[1].id, held[1], "100.0", RecordStatus.PENDING)
        await _record(uow, clock, volunteers[2].id, training, "50.0")
        await _record(uow, clock, volunteers[3].id, elsewhere, "20.0")
        await _answers(uow, clock, held[0], 5, 6)
        await _answers(uow, clock, held[1], 4, 4)
        await uow.commit()
    clock.advance(days=30)

    async with db.uow() as uow:
        team_standing = await rate_org(uow, clock, admin, team.id)
        brigade_standing = await rate_org(uow, clock, admin, brigade.id)
    f = team_standing.figures
    assert (f.volunteers, f.hours, f.activities, f.answers, f.brands) == (4, Decimal("300.0"), 3, 10, 1)
    assert f.satisfaction == Decimal("4.60")
    parts = {p.name: p.points for p in team_standing.rating.parts}
    # 4/200 × 20, 300/2000 × 25, 3/24 × 20, (4.6 − 1)/4 × 25, 1/2 × 10
    assert parts == {
        "volunteers": Decimal("0.4"),
        "hours": Decimal("3.8"),
        "activities": Decimal("2.5"),
        "satisfaction": Decimal("22.5"),
        "brand": Decimal("5.0"),
    }
    assert team_standing.rating.points == Decimal("34.2") and team_standing.rating.stars == 1
    b = brigade_standing.figures
    assert (b.volunteers, b.hours, b.activities) == (4, Decimal("320.0"), 4)

    clock.advance(days=366)  # a year on, nothing of this counts any more, the members still do
    async with db.uow() as uow:
        f = (await rate_org(uow, clock, admin, team.id)).figures
    assert (f.volunteers, f.hours, f.activities, f.answers, f.brands) == (4, Decimal("0.0"), 0, 0, 0)


async def test_org_rating_is_for_its_staff_and_the_staff_above_it(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, "南京市科技志愿服务总队")
        team = await make_org(uow, clock, "玄武区科普志愿服务队", parent_id=brigade.id)
        sibling = await make_org(uow, clock, "鼓楼区科普志愿服务队", parent_id=brigade.id)
        above, own, beside = [await make_staff(uow, clock, o.id) for o in (brigade, team, sibling)]
        _, volunteer = await make_volunteer(uow, clock, org_id=team.id)
        await uow.commit()
    async with db.uow() as uow:
        assert (await rate_org(uow, clock, above, team.id)).org.id == team.id
        assert (await rate_org(uow, clock, own, team.id)).org.id == team.id
        for outsider, org_id in ((beside, team.id), (own, brigade.id), (volunteer, team.id)):
            with pytest.raises(PermissionDenied):
                await rate_org(uow, clock, outsider, org_id)


# ---- in chat: 组织概况, through the real Telegram webhook --------------------------------------------


async def test_staff_see_the_rating_and_walk_down_to_a_team_in_chat(
    db: Database, clock: FakeClock, chat
) -> None:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, "南京市科技志愿服务总队")
        team = await make_org(uow, clock, "玄武区科普志愿服务队", parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        held = await _past(uow, clock, admin, team.id)
        volunteer, _ = await make_volunteer(uow, clock, org_id=team.id)
        await _record(uow, clock, volunteer.id, held, "12.5")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, brigade.id)
        await uow.commit()
    clock.advance(days=30)
    staff = chat(STAFF)
    await staff.say("/organizer")
    text = await staff.press("组织概况")
    assert "📊 南京市科技志愿服务总队" in text and "下属组织 1 个 · 志愿者 1 人 · 活动 1 场" in text
    assert "已确认服务 12.5 小时 · 开展活动 1 场" in text and "满意度 -（0 份答卷）" in text
    assert "组织星级：暂未评星" in text and "· 服务时长 0.2/25 分：12.5 小时（2000 小时得满分）" in text
    text = await staff.press("玄武区科普志愿服务队")
    assert "📊 玄武区科普志愿服务队" in text and "下属组织 0 个" in text
    text = await staff.press("上级组织")
    assert "📊 南京市科技志愿服务总队" in text


async def test_overview_of_an_org_not_ones_own_is_refused(db: Database, clock: FakeClock, chat) -> None:
    async with db.uow() as uow:
        mine = await make_org(uow, clock, "玄武区科普志愿服务队")
        theirs = await make_org(uow, clock, "鼓楼区科普志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), user.id or 0, Role.ORG_STAFF, mine.id)
        await uow.commit()
    staff = chat(STAFF)
    text = await staff.send(staff.updates.callback(f"ov:{theirs.id}", person=STAFF))
    assert "鼓楼区" not in text and "工作人员" in text


async def test_hours_show_until_when_the_star_holds_then_that_it_lapsed(
    db: Database, clock: FakeClock, chat
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "玄武区科普志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await _past(uow, clock, admin, org.id)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        volunteer, _ = await make_volunteer(uow, clock, org_id=org.id)
        volunteer.user_id = user.id or 0  # the volunteer is the one chatting
        await _record(uow, clock, volunteer.id, activity, "120.0")
        await uow.commit()
    last_day = activity.starts_at.astimezone(POLICY_ZONE).date()
    until = last_day + timedelta(days=365)
    clock.set(_noon(until))
    text = await chat(STAFF).say("/hours")
    assert f"星级：★（有效期至 {until.isoformat()}）" in text
    clock.set(_noon(until + timedelta(days=1)))
    text = await chat(STAFF).say("/hours")
    assert f"星级：★（已于 {until.isoformat()} 到期，再参加一次服务即可恢复）" in text
