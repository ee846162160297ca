"""Volunteers (CVST 2): consent before data, encryption at rest, who sees what, transfer and clearance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text

from core.domain.codes import Channel, IdType
from core.domain.people import Actor, ConsentKind
from core.domain.volunteer import MembershipStatus, Volunteer, VolunteerStatus
from core.errors import InvalidInput, NotEligible, PermissionDenied
from core.policy import Policy
from core.services.access import load_actor
from core.services.users import ensure_user
from core.services.volunteers import (
    RegistrationForm,
    clear_volunteer,
    decide_membership,
    give_consent,
    register_volunteer,
    request_membership,
    transfer_volunteer,
    update_profile,
    view_volunteer,
    withdraw_consent,
)
from storage.database import Database
from storage.tables import volunteers
from tests.builders import make_admin, make_org, make_staff, make_volunteer, resident_id
from tests.fakes.clock import FakeClock

ID_NUMBER = "11010519491231002X"
FORM = RegistrationForm(
    name="张三", phone="+86 139 1234 5678", region="北京市朝阳区", birth_date=date(1995, 3, 8)
)
GUARDIAN = {"guardian_name": "张父", "guardian_phone": "13900001111"}


async def _user(db: Database, clock: FakeClock, external_id: str = "42") -> int:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, external_id)
        await uow.commit()
    assert user.id is not None
    return user.id


async def _consent(db: Database, clock: FakeClock, policy: Policy, user_id: int, *kinds: ConsentKind) -> None:
    async with db.uow() as uow:
        for kind in kinds:
            details = GUARDIAN if kind is ConsentKind.GUARDIAN else None
            await give_consent(uow, clock, user_id, kind, policy=policy, details=details)
        await uow.commit()


async def _volunteer_rows(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(volunteers)) or 0)


async def _register(
    db: Database, clock: FakeClock, policy: Policy, user_id: int, form: RegistrationForm
) -> int:
    async with db.uow() as uow:
        volunteer = await register_volunteer(uow, clock, user_id, form, policy=policy)
        await uow.commit()
    assert volunteer.id is not None
    return volunteer.id


async def test_registration_without_privacy_consent_is_refused_and_stores_nothing(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 2-7.1: explicit consent to the privacy notice before any personal data is stored.
    user_id = await _user(db, clock)
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await register_volunteer(uow, clock, user_id, FORM, policy=policy)
        await uow.commit()  # even a caller that commits after the refusal has nothing to write
    assert caught.value.key == "volunteer.consent.privacy_required"
    assert await _volunteer_rows(db) == 0
    async with db.uow() as uow:
        assert await uow.volunteers.by_user(user_id) is None


async def test_registration_after_privacy_consent_is_stored_with_a_volunteer_number(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    volunteer_id = await _register(db, clock, policy, user_id, FORM)
    async with db.uow() as uow:
        volunteer = await uow.volunteers.get(volunteer_id)
        consent = await uow.consents.active(user_id, ConsentKind.PRIVACY_NOTICE)
        entries = await uow.audit.for_entity("volunteer", volunteer_id)
        assert volunteer is not None and consent is not None
        assert volunteer.phone == "13912345678"
        assert volunteer.volunteer_number == f"KJ2026{volunteer_id:07d}"
        assert consent.notice_version == policy.privacy_notice_version
        assert [e.action for e in entries] == ["volunteer.register"]


async def test_withdrawn_privacy_consent_no_longer_allows_registration(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    async with db.uow() as uow:
        await withdraw_consent(uow, clock, user_id, ConsentKind.PRIVACY_NOTICE)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotEligible):
            await register_volunteer(uow, clock, user_id, FORM, policy=policy)
        history = await uow.consents.for_user(user_id)
        assert [c.withdrawn_at is not None for c in history] == [True]  # the withdrawal is kept, not deleted
    assert await _volunteer_rows(db) == 0


async def test_child_under_fourteen_without_guardian_consent_is_refused(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # PIPL art. 31 (Policy.guardian_consent_age): a guardian consents before a child's data is stored.
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    child = FORM.__class__(**{**FORM.__dict__, "birth_date": date(2013, 1, 1)})  # 13 on 2026-12-01
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await register_volunteer(uow, clock, user_id, child, policy=policy)
    assert caught.value.key == "volunteer.consent.guardian_required"
    assert caught.value.params["age"] == 14
    assert await _volunteer_rows(db) == 0


async def test_child_with_guardian_consent_is_registered(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE, ConsentKind.GUARDIAN)
    child = FORM.__class__(**{**FORM.__dict__, "birth_date": date(2013, 1, 1)})
    volunteer_id = await _register(db, clock, policy, user_id, child)
    async with db.uow() as uow:
        guardian = await uow.consents.active(user_id, ConsentKind.GUARDIAN)
        volunteer = await uow.volunteers.get(volunteer_id)
        assert guardian is not None
        assert guardian.details == {"guardian_name": "张父", "guardian_phone": "13900001111"}
        assert volunteer is not None and volunteer.birth_date == date(2013, 1, 1)


async def test_fourteenth_birthday_needs_no_guardian(db: Database, clock: FakeClock, policy: Policy) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    fourteen_today = FORM.__class__(**{**FORM.__dict__, "birth_date": date(2012, 12, 1)})
    await _register(db, clock, policy, user_id, fourteen_today)


async def test_guardian_consent_names_the_guardian_and_a_valid_phone(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as no_name:
            await give_consent(
                uow, clock, user_id, ConsentKind.GUARDIAN, policy=policy, details={"guardian_name": " "}
            )
        with pytest.raises(InvalidInput) as bad_phone:
            await give_consent(
                uow,
                clock,
                user_id,
                ConsentKind.GUARDIAN,
                policy=policy,
                details={"guardian_name": "张父", "guardian_phone": "12345"},
            )
    assert no_name.value.key == "consent.guardian.name_required"
    assert bad_phone.value.key == "phone.format"


async def test_id_number_needs_its_own_consent(db: Database, clock: FakeClock, policy: Policy) -> None:
    # PIPL art. 29: the ID number is sensitive personal information, consented to separately.
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    with_id = RegistrationForm(name="张三", phone="13912345678", region="北京", id_number=ID_NUMBER)
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await register_volunteer(uow, clock, user_id, with_id, policy=policy)
    assert caught.value.key == "volunteer.consent.id_number_required"
    assert await _volunteer_rows(db) == 0

    await _consent(db, clock, policy, user_id, ConsentKind.ID_NUMBER)
    volunteer_id = await _register(db, clock, policy, user_id, with_id)
    async with db.uow() as uow:
        volunteer = await uow.volunteers.get(volunteer_id)
        assert volunteer is not None
        assert (volunteer.id_type, volunteer.id_number) == (IdType.RESIDENT_ID, ID_NUMBER)
        assert volunteer.birth_date == date(1949, 12, 31)  # read from the number


async def test_id_number_of_a_child_needs_the_guardian_too(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE, ConsentKind.ID_NUMBER)
    child_id = resident_id("11010520150601123")
    form = RegistrationForm(name="小明", phone="13912345678", region="北京", id_number=child_id)
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await register_volunteer(uow, clock, user_id, form, policy=policy)
    assert caught.value.key == "volunteer.consent.guardian_required"


async def test_invalid_id_number_or_mismatching_birth_date_is_refused(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE, ConsentKind.ID_NUMBER)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as bad_digit:
            await register_volunteer(
                uow,
                clock,
                user_id,
                RegistrationForm("张三", "13912345678", "北京", id_number=ID_NUMBER[:17] + "1"),
                policy=policy,
            )
        with pytest.raises(InvalidInput) as mismatch:
            await register_volunteer(
                uow,
                clock,
                user_id,
                RegistrationForm(
                    "张三", "13912345678", "北京", birth_date=date(1950, 1, 1), id_number=ID_NUMBER
                ),
                policy=policy,
            )
        with pytest.raises(InvalidInput) as future:
            await register_volunteer(
                uow,
                clock,
                user_id,
                RegistrationForm("张三", "13912345678", "北京", birth_date=date(2030, 1, 1)),
                policy=policy,
            )
    assert bad_digit.value.key == "id.resident.check_digit"
    assert mismatch.value.key == "volunteer.birth_date.mismatch"
    assert future.value.key == "volunteer.birth_date.range"
    assert future.value.params == {"earliest": "1900-01-01", "latest": "2026-12-01"}  # said to the user


async def test_a_region_must_name_a_place_at_registration_and_in_the_profile(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    async with db.uow() as uow:
        for nonsense in ("x", "  ", "123", "？？", "南"):
            with pytest.raises(InvalidInput) as refused:
                await register_volunteer(
                    uow, clock, user_id, RegistrationForm("张三", "13912345678", nonsense), policy=policy
                )
            assert refused.value.key == "volunteer.region"
        volunteer = await register_volunteer(
            uow, clock, user_id, RegistrationForm("张三", "13912345678", " 江苏省  南京市 "), policy=policy
        )
        assert volunteer.region == "江苏省 南京市"
        actor = await load_actor(uow, user_id)
        with pytest.raises(InvalidInput) as refused:
            await update_profile(uow, clock, actor, {"region": "x"})
        assert refused.value.key == "volunteer.region"
        updated = await update_profile(uow, clock, actor, {"region": "Gulou District, Nanjing"})
        assert updated.region == "Gulou District, Nanjing"


async def test_phone_and_id_number_are_encrypted_at_rest(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 4-5.4: records are never disclosed without consent; personal numbers are unreadable in the database.
    async with db.uow() as uow:
        volunteer, _ = await make_volunteer(uow, clock, policy=policy, id_number=ID_NUMBER)
        await uow.commit()
    async with db.uow() as uow:
        raw = (
            await uow.session.execute(
                text("SELECT phone, id_number FROM volunteers WHERE id = :id"), {"id": volunteer.id}
            )
        ).one()
        stored = await uow.volunteers.get(volunteer.id or 0)
        assert stored is not None
        assert stored.phone == volunteer.phone and stored.id_number == ID_NUMBER
        by_phone = await uow.session.scalar(
            text("SELECT count(*) FROM volunteers WHERE phone = :p"), {"p": volunteer.phone}
        )
    assert by_phone == 0
    raw_phone, raw_id = raw
    for plain, cipher_text in ((volunteer.phone, raw_phone), (ID_NUMBER, raw_id)):
        assert plain not in cipher_text
        assert cipher_text.startswith("gAAAAA")  # a Fernet token


async def test_the_same_phone_encrypts_differently_each_time(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    async with db.uow() as uow:
        first, _ = await make_volunteer(uow, clock, policy=policy)
        second, _ = await make_volunteer(uow, clock, policy=policy)
        second.phone = first.phone
        await uow.commit()
    async with db.uow() as uow:
        rows = (await uow.session.execute(text("SELECT phone FROM volunteers ORDER BY id"))).scalars().all()
    assert len(rows) == 2 and rows[0] != rows[1]


@dataclass
class World:
    """A brigade with one team; an unrelated brigade; a volunteer of the team with an ID number."""

    volunteer: Volunteer
    vid: int
    self: Actor
    team_staff: Actor
    brigade_staff: Actor
    other_staff: Actor
    admin: Actor
    team: int
    other: int


async def _world(db: Database, clock: FakeClock, policy: Policy) -> World:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, "北京市科协科技志愿服务总队")
        assert brigade.id is not None
        team = await make_org(uow, clock, "海淀区科普志愿服务队", parent_id=brigade.id)
        other = await make_org(uow, clock, "上海市科协科技志愿服务总队")
        assert team.id is not None and other.id is not None
        volunteer, self_actor = await make_volunteer(
            uow, clock, org_id=team.id, policy=policy, id_number=ID_NUMBER
        )
        assert volunteer.id is not None
        world = World(
            volunteer=volunteer,
            vid=volunteer.id,
            self=self_actor,
            team_staff=await make_staff(uow, clock, team.id),
            brigade_staff=await make_staff(uow, clock, brigade.id),
            other_staff=await make_staff(uow, clock, other.id),
            admin=await make_admin(uow, clock),
            team=team.id,
            other=other.id,
        )
        await uow.commit()
    return world


async def _view(db: Database, actor: Actor, volunteer_id: int) -> tuple[str, str | None]:
    async with db.uow() as uow:
        view = await view_volunteer(uow, actor, volunteer_id)
    return view.phone, view.id_number


async def test_volunteer_their_org_and_admins_see_full_numbers(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    world = await _world(db, clock, policy)
    volunteer = world.volunteer
    for actor in (world.self, world.team_staff, world.admin):
        assert await _view(db, actor, world.vid) == (volunteer.phone, ID_NUMBER), actor


async def test_staff_of_a_parent_org_see_masked_numbers(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 1-6.1: the parent reads its sub-orgs' volunteers; 4-5.4: personal numbers stay undisclosed.
    world = await _world(db, clock, policy)
    volunteer = world.volunteer
    phone, id_number = await _view(db, world.brigade_staff, world.vid)
    assert phone == f"{volunteer.phone[:3]}****{volunteer.phone[-4:]}"
    assert id_number == "1101**********002X"


async def test_unrelated_people_may_not_see_a_volunteer(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    world = await _world(db, clock, policy)
    async with db.uow() as uow:
        _, teammate = await make_volunteer(uow, clock, org_id=world.team, policy=policy)
        await uow.commit()
    for actor in (world.other_staff, Actor.anonymous(), teammate):
        with pytest.raises(PermissionDenied):
            await _view(db, actor, world.vid)


async def test_staff_of_an_org_that_refused_the_volunteer_see_nothing(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    async with db.uow() as uow:
        picky = await make_org(uow, clock, "朝阳区科普志愿服务队", join_requires_approval=True)
        assert picky.id is not None
        staff = await make_staff(uow, clock, picky.id)
        volunteer, actor = await make_volunteer(uow, clock, org_id=picky.id, policy=policy)
        assert volunteer.id is not None
        pending = await uow.memberships.get(volunteer.id, picky.id)
        assert pending is not None and pending.status is MembershipStatus.PENDING
        # An applicant's staff see the applicant in full to decide.
        assert (await view_volunteer(uow, staff, volunteer.id)).phone == volunteer.phone
        await decide_membership(uow, clock, staff, volunteer.id, picky.id, approve=False, reason="名额已满")
        await uow.commit()
    with pytest.raises(PermissionDenied):
        await _view(db, staff, volunteer.id)


async def test_transfer_keeps_history_and_leaves_the_old_org_a_masked_view(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 2-6.2 e: transfer out (e.g. graduates) to another org, history kept.
    world = await _world(db, clock, policy)
    team, other = world.team, world.other
    async with db.uow() as uow:
        moved = await transfer_volunteer(uow, clock, world.team_staff, world.vid, team, other, "毕业回沪")
        await uow.commit()
    async with db.uow() as uow:
        memberships = {m.org_id: m for m in await uow.memberships.for_volunteer(world.vid)}
        entries = await uow.audit.for_entity("volunteer", world.vid)
        assert moved.status is MembershipStatus.ACTIVE
        assert memberships[team].status is MembershipStatus.LEFT
        assert memberships[team].reason == "毕业回沪"
        assert memberships[other].status is MembershipStatus.ACTIVE
        transfer = [e for e in entries if e.action == "volunteer.transfer"]
        assert transfer and transfer[0].details == {"from_org": team, "to_org": other}
    # The new org sees the numbers in full; the old one keeps a masked view of its former member.
    assert (await _view(db, world.other_staff, world.vid))[1] == ID_NUMBER
    assert (await _view(db, world.team_staff, world.vid))[1] == "1101**********002X"


async def test_a_transfer_to_an_org_that_approves_its_members_waits_for_its_staff(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 2-6.2 e: the receiving org admits the volunteer as it admits anyone who asks to join.
    world = await _world(db, clock, policy)
    async with db.uow() as uow:
        picky = await make_org(uow, clock, "朝阳区科普志愿服务队", join_requires_approval=True)
        assert picky.id is not None
        picky_staff = await make_staff(uow, clock, picky.id)
        moved = await transfer_volunteer(
            uow, clock, world.team_staff, world.vid, world.team, picky.id, "搬家"
        )
        await uow.commit()
    assert moved.status is MembershipStatus.PENDING and moved.decided_at is None
    async with db.uow() as uow:
        decided = await decide_membership(uow, clock, picky_staff, world.vid, picky.id, approve=True)
        await uow.commit()
    assert decided.status is MembershipStatus.ACTIVE
    async with db.uow() as uow:
        old = await uow.memberships.get(world.vid, world.team)
        assert old is not None and old.status is MembershipStatus.LEFT


async def test_staff_of_another_org_cannot_transfer_a_volunteer(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    world = await _world(db, clock, policy)
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await transfer_volunteer(
                uow, clock, world.other_staff, world.vid, world.team, world.other, "挖人"
            )


async def test_clearing_needs_a_reason_and_keeps_the_profile(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    # 2-6.2 f: exit with a reason; records kept.
    world = await _world(db, clock, policy)
    volunteer = world.volunteer
    async with db.uow() as uow:
        with pytest.raises(InvalidInput):
            await clear_volunteer(uow, clock, world.team_staff, world.vid, " ")
        with pytest.raises(PermissionDenied):
            await clear_volunteer(uow, clock, world.other_staff, world.vid, "不明")
        await clear_volunteer(uow, clock, world.team_staff, world.vid, "本人申请退出")
        await uow.commit()
    async with db.uow() as uow:
        kept = await uow.volunteers.get(world.vid)
        memberships = await uow.memberships.for_volunteer(world.vid)
        actor = await load_actor(uow, volunteer.user_id)
        entries = await uow.audit.for_entity("volunteer", world.vid)
        assert (
            kept is not None
            and kept.status is VolunteerStatus.CLEARED
            and kept.status_reason == "本人申请退出"
        )
        assert kept.phone == volunteer.phone
        assert [m.status for m in memberships] == [MembershipStatus.LEFT]
        assert actor.volunteer_id is None  # a cleared volunteer no longer acts as one
        assert [e.action for e in entries][-1] == "volunteer.clear"


async def test_membership_needs_approval_where_the_org_asks_for_it(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    async with db.uow() as uow:
        open_team = await make_org(uow, clock, "海淀区科普志愿服务队")
        picky = await make_org(uow, clock, "朝阳区科普志愿服务队", join_requires_approval=True)
        assert open_team.id and picky.id
        staff = await make_staff(uow, clock, picky.id)
        volunteer, actor = await make_volunteer(uow, clock, policy=policy)
        assert volunteer.id is not None
        joined = await request_membership(uow, clock, actor, open_team.id)
        waiting = await request_membership(uow, clock, actor, picky.id)
        again = await request_membership(uow, clock, actor, picky.id)
        with pytest.raises(InvalidInput):
            await decide_membership(uow, clock, staff, volunteer.id, picky.id, approve=False)
        assert joined.status is MembershipStatus.ACTIVE
        assert waiting.status is MembershipStatus.PENDING and again.id == waiting.id
        decided = await decide_membership(uow, clock, staff, volunteer.id, picky.id, approve=True)
        assert decided.status is MembershipStatus.ACTIVE and decided.decided_by == staff.user_id


async def test_volunteer_refused_once_may_ask_again(db: Database, clock: FakeClock, policy: Policy) -> None:
    async with db.uow() as uow:
        picky = await make_org(uow, clock, "朝阳区科普志愿服务队", join_requires_approval=True)
        assert picky.id is not None
        staff = await make_staff(uow, clock, picky.id)
        volunteer, actor = await make_volunteer(uow, clock, org_id=picky.id, policy=policy)
        assert volunteer.id is not None
        await decide_membership(uow, clock, staff, volunteer.id, picky.id, approve=False, reason="名额已满")
        await uow.commit()
    clock.advance(days=30)
    async with db.uow() as uow:
        again = await request_membership(uow, clock, actor, picky.id)
        await uow.commit()
        assert again.status is MembershipStatus.PENDING
        assert (again.requested_at, again.decided_at, again.reason) == (clock.now(), None, None)
    async with db.uow() as uow:
        entries = await uow.audit.for_entity("org", picky.id)
        # The refusal is still on record although the membership row now says pending.
        assert [e.action for e in entries if e.action.startswith("membership")] == [
            "membership.request",
            "membership.decide",
            "membership.request",
        ]


async def test_volunteer_may_return_to_an_org_they_left(
    db: Database, clock: FakeClock, policy: Policy
) -> None:
    world = await _world(db, clock, policy)
    team, other = world.team, world.other
    async with db.uow() as uow:
        await transfer_volunteer(uow, clock, world.team_staff, world.vid, team, other, "毕业回沪")
        await uow.commit()
    async with db.uow() as uow:
        back = await request_membership(uow, clock, world.self, team)
        await uow.commit()
        assert back.status is MembershipStatus.ACTIVE
    assert (await _view(db, world.team_staff, world.vid))[1] == ID_NUMBER


async def test_age_for_guardian_consent_is_counted_on_the_local_day(db: Database, policy: Policy) -> None:
    # 01:00 on 1 December in Beijing is still 30 November in UTC: the child is 14 where they live.
    clock = FakeClock(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    user_id = await _user(db, clock)
    await _consent(db, clock, policy, user_id, ConsentKind.PRIVACY_NOTICE)
    fourteen_today = FORM.__class__(**{**FORM.__dict__, "birth_date": date(2012, 12, 1)})
    await _register(db, clock, policy, user_id, fourteen_today)
