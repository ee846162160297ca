"""Sign-ups: places, the waitlist (3-6.1.3.3), who may come (3-6.1.3.1, 4-5.1.4), cancellation, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.domain.activity import ActivityStatus
from core.domain.codes import Qualification, RiskLevel, ServiceContent
from core.domain.people import Actor
from core.domain.signup import HOLDS_PLACE, SignupStatus
from core.errors import Conflict, NotEligible, NotFound, PermissionDenied
from core.services.activities import cancel_activity, create_activity, update_activity
from core.services.signups import ActivityFull, cancel_signup, decide_signup, sign_up
from storage import repositories
from storage.database import Database
from storage.tables import signups
from tests.builders import activity_draft, make_activity, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock


@dataclass
class Setting:
    org_id: int
    staff: Actor
    activity_id: int
    volunteers: list[Actor]


async def _setting(db: Database, clock: FakeClock, n: int = 5, **activity: object) -> Setting:
    """One org, its staff, n volunteers, and a published activity (capacity 2 unless told)."""
    activity.setdefault("capacity", 2)
    async with db.uow() as uow:
        org = await make_org(uow, clock, "海淀区科普志愿服务队")
        assert org.id is not None
        staff = await make_staff(uow, clock, org.id)
        published = await make_activity(uow, clock, staff, org.id, **activity)
        people = [(await make_volunteer(uow, clock, org_id=org.id))[1] for _ in range(n)]
        await uow.commit()
    assert published.id is not None
    return Setting(org.id, staff, published.id, people)


async def _sign_up(db: Database, clock: FakeClock, actor: Actor, activity_id: int, **options: bool) -> int:
    async with db.uow() as uow:
        signup = await sign_up(uow, clock, actor, activity_id, **options)
        await uow.commit()
    assert signup.id is not None
    return signup.id


async def _statuses(db: Database, activity_id: int) -> dict[int, SignupStatus]:
    """Status by volunteer id, of every sign-up row, oldest first."""
    async with db.uow() as uow:
        return {s.volunteer_id: s.status for s in await uow.signups.for_activity(activity_id)}


async def _refusal(
    db: Database, clock: FakeClock, actor: Actor, activity_id: int, **options: bool
) -> NotEligible:
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await sign_up(uow, clock, actor, activity_id, **options)
    return caught.value


async def test_signup_takes_a_place_while_there_is_one(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock)
    signup_id = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:
        signup = await uow.signups.get(signup_id)
        assert signup is not None
        assert (signup.status, signup.confirmed_at, signup.waitlisted_at) == (
            SignupStatus.CONFIRMED,
            clock.now(),
            None,
        )
        entries = await uow.audit.for_entity("signup", signup_id)
        assert [(e.action, e.details["status"]) for e in entries] == [("signup.create", "confirmed")]


async def test_signup_after_capacity_is_refused_unless_the_volunteer_joins_the_waitlist(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock)
    for actor in s.volunteers[:2]:
        await _sign_up(db, clock, actor, s.activity_id)
    full = await _refusal(db, clock, s.volunteers[2], s.activity_id)
    assert isinstance(full, ActivityFull) and full.key == "signup.full" and full.params == {"capacity": 2}
    await _sign_up(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    statuses = await _statuses(db, s.activity_id)
    assert list(statuses.values()) == [
        SignupStatus.CONFIRMED,
        SignupStatus.CONFIRMED,
        SignupStatus.WAITLISTED,
    ]


async def test_waitlist_is_served_first_come_first_served(db: Database, clock: FakeClock) -> None:
    # 3-6.1.3.3: free places go to the waitlist first, in the order people joined it.
    s = await _setting(db, clock, n=6)
    confirmed = [await _sign_up(db, clock, a, s.activity_id) for a in s.volunteers[:2]]
    waiting = []
    for actor in s.volunteers[2:]:
        clock.advance(minutes=5)
        waiting.append(await _sign_up(db, clock, actor, s.activity_id, join_waitlist=True))
    # The third in line gives up; the order of the others does not change.
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[4], waiting[2], "有事")
        await uow.commit()
    promoted_in_turn = []
    for signup_id in confirmed:
        clock.advance(minutes=1)
        async with db.uow() as uow:
            done = await cancel_signup(uow, clock, s.staff, signup_id, "临时出差")
            await uow.commit()
        promoted_in_turn.extend(p.id for p in done.promoted)
    assert promoted_in_turn == [waiting[0], waiting[1]]
    statuses = await _statuses(db, s.activity_id)
    assert [statuses[a.volunteer_id] for a in s.volunteers] == [  # type: ignore[index]
        SignupStatus.CANCELLED,
        SignupStatus.CANCELLED,
        SignupStatus.CONFIRMED,
        SignupStatus.CONFIRMED,
        SignupStatus.CANCELLED,
        SignupStatus.WAITLISTED,
    ]


async def test_cancelling_a_confirmed_place_promotes_the_first_on_the_waitlist(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=4)
    first = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    await _sign_up(db, clock, s.volunteers[1], s.activity_id)
    next_in_line = await _sign_up(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    await _sign_up(db, clock, s.volunteers[3], s.activity_id, join_waitlist=True)
    clock.advance(hours=1)
    async with db.uow() as uow:
        done = await cancel_signup(uow, clock, s.volunteers[0], first, "生病")
        await uow.commit()
    assert [p.id for p in done.promoted] == [next_in_line]
    async with db.uow() as uow:
        cancelled = await uow.signups.get(first)
        promoted = await uow.signups.get(next_in_line)
        assert cancelled is not None and promoted is not None
        assert (cancelled.status, cancelled.cancelled_at, cancelled.cancel_reason) == (
            SignupStatus.CANCELLED,
            clock.now(),
            "生病",
        )
        assert (promoted.status, promoted.confirmed_at) == (SignupStatus.CONFIRMED, clock.now())
        assert [e.action for e in await uow.audit.for_entity("signup", first)] == [
            "signup.create",
            "signup.cancel",
        ]
        assert [e.action for e in await uow.audit.for_entity("signup", next_in_line)] == [
            "signup.create",
            "signup.promote",
        ]


async def test_cancelling_a_waitlisted_signup_promotes_no_one(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=4)
    for actor in s.volunteers[:2]:
        await _sign_up(db, clock, actor, s.activity_id)
    waiting = await _sign_up(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    await _sign_up(db, clock, s.volunteers[3], s.activity_id, join_waitlist=True)
    async with db.uow() as uow:
        done = await cancel_signup(uow, clock, s.volunteers[2], waiting)
        await uow.commit()
    assert done.promoted == ()
    assert list((await _statuses(db, s.activity_id)).values()).count(SignupStatus.CONFIRMED) == 2


async def test_more_places_promote_the_waitlist(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=5)
    for actor in s.volunteers:
        await _sign_up(db, clock, actor, s.activity_id, join_waitlist=True)
    async with db.uow() as uow:
        await update_activity(uow, clock, s.staff, s.activity_id, {"capacity": 4})
        await uow.commit()
    statuses = list((await _statuses(db, s.activity_id)).values())
    assert statuses == [SignupStatus.CONFIRMED] * 4 + [SignupStatus.WAITLISTED]


async def test_missing_qualification_is_refused_and_named(db: Database, clock: FakeClock) -> None:
    # 3-6.1.3.1: medical services need a recorded qualification.
    s = await _setting(db, clock, n=0, service_content=ServiceContent.HEALTH_CLINIC)
    async with db.uow() as uow:
        _, layman = await make_volunteer(uow, clock, org_id=s.org_id)
        _, doctor = await make_volunteer(
            uow, clock, org_id=s.org_id, qualifications=(Qualification.MEDICAL_PRACTITIONER.value,)
        )
        await uow.commit()
    refused = await _refusal(db, clock, layman, s.activity_id)
    assert refused.key == "signup.qualification_missing"
    assert refused.params["qualifications"] == ["medical_practitioner"]
    await _sign_up(db, clock, doctor, s.activity_id)


async def test_every_missing_qualification_is_named(db: Database, clock: FakeClock) -> None:
    required = [Qualification.TEACHER.value, Qualification.FIRST_AID.value]
    s = await _setting(db, clock, n=0, required_qualifications=required)
    async with db.uow() as uow:
        _, teacher = await make_volunteer(uow, clock, qualifications=(Qualification.TEACHER.value,))
        await uow.commit()
    assert (await _refusal(db, clock, teacher, s.activity_id)).params["qualifications"] == ["first_aid"]


async def test_under_eighteen_is_refused_for_a_hazardous_activity(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=0, risk_level=RiskLevel.HIGH, risks="山体滑坡风险")
    starts = clock.now().date() + timedelta(days=10)
    async with db.uow() as uow:
        _, seventeen = await make_volunteer(
            uow, clock, birth_date=date(starts.year - 18, starts.month, starts.day + 1)
        )
        _, eighteen = await make_volunteer(
            uow, clock, birth_date=date(starts.year - 18, starts.month, starts.day)
        )
        _, unknown = await make_volunteer(uow, clock, birth_date=None)
        await uow.commit()
    too_young = await _refusal(db, clock, seventeen, s.activity_id)
    assert (too_young.key, too_young.params) == ("signup.too_young", {"age": 18})
    assert (await _refusal(db, clock, unknown, s.activity_id)).key == "signup.birth_date_required"
    await _sign_up(db, clock, eighteen, s.activity_id)  # 18 on the day it starts


async def test_under_eighteen_may_join_an_ordinary_activity(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=0)
    async with db.uow() as uow:
        _, sixteen = await make_volunteer(uow, clock, birth_date=date(2010, 3, 1))
        await uow.commit()
    await _sign_up(db, clock, sixteen, s.activity_id)


@pytest.mark.parametrize(
    "activity",
    [
        {"field_work": True},
        {"service_content": ServiceContent.LARGE_EVENT},
        {"service_content": ServiceContent.EMERGENCY_RESCUE},
        {"insurance_required": True},
    ],
)
async def test_insurance_must_be_confirmed_where_required(
    db: Database, clock: FakeClock, activity: dict[str, object]
) -> None:
    # 2-6.2 d, 4-5.1.4 b: emergency rescue, field work and large events insure every volunteer.
    s = await _setting(db, clock, n=1, **activity)
    assert (await _refusal(db, clock, s.volunteers[0], s.activity_id)).key == "signup.insurance_required"
    signup_id = await _sign_up(db, clock, s.volunteers[0], s.activity_id, insurance_confirmed=True)
    async with db.uow() as uow:
        signup = await uow.signups.get(signup_id)
        assert signup is not None and signup.insurance_confirmed


async def test_duplicate_signup_is_a_conflict(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=3)
    for actor in s.volunteers[:2]:
        await _sign_up(db, clock, actor, s.activity_id)
    await _sign_up(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    for actor, status in ((s.volunteers[0], "confirmed"), (s.volunteers[2], "waitlisted")):
        async with db.uow() as uow:
            with pytest.raises(Conflict) as caught:
                await sign_up(uow, clock, actor, s.activity_id, join_waitlist=True)
        assert (caught.value.key, caught.value.params) == ("signup.already", {"status": status})


async def test_volunteer_may_sign_up_again_after_cancelling(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    first = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[0], first)
        await uow.commit()
    second = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    assert second != first
    async with db.uow() as uow:
        rows = await uow.signups.for_volunteer(s.volunteers[0].volunteer_id or 0)
        assert [(r.id, r.status) for r in rows] == [
            (first, SignupStatus.CANCELLED),
            (second, SignupStatus.CONFIRMED),
        ]


async def test_cancelled_activity_cancels_live_signups(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=4)
    ids = [await _sign_up(db, clock, a, s.activity_id, join_waitlist=True) for a in s.volunteers[:3]]
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[2], ids[2], "改主意")
        await uow.commit()
    clock.advance(days=1)
    async with db.uow() as uow:
        await cancel_activity(uow, clock, s.staff, s.activity_id, "台风预警")
        await uow.commit()
    async with db.uow() as uow:
        rows = await uow.signups.for_activity(s.activity_id)
        assert [r.status for r in rows] == [SignupStatus.CANCELLED] * 3
        assert [r.cancel_reason for r in rows] == ["台风预警", "台风预警", "改主意"]
        assert {r.cancelled_at for r in rows[:2]} == {clock.now()}
        activity = await uow.activities.get(s.activity_id)
        assert activity is not None and activity.status is ActivityStatus.CANCELLED
    closed = await _refusal(db, clock, s.volunteers[3], s.activity_id, join_waitlist=True)
    assert closed.key == "signup.closed"


async def test_signup_needs_a_registered_volunteer_and_an_open_activity(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=1)
    async with db.uow() as uow:
        draft = await create_activity(uow, clock, s.staff, activity_draft(s.org_id, clock))
        await uow.commit()
    assert (
        await _refusal(db, clock, Actor(user_id=s.staff.user_id), s.activity_id)
    ).key == "volunteer.not_registered"
    assert (await _refusal(db, clock, s.volunteers[0], draft.id or 0)).key == "signup.closed"
    async with db.uow() as uow:
        with pytest.raises(NotFound):
            await sign_up(uow, clock, s.volunteers[0], 424242)
    clock.advance(days=11)  # the activity has ended: the refusal says so
    assert (await _refusal(db, clock, s.volunteers[0], s.activity_id)).key == "signup.ended"


async def test_only_the_volunteer_or_the_orgs_staff_cancel_a_signup(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=2)
    signup_id = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    async with db.uow() as uow:
        other_org = await make_org(uow, clock, "朝阳区科普志愿服务队")
        stranger = await make_staff(uow, clock, other_org.id or 0)
        await uow.commit()
    for outsider in (s.volunteers[1], stranger):
        async with db.uow() as uow:
            with pytest.raises(PermissionDenied) as caught:
                await cancel_signup(uow, clock, outsider, signup_id)
        assert caught.value.key == "signup.not_yours"
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.staff, signup_id, "名单调整")
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(Conflict):
            await cancel_signup(uow, clock, s.volunteers[0], signup_id)


async def test_volunteer_cannot_cancel_once_the_activity_has_started(db: Database, clock: FakeClock) -> None:
    s = await _setting(db, clock, n=1)
    signup_id = await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    clock.advance(days=10, minutes=30)
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as caught:
            await cancel_signup(uow, clock, s.volunteers[0], signup_id)
        assert caught.value.key == "signup.cancel.started"
        await cancel_signup(uow, clock, s.staff, signup_id, "未到场")  # staff still may


async def test_signup_waits_for_approval_where_the_activity_asks_for_it(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=4, capacity=1, signup_requires_approval=True)
    ids = [await _sign_up(db, clock, a, s.activity_id) for a in s.volunteers]
    assert set((await _statuses(db, s.activity_id)).values()) == {SignupStatus.APPLIED}
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await decide_signup(uow, clock, s.volunteers[0], ids[0], approve=True)
        first = await decide_signup(uow, clock, s.staff, ids[0], approve=True)
        second = await decide_signup(uow, clock, s.staff, ids[1], approve=True)
        refused = await decide_signup(uow, clock, s.staff, ids[2], approve=False, reason="专业不符")
        assert (first.status, second.status) == (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)
        assert (refused.status, refused.cancel_reason) == (SignupStatus.CANCELLED, "专业不符")
        with pytest.raises(Conflict):
            await decide_signup(uow, clock, s.staff, ids[0], approve=False)
        await uow.commit()
    async with db.uow() as uow:
        assert [e.action for e in await uow.audit.for_entity("signup", ids[1])] == [
            "signup.create",
            "signup.decide",
        ]


async def test_signups_are_never_deleted(db: Database, clock: FakeClock) -> None:
    # 4-5.4: service records kept ≥ 10 years, never hard-deleted; 1-6.5: changes leave an audit trail.
    s = await _setting(db, clock, n=4)
    ids = [await _sign_up(db, clock, a, s.activity_id, join_waitlist=True) for a in s.volunteers]
    async with db.uow() as uow:
        await cancel_signup(uow, clock, s.volunteers[0], ids[0])
        await uow.commit()
    async with db.uow() as uow:
        await cancel_activity(uow, clock, s.staff, s.activity_id, "场地维修")
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(signups)) == 4
        actions = [e.action for i in ids for e in await uow.audit.for_entity("signup", i)]
        assert actions.count("signup.create") == 4
        assert actions.count("signup.cancel") == 1 and actions.count("signup.promote") == 1
    # And nothing in storage knows how to delete a record. (Files served at /media/<token> for ten
    # minutes are a cache, not a record: their repository purges the expired ones. A person who leaves
    # has their chat accounts unlinked, PIPL art. 47: an account is not a record of service.)
    allowed = {"IdentityRepository": {"remove_for_user"}}
    for name in dir(repositories):
        repo = getattr(repositories, name)
        if isinstance(repo, type) and name.endswith("Repository") and name != "MediaRepository":
            deleting = {m for m in dir(repo) if m.startswith(("delete", "remove", "purge"))}
            assert not deleting - allowed.get(name, set()), name


async def test_age_is_counted_on_the_local_day_the_activity_starts(db: Database, clock: FakeClock) -> None:
    # 07:00 in Beijing on 11 December is still 10 December in UTC; the volunteer turns 18 that Beijing morning.
    starts = datetime(2026, 12, 11, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    s = await _setting(
        db,
        clock,
        n=0,
        risk_level=RiskLevel.HIGH,
        risks="高空作业",
        starts_at=starts.astimezone(UTC),
        ends_at=(starts + timedelta(hours=4)).astimezone(UTC),
    )
    async with db.uow() as uow:
        _, birthday = await make_volunteer(uow, clock, birth_date=date(2008, 12, 11))
        _, tomorrow = await make_volunteer(uow, clock, birth_date=date(2008, 12, 12))
        await uow.commit()
    await _sign_up(db, clock, birthday, s.activity_id)
    assert (await _refusal(db, clock, tomorrow, s.activity_id)).key == "signup.too_young"


async def test_places_taken_are_counted_for_several_activities_in_one_read(
    db: Database, clock: FakeClock
) -> None:
    s = await _setting(db, clock, n=4, capacity=1)
    async with db.uow() as uow:
        empty = await make_activity(uow, clock, s.staff, s.org_id)
        await uow.commit()
    await _sign_up(db, clock, s.volunteers[0], s.activity_id)
    await _sign_up(db, clock, s.volunteers[1], s.activity_id, join_waitlist=True)
    await _sign_up(db, clock, s.volunteers[2], s.activity_id, join_waitlist=True)
    async with db.uow() as uow:
        ids = [s.activity_id, empty.id or 0]
        holding = await uow.signups.count_each(ids, HOLDS_PLACE)
        waiting = await uow.signups.count_each(ids, frozenset({SignupStatus.WAITLISTED}))
        assert holding == {s.activity_id: 1, empty.id: 0}
        assert waiting == {s.activity_id: 2, empty.id: 0}
        assert holding[s.activity_id] == await uow.signups.count(s.activity_id, HOLDS_PLACE)
        assert await uow.signups.count_each([], HOLDS_PLACE) == {}
