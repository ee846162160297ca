"""Edges of the staff tools (a qualification on record, the call for volunteers) and of migration 0009:
self-vouching, forged buttons, full-width input, who a call may reach, a call outliving its
activity, and upgrading a database in use."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Connection

from core.domain.activity import RiskLevel
from core.domain.codes import Channel, Qualification
from core.domain.people import Actor, Role
from core.errors import NotEligible, PermissionDenied
from core.services.access import load_actor
from core.services.activities import cancel_activity, update_activity
from core.services.broadcasts import broadcast_recruitment, recruitment_audience
from core.services.notices import local
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import record_qualification
from storage import migrate
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.chat import conftest as chat_fixtures
from tests.fakes.clock import FakeClock
from tests.integration.test_migrations import _on

chat_user = chat_fixtures.chat_user
conversation = chat_fixtures.conversation

DOCTOR = Qualification.MEDICAL_PRACTITIONER.value


# ---- 1. recording a qualification -------------------------------------------------------------


async def test_staff_cannot_vouch_for_their_own_qualification(db: Database, clock: FakeClock) -> None:
    """A qualification on record means an organizer checked someone else's certificate ("资质（经组织
    核验）"); staff who are volunteers themselves must not put one on their own record and so open
    every clinic to themselves."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        clinic = await make_activity(uow, clock, admin, org.id, required_qualifications=[DOCTOR])
        volunteer, actor = await make_volunteer(uow, clock, org_id=org.id)
        assert actor.user_id is not None and org.id is not None
        await grant_role(uow, clock, Actor.system(), actor.user_id, Role.ORG_STAFF, org.id)
        staff_volunteer = await load_actor(uow, actor.user_id)
        await uow.commit()
    assert volunteer.id is not None and clinic.id is not None

    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await record_qualification(uow, clock, staff_volunteer, volunteer.id, DOCTOR, held=True)


@pytest.mark.parametrize(
    "payload",
    [
        "q.r:²:first_aid",  # "²".isdigit() is True, int("²") raises ValueError
        f"q.w:{10**20}:nurse",  # no such row: SQLite OverflowError, PostgreSQL int32 DataError
        "oa.bc:²",
        f"oa.bcs:{10**20}",
    ],
)
async def test_a_crafted_button_is_refused_not_a_crash(
    db: Database, clock: FakeClock, chat_user, payload
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "staff-crafted")
        assert user.id is not None and org.id is not None
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    staff = chat_user("staff-crafted")
    replies = await staff.send_payload(payload)
    assert replies and "这个按钮已失效，请从菜单重新开始。" in staff.texts(), staff.texts()


async def test_a_volunteer_number_typed_in_full_width_is_found(
    db: Database, clock: FakeClock, chat_user
) -> None:
    """A Chinese input method in full-width mode types "ＫＪ２０２６…" and an ideographic space; the
    project reads full-width digits and letters as ASCII elsewhere (identity_numbers._ascii_form,
    member counts), but the volunteer number lookup answers "没有找到编号为 … 的在册志愿者"."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "staff-fullwidth")
        assert user.id is not None and org.id is not None
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        volunteer, _ = await make_volunteer(uow, clock, name="张三")
        await uow.commit()
    number = volunteer.volunteer_number
    assert number is not None
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    typed = full_width[:6] + "\u3000" + full_width[6:]  # ＫＪ２０２６　０００…
    staff = chat_user("staff-fullwidth")
    await staff.text("/qualification")
    await staff.text(typed)
    assert f"志愿者：张三（{number}）" in staff.texts(), staff.texts()


# ---- 2. recruitment broadcast -----------------------------------------------------------------


async def test_a_call_for_a_hazardous_activity_skips_volunteers_too_young_to_sign_up(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, org.id)
        hazardous = await make_activity(
            uow, clock, admin, org.id, risk_level=RiskLevel.HIGH, risks="高空作业，需系安全绳"
        )
        adult_volunteer, adult = await make_volunteer(uow, clock, org_id=org.id, name="成年")
        young_volunteer, young = await make_volunteer(uow, clock, org_id=org.id, name="少年")
        young_volunteer.birth_date = date(2012, 3, 1)  # 14 at the activity
        await uow.commit()
    assert hazardous.id is not None

    async with db.uow() as uow:
        with pytest.raises(NotEligible) as refused:  # what the call would lead the minor to
            await sign_up(uow, clock, young, hazardous.id)
        assert refused.value.key == "signup.too_young"
    async with db.uow() as uow:
        audience = await recruitment_audience(uow, clock, staff, hazardous.id)
    assert audience.user_ids == (adult.user_id,)


async def test_cancelling_an_activity_withdraws_its_call_for_volunteers_not_yet_sent(
    db: Database, clock: FakeClock
) -> None:
    """As briefings are withdrawn with their activity (the dispatcher skips a withdrawn notice), a
    call still in the outbox (a large audience at 100 a run, a retry) must not invite anyone to an
    activity cancelled meanwhile."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, org.id)
        activity = await make_activity(uow, clock, admin, org.id)
        _, member = await make_volunteer(uow, clock, org_id=org.id)
        await uow.commit()
    assert activity.id is not None
    async with db.uow() as uow:
        assert await broadcast_recruitment(uow, clock, staff, activity.id) == 1
        await uow.commit()
    async with db.uow() as uow:
        await cancel_activity(uow, clock, staff, activity.id, "场地临时关闭")
        await uow.commit()
    async with db.uow() as uow:
        calls = [
            n.pending
            for n in await uow.notices.for_user(member.user_id)
            if n.message_key == "notice.recruitment"
        ]
    assert calls == [False], "the call for a cancelled activity is still due to be sent"


# ---- 4. migration 0009 on a database in use ---------------------------------------------------


async def test_0009_upgrades_a_database_whose_organizations_are_referenced(blank_db_url: str) -> None:
    """Any database in use has rows that point at organizations (a sub-org's parent, a staff grant,
    memberships, activities). SQLite's batch copy drops the old table: foreign keys are off for the
    migration (storage/migrate.py) and checked before it commits."""
    await migrate.upgrade(blank_db_url, "0008")
    columns = (
        "name, kind, created_at, service_field, service_items, requirements, leader_name, leader_contact,"
        " member_count, status, unit_full_name, join_requires_approval, timezone, parent_id"
    )
    row = "'{}', 'team', '2026-11-01 00:00:00', '', '[]', '', 'x', 'x', 0, 'approved', false, false, 'Asia/Shanghai', {}"

    def seed(connection: Connection) -> None:
        connection.exec_driver_sql(
            f"INSERT INTO organizations ({columns}) VALUES ({row.format('南京市鼓楼区科技志愿服务队', 'NULL')})"
        )
        connection.exec_driver_sql(
            f"INSERT INTO organizations ({columns}) VALUES ({row.format('南京市鼓楼区宁海路街道科技志愿服务队', 1)})"
        )
        connection.commit()

    await _on(blank_db_url, seed)
    await migrate.upgrade(blank_db_url)
    assert await migrate.current(blank_db_url) == migrate.head()

    def rows(connection: Connection) -> list[tuple[str, int | None]]:
        found = connection.exec_driver_sql("SELECT name, parent_id FROM organizations ORDER BY id").all()
        return [tuple(r) for r in found]

    assert await _on(blank_db_url, rows) == [
        ("南京市鼓楼区科技志愿服务队", None),
        ("南京市鼓楼区宁海路街道科技志愿服务队", 1),
    ]


async def test_a_call_not_yet_sent_carries_the_new_time_after_an_edit(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, org.id)
        activity = await make_activity(uow, clock, admin, org.id)
        _, member = await make_volunteer(uow, clock, org_id=org.id)
        await uow.commit()
    assert activity.id is not None
    async with db.uow() as uow:
        await broadcast_recruitment(uow, clock, staff, activity.id)
        await uow.commit()
    later = activity.starts_at + timedelta(days=1)
    async with db.uow() as uow:
        await update_activity(
            uow, clock, staff, activity.id, {"starts_at": later, "ends_at": later + timedelta(hours=2)}
        )
        await uow.commit()
    async with db.uow() as uow:
        (call,) = [
            n for n in await uow.notices.for_user(member.user_id) if n.message_key == "notice.recruitment"
        ]
        assert call.pending and call.params["start"] == local(later, activity.timezone)
        assert call.params["org"] == "南京市鼓楼区科技志愿服务队"


async def test_looking_up_volunteer_numbers_one_after_another_stops_for_the_hour(
    db: Database, clock: FakeClock, chat_user
) -> None:
    """Numbers are sequential (KJ + year + id): each lookup is audited, and a run of them stops."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "staff-walker")
        assert user.id is not None and org.id is not None
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        volunteer, _ = await make_volunteer(uow, clock, name="张三")
        await uow.commit()
    staff = chat_user("staff-walker")
    await staff.text("/qualification")
    for n in range(30):
        await staff.text(f"KJ1999{n:07d}")  # none of them exists: the question stays
    await staff.text(volunteer.volunteer_number or "")
    assert "一小时内已查询 30 次志愿者编号，请稍后再查。" in staff.texts()
    async with db.uow() as uow:
        entries = await uow.audit.for_entity("user", user.id)
        assert sum(e.action == "qualification.lookup" for e in entries) == 30
    clock.advance(hours=1, minutes=1)
    await staff.text("/qualification")
    await staff.text(volunteer.volunteer_number or "")
    assert "志愿者：张三" in staff.texts()
