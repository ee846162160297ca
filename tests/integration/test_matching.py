"""Matching (3-6.1.2, 3-6.1.3.1) on a crafted population, on both databases: who is ranked where and
why, who is left out (no field or area in common, a missing qualification, a clashing sign-up, a
cleared volunteer, one who declined), and the invitations (once each, never to those who opted out
or cannot be reached)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.domain.activity import Activity, ActivityStatus
from core.domain.attendance import Attendance, CheckMethod
from core.domain.codes import Qualification, ServiceContent
from core.domain.matching import Candidate, Record, Target, rank, reliability
from core.domain.signup import Signup, SignupStatus
from core.domain.volunteer import VolunteerStatus
from core.errors import Conflict, NotEligible
from core.services.matching import activity_target, call_best, decline, invite, match_activity
from locales import translator
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock

LECTURE = ServiceContent.POPULAR_LECTURE.value
EDUCATION = "education"
VENUE = (39.98, 116.31)  # the builder's activity place (海淀区科技馆)


async def _past(uow: Any, clock: FakeClock, org_id: int, days_ago: float) -> Activity:
    start = clock.now() - timedelta(days=days_ago, hours=3)
    activity = activity_draft(org_id, clock, starts_at=start, ends_at=start + timedelta(hours=3))
    activity.status = ActivityStatus.FINISHED
    return await uow.activities.add(activity)


async def _history(uow: Any, clock: FakeClock, org_id: int, volunteer_id: int, *sessions: tuple[float, bool]):
    signups = []
    for days_ago, came in sessions:
        past = await _past(uow, clock, org_id, days_ago)
        status = SignupStatus.ATTENDED if came else SignupStatus.ABSENT
        signups.append(await uow.signups.add(Signup(past.id, volunteer_id, status, clock.now())))
    return signups


async def _world(db: Database, clock: FakeClock) -> dict[str, Any]:
    async with db.uow() as uow:
        team = await make_org(uow, clock, "北京市海淀区科技志愿服务队")
        sub = await make_org(uow, clock, "北京市海淀区中关村街道科技志愿服务队", parent_id=team.id)
        elsewhere = await make_org(uow, clock, "北京市朝阳区科技志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, team.id)
        activity = await make_activity(uow, clock, admin, team.id, required_skills=[EDUCATION])
        people: dict[str, Any] = {}
        for name, org, areas, skills in (
            ("近处", sub, [LECTURE], [EDUCATION]),
            ("可靠", team, [LECTURE], [EDUCATION]),
            ("忙碌", team, [LECTURE], [EDUCATION]),
            ("常缺席", team, [LECTURE], [EDUCATION]),
            ("不收招募", team, [LECTURE], [EDUCATION]),
            ("时间冲突", team, [LECTURE], [EDUCATION]),
            ("只懂专业", team, [], [EDUCATION]),
            ("别的领域", team, ["a1"], ["agriculture"]),
            ("外组织", elsewhere, [LECTURE], [EDUCATION]),
            ("已注销", team, [LECTURE], [EDUCATION]),
        ):
            volunteer, actor = await make_volunteer(uow, clock, org_id=org.id, name=name)
            volunteer.service_areas, volunteer.skills = areas, skills
            people[name] = actor
        vid = {name: actor.volunteer_id for name, actor in people.items()}
        # 近处: three sessions two months ago, the last check-in point kept 1 km from the venue.
        [*_, last] = await _history(uow, clock, team.id, vid["近处"], (61, True), (62, True), (63, True))
        await uow.attendances.add(
            Attendance(
                last.activity_id,
                vid["近处"],
                last.id,
                clock.now() - timedelta(days=61),
                CheckMethod.LOCATION,
                checkin_latitude=VENUE[0] + 0.009,  # about 1 km north
                checkin_longitude=VENUE[1],
                coordinates_until=clock.now() + timedelta(days=5),
            )
        )
        await _history(uow, clock, team.id, vid["可靠"], (61, True), (62, True), (63, True))
        await _history(uow, clock, team.id, vid["忙碌"], *((d, True) for d in (2, 5, 9, 14, 20, 26)))
        await _history(uow, clock, team.id, vid["常缺席"], (100, False), (101, False), (102, False))
        (await uow.users.get(people["不收招募"].user_id)).recruitment_off = True
        # 时间冲突 holds a place at another activity at the same time.
        clash = await uow.activities.add(activity_draft(team.id, clock, title="同时段的活动"))
        clash.status = ActivityStatus.PUBLISHED
        await uow.signups.add(Signup(clash.id, vid["时间冲突"], SignupStatus.CONFIRMED, clock.now()))
        (await uow.volunteers.get(vid["已注销"])).status = VolunteerStatus.CLEARED
        await uow.commit()
    return {"activity": activity, "staff": staff, "people": people, "vid": vid, "team": team}


async def test_ranking_order_exclusions_and_reasons(db: Database, clock: FakeClock) -> None:
    world = await _world(db, clock)
    async with db.uow() as uow:
        matches = await match_activity(uow, clock, world["staff"], world["activity"].id)
    names = [m.candidate.name for m in matches.ranking.matches]
    # Near with a good record first; the region named in the place counts when no position is kept;
    # many sessions in the last 30 days rank lower; recent no-shows lowest of those with both in common.
    assert names == ["近处", "可靠", "忙碌", "不收招募", "常缺席", "只懂专业"]
    assert [e.candidate.name for e in matches.ranking.excluded] == ["时间冲突"]
    near, reliable, busy, opted_out, flaky, _ = matches.ranking.matches
    assert near.skills == (EDUCATION,) and near.area and 950 <= (near.distance_m or 0) <= 1050
    assert near.candidate.record.attended == 3 and near.candidate.record.recent == 0
    assert reliable.distance_m is None and reliable.same_region
    assert busy.candidate.record.recent == 6
    assert flaky.candidate.record.missed == 3 and flaky.reliability < 0.5 < reliable.reliability
    assert opted_out.candidate.recruitment_off and not opted_out.invitable and near.invitable


async def test_the_shortlist_orders_those_with_both_in_common_alone_when_they_are_enough(
    db: Database, clock: FakeClock
) -> None:
    world = await _world(db, clock)
    activity, team = world["activity"], world["team"]
    async with db.uow() as uow:
        orgs = [team.id, *await uow.orgs.descendant_ids(team.id)]
        target = activity_target(activity)
        few = await uow.matching.shortlist(orgs, target, clock.now(), activity.id, size=3)
        wider = await uow.matching.shortlist(orgs, target, clock.now(), activity.id, size=6)
    # Five have both the service area and the field; the best three of them score at least what
    # 只懂专业 (the field only) ever could, so only they are read. 时间冲突 clashes: read whatever the
    # size, so that the ranking can say why it is left out.
    assert {c.name for c in few} == {"时间冲突", "近处", "可靠", "忙碌"}
    # Six are more than those with both: every candidate is ordered, and 只懂专业 comes in.
    assert {c.name for c in wider} == {"时间冲突", "近处", "可靠", "忙碌", "常缺席", "不收招募", "只懂专业"}


async def test_a_required_qualification_leaves_out_who_lacks_it(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        team = await make_org(uow, clock, "北京市海淀区健康科普志愿服务队")
        admin = await make_admin(uow, clock)
        staff = await make_staff(uow, clock, team.id)
        # 3-6.1.3.1: a health clinic needs a medical practitioner on record.
        clinic = await make_activity(uow, clock, admin, team.id, service_content=ServiceContent.HEALTH_CLINIC)
        doctor, _ = await make_volunteer(
            uow,
            clock,
            org_id=team.id,
            name="医生",
            qualifications=(Qualification.MEDICAL_PRACTITIONER.value,),
        )
        layman, _ = await make_volunteer(uow, clock, org_id=team.id, name="热心人")
        for volunteer in (doctor, layman):
            volunteer.service_areas = [ServiceContent.HEALTH_CLINIC.value]
        await uow.commit()
    async with db.uow() as uow:
        matches = await match_activity(uow, clock, staff, clinic.id)
    assert [m.candidate.name for m in matches.ranking.matches] == ["医生"]


async def test_invited_once_never_when_opted_out_or_unreachable_and_a_decline_is_kept(
    db: Database, clock: FakeClock
) -> None:
    world = await _world(db, clock)
    staff, activity, vid, people = world["staff"], world["activity"], world["vid"], world["people"]
    async with db.uow() as uow:
        await invite(uow, clock, staff, activity.id, vid["近处"])
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="matching.already_invited"):
            await invite(uow, clock, staff, activity.id, vid["近处"])
        with pytest.raises(NotEligible, match="matching.opted_out"):
            await invite(uow, clock, staff, activity.id, vid["不收招募"])
        [identity] = await uow.identities.for_user(people["可靠"].user_id)
        await uow.identities.set_unreachable(identity.channel, identity.external_id, clock.now())
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotEligible, match="matching.unreachable"):
            await invite(uow, clock, staff, activity.id, vid["可靠"])
        [notice] = [n for n in await uow.notices.for_user(people["近处"].user_id) if "invite" in n.key]
        assert notice.message_key == "notice.match_invite"
        text = translator("zh_CN")(notice.message_key, **notice.params)
        assert text.startswith("【邀请】北京市海淀区科技志愿服务队 邀请你参加：社区科普讲座")
        assert [c[1] for c in notice.choices] == [f"a.s:{activity.id}", f"mt.no:{activity.id}"]
        # The call to the best few goes to those who may be invited and were not yet.
        assert await call_best(uow, clock, staff, activity.id, count=3) == 3
        await uow.commit()
    async with db.uow() as uow:
        called = {n.user_id for n in await uow.notices.pending_with_prefix(f"recruit:{activity.id}:best:")}
        assert called == {people[n].user_id for n in ("忙碌", "常缺席", "只懂专业")}
        with pytest.raises(Conflict, match="matching.called_already"):
            await call_best(uow, clock, staff, activity.id, count=3)
        await decline(uow, clock, people["忙碌"], activity.id)
        await uow.commit()
    async with db.uow() as uow:
        matches = await match_activity(uow, clock, staff, activity.id)
    names = [m.candidate.name for m in matches.ranking.matches]
    assert "忙碌" not in names and names[0] == "近处" and matches.ranking.matches[0].candidate.invited


def test_old_misses_fade_and_a_clash_excludes() -> None:
    fresh = Record(attended=3, missed=3, attended_weight=2.5, missed_weight=2.5)
    faded = Record(attended=3, missed=3, attended_weight=2.5, missed_weight=0.1)
    assert reliability(faded) > reliability(fresh) == 0.5
    now = FakeClock().now()
    target = Target(LECTURE, starts_at=now, ends_at=now + timedelta(hours=2))
    busy = Candidate(
        1, 1, "甲", service_areas=(LECTURE,), busy=((now + timedelta(hours=1), now + timedelta(hours=3)),)
    )
    free = Candidate(
        2, 2, "乙", service_areas=(LECTURE,), busy=((now + timedelta(hours=2), now + timedelta(hours=3)),)
    )
    ranking = rank(target, [busy, free])
    assert [m.candidate.name for m in ranking.matches] == ["乙"]
    assert [(e.candidate.name, e.reason) for e in ranking.excluded] == [("甲", "clash")]
