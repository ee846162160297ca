"""Builders for service tests: an approved org, staff, a registered volunteer, a publishable activity.
Each takes an open unit of work and leaves committing to the caller, but for ``committed_signup``, which
opens and commits its own; ``RecordingMessenger`` stands in for a channel the outbox dispatcher sends to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from core.chat.messages import Reply, Say
from core.domain.activity import Activity
from core.domain.attendance import RecordSource, RecordStatus, ServiceRecord, credited_hours
from core.domain.certificate import CertificateLine, CertificateSnapshot
from core.domain.codes import ActivityMode, Channel, OrgKind, ServiceContent
from core.domain.identity_numbers import resident_id_check_digit
from core.domain.organization import Organization
from core.domain.people import Actor, ConsentKind, Role
from core.domain.volunteer import Volunteer
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import load_actor
from core.services.activities import create_activity, publish_activity
from core.services.needs import NeedForm
from core.services.organizations import OrgApplication, create_org
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership
from storage.database import Database

_serial = count(1)


def unique(prefix: str = "u") -> str:
    return f"{prefix}{next(_serial)}"


def phone_for(n: int) -> str:
    return f"138{n:08d}"


def resident_id(first17: str) -> str:
    """A valid GB 11643 number from its first 17 digits."""
    return first17 + resident_id_check_digit(first17)


def org_form(
    name: str, *, kind: OrgKind = OrgKind.TEAM, parent_id: int | None = None, **changes: Any
) -> OrgApplication:
    form = OrgApplication(
        name=name,
        kind=kind,
        parent_id=parent_id,
        service_field="科学普及",
        service_items=(ServiceContent.POPULAR_LECTURE.value,),
        requirements="热爱科普",
        leader_name="王队长",
        leader_contact="13800000000",
        member_count=20,
    )
    return replace(form, **changes)


def need_form(org_id: int | None = None, **changes: Any) -> NeedForm:
    """A need as a community sends it (3-6.1.1): two volunteers, on site, in mid-December."""
    form = NeedForm(
        requester="鼓楼区某社区",
        phone="13955550000",
        description="老年人智能手机使用辅导",
        service_content="b2",
        service_objects=("public",),
        volunteers_needed=2,
        mode="offline",
        preferred_time="12月中旬",
        place="鼓楼区宁海路街道",
        org_id=org_id,
    )
    return replace(form, **changes)


async def make_org(
    uow: UnitOfWork,
    clock: Clock,
    name: str,
    *,
    parent_id: int | None = None,
    kind: OrgKind | None = None,
    **changes: Any,
) -> Organization:
    """An approved org, registered directly by the platform; a name ending in 总队 makes a brigade."""
    kind = kind or (OrgKind.BRIGADE if name.endswith("总队") else OrgKind.TEAM)
    return await create_org(
        uow, clock, Actor.system(), org_form(name, kind=kind, parent_id=parent_id, **changes)
    )


async def make_admin(uow: UnitOfWork, clock: Clock) -> Actor:
    user = await ensure_user(uow, clock, Channel.CONSOLE, unique("admin"))
    assert user.id is not None
    await grant_role(uow, clock, Actor.system(), user.id, Role.PLATFORM_ADMIN)
    return await load_actor(uow, user.id)


async def make_staff(uow: UnitOfWork, clock: Clock, org_id: int) -> Actor:
    user = await ensure_user(uow, clock, Channel.TELEGRAM, unique("staff"))
    assert user.id is not None
    await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org_id)
    return await load_actor(uow, user.id)


async def make_volunteer(
    uow: UnitOfWork,
    clock: Clock,
    *,
    org_id: int | None = None,
    policy: Policy | None = None,
    birth_date: date | None = date(1990, 5, 17),
    qualifications: tuple[str, ...] = (),
    id_number: str | None = None,
    name: str = "李志愿",
) -> tuple[Volunteer, Actor]:
    """A registered volunteer (privacy consent given), joined to org_id when one is given."""
    policy = policy or Policy()
    n = next(_serial)
    user = await ensure_user(uow, clock, Channel.TELEGRAM, f"vol{n}")
    assert user.id is not None
    await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=policy)
    if id_number is not None:
        await give_consent(uow, clock, user.id, ConsentKind.ID_NUMBER, policy=policy)
    form = RegistrationForm(
        name=name,
        phone=phone_for(n),
        region="北京市海淀区",
        birth_date=None if id_number else birth_date,
        id_number=id_number,
        qualifications=qualifications,
    )
    volunteer = await register_volunteer(uow, clock, user.id, form, policy=policy)
    actor = await load_actor(uow, user.id)
    if org_id is not None:
        await request_membership(uow, clock, actor, org_id)
    return volunteer, actor


def online(url: str = "https://meeting.example.cn/1") -> dict[str, Any]:
    """The fields of an activity held online only: no place, a meeting link."""
    return {
        "mode": ActivityMode.ONLINE,
        "online_url": url,
        "place_name": "",
        "address": "",
        "latitude": None,
        "longitude": None,
    }


def activity_draft(org_id: int, clock: Clock, **changes: Any) -> Activity:
    """An activity plan that passes check_publishable (3-6.1.5, 4-5.1.1), starting in ten days."""
    starts = clock.now() + timedelta(days=10)
    fields: dict[str, Any] = {
        "org_id": org_id,
        "title": "社区科普讲座",
        "service_content": ServiceContent.POPULAR_LECTURE,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=3),
        "created_at": clock.now(),
        "mode": ActivityMode.OFFLINE,
        "purpose": "普及防诈骗知识",
        "content": "讲座与问答",
        "beneficiaries": "社区居民",
        "guarantees": "午餐、交通补贴",
        "emergency_plan": "现场急救箱，就近医院",
        "place_name": "海淀区科技馆",
        "address": "北京市海淀区中关村大街1号",
        "latitude": 39.98,
        "longitude": 116.31,
        "capacity": 10,
    }
    fields.update(changes)
    return Activity(**fields)


async def make_activity(uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int, **changes: Any) -> Activity:
    """Created and published by actor (staff of org_id or an admin)."""
    activity = await create_activity(uow, clock, actor, activity_draft(org_id, clock, **changes))
    assert activity.id is not None
    return await publish_activity(uow, clock, actor, activity.id)


@dataclass(frozen=True)
class StaffedActivity:
    org: Organization
    staff: list[Actor]
    activity: Activity
    volunteers: list[Actor]
    chats: list[str]  # each volunteer's Telegram id


async def make_staffed_activity(
    uow: UnitOfWork, clock: Clock, org_name: str, *, volunteers: int, staff: int = 1, **changes: Any
) -> StaffedActivity:
    """An org with its staff and member volunteers, and an activity its first staff member published."""
    org = await make_org(uow, clock, org_name)
    assert org.id is not None
    team = [await make_staff(uow, clock, org.id) for _ in range(staff)]
    activity = await make_activity(uow, clock, team[0], org.id, **changes)
    people = [(await make_volunteer(uow, clock, org_id=org.id))[1] for _ in range(volunteers)]
    chats = [(await uow.identities.for_user(p.user_id))[0].external_id for p in people]
    return StaffedActivity(org, team, activity, people, chats)


CERTIFICATE_LINES = (
    CertificateLine("社区老年人智能手机使用辅导", "海淀区科学技术协会", date(2026, 3, 7), Decimal("4.0")),
    CertificateLine("青少年科学实验开放日", "北京市青少年科技中心", date(2026, 4, 12), Decimal("5.5")),
    CertificateLine("农村科普大篷车巡展讲解", "延庆区科普志愿服务队", date(2026, 5, 16), Decimal("3.0")),
)


def certificate_snapshot(
    lines: tuple[CertificateLine, ...] = CERTIFICATE_LINES, **changes: Any
) -> CertificateSnapshot:
    """A certificate as issued (4-5.5): 12.5 hours over three activities, unless changed."""
    snapshot = CertificateSnapshot(
        number="STVS-2026-7K3QX9M2",
        volunteer_name="欧阳小明",
        masked_id_number="1101**********002X",
        volunteer_number="V2026000123",
        period_start=date(2026, 3, 7),
        period_end=date(2026, 5, 16),
        total_hours=Decimal("12.5"),
        lines=lines,
        issuer="海淀区科学技术协会",
        issued_on=date(2026, 6, 1),
        verify_url="https://stvs.example.cn/verify/STVS-2026-7K3QX9M2",
    )
    return replace(snapshot, **changes)


async def make_record(
    uow: UnitOfWork,
    clock: Clock,
    activity: Activity,
    volunteer_id: int,
    started_at: datetime,
    onsite: str = "3.0",
    *,
    coefficient: str = "1",
    status: RecordStatus = RecordStatus.PENDING,
    source: RecordSource = RecordSource.ATTENDANCE,
    manual: bool = False,
    decided_by: int | None = None,
    void_reason: str | None = None,
) -> ServiceRecord:
    """A service record of the activity's org as check-out (or a make-up) writes it, ``onsite`` hours
    from ``started_at``; decided now by ``decided_by`` when it is not pending."""
    assert activity.id is not None
    hours, factor = Decimal(onsite), Decimal(coefficient)
    record = ServiceRecord(
        volunteer_id=volunteer_id,
        activity_id=activity.id,
        org_id=activity.org_id,
        started_at=started_at,
        ended_at=started_at + timedelta(hours=float(hours)),
        onsite_hours=hours,
        coefficient=factor,
        credited_hours=credited_hours(hours, factor),
        created_at=clock.now(),
        source=source,
        status=status,
        manual=manual,
        decided_by=decided_by if status is not RecordStatus.PENDING else None,
        decided_at=clock.now() if status is not RecordStatus.PENDING else None,
        void_reason=void_reason,
    )
    return await uow.records.add(record)


async def committed_signup(
    db: Database, clock: Clock, actor: Actor, activity_id: int, **options: bool
) -> int:
    """Signs actor up for the activity in a unit of work of its own, committed; the sign-up's id."""
    async with db.uow() as uow:
        signup = await sign_up(uow, clock, actor, activity_id, **options)
        await uow.commit()
    assert signup.id is not None
    return signup.id


class RecordingMessenger:
    """A channel as far as the dispatcher can tell: what was sent to whom."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Say]] = []

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        self.sent.extend((external_id, r) for r in replies if isinstance(r, Say))

    def to(self, external_id: str) -> list[Say]:
        return [say for to, say in self.sent if to == external_id]

    def texts(self, external_id: str) -> list[str]:
        return [say.text for say in self.to(external_id)]
