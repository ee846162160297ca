"""Service records on both databases (2-6.3, 4-5.4, 4-5.5): what a check-out writes, who confirms it,
make-up requests, only confirmed hours counting, stars, and certificates that verify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.attendance import CheckMethod, MakeupStatus, RecordSource, RecordStatus
from core.domain.certificate import CertificateStatus
from core.domain.people import Actor, ConsentKind
from core.domain.signup import SignupStatus
from core.errors import Conflict, InvalidInput, NotEligible, PermissionDenied
from core.policy import Policy
from core.services.attendance import Attended, Proof, attend, close_forgotten, purge_coordinates, staff_check
from core.services.certificates import issue_certificate, revoke_certificate, verify_certificate
from core.services.records import confirm_records, decide_makeup, hours_of, request_makeup, void_record
from core.services.signups import sign_up
from core.services.volunteers import give_consent
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock

VENUE = (39.98, 116.31)  # the builders' activity place
NEAR = Proof(latitude=39.9804, longitude=116.31)  # about 45 m north


@dataclass
class Setup:
    org_id: int
    staff: Actor
    activity_id: int
    volunteer: Actor
    volunteer_id: int
    signup_id: int


async def _setup(db: Database, clock: FakeClock, **activity: object) -> Setup:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京科普宣讲志愿服务队")
        staff = await make_staff(uow, clock, org.id)
        act = await make_activity(uow, clock, staff, org.id, **activity)
        volunteer, actor = await make_volunteer(uow, clock, org_id=org.id, name="王小明")
        signup = await sign_up(uow, clock, actor, act.id)
        await uow.commit()
    return Setup(org.id, staff, act.id, actor, volunteer.id, signup.id)


async def _attend(db: Database, clock: FakeClock, s: Setup) -> Attended:
    """The volunteer sends their location from the venue (in, then out), in a transaction of its own."""
    async with db.uow() as uow:
        done = await attend(uow, clock, Policy(), s.volunteer, s.signup_id, NEAR)
        await uow.commit()
    return done


async def _start(db: Database, s: Setup):
    async with db.uow() as uow:
        return (await uow.activities.get(s.activity_id)).starts_at


async def test_check_in_and_out_writes_a_pending_record_that_staff_confirm(
    db: Database, clock: FakeClock
) -> None:
    s = await _setup(db, clock, hours_coefficient=Decimal("1.5"))
    start = await _start(db, s)
    clock.set(start - timedelta(minutes=10))
    async with db.uow() as uow:
        done = await attend(uow, clock, Policy(), s.volunteer, s.signup_id, NEAR)
        await uow.commit()
    assert not done.checked_out and 40 <= (done.distance_m or 0) <= 50
    clock.set(start + timedelta(hours=2, minutes=30))
    async with db.uow() as uow:
        done = await attend(uow, clock, Policy(), s.volunteer, s.signup_id, NEAR)
        await uow.commit()
    record = done.record
    assert record is not None and record.status is RecordStatus.PENDING
    assert (record.onsite_hours, record.coefficient, record.credited_hours) == (
        Decimal("2.5"),
        Decimal("1.5"),
        Decimal("3.8"),
    )
    async with db.uow() as uow:
        hours = await hours_of(uow, Policy(), s.volunteer_id)
        assert (hours.confirmed, hours.pending) == (Decimal("0.0"), Decimal("3.8"))  # only confirmed count
        assert (await uow.signups.get(s.signup_id)).status is SignupStatus.ATTENDED
        await confirm_records(uow, clock, Policy(), s.staff, [record.id])
        await uow.commit()
    async with db.uow() as uow:
        hours = await hours_of(uow, Policy(), s.volunteer_id)
        assert (hours.confirmed, hours.pending) == (Decimal("3.8"), Decimal("0.0"))
        kept = await uow.records.get(record.id)
        assert kept.credited_hours == Decimal("3.8") and kept.coefficient == Decimal("1.5")
        actions = [e.action for e in await uow.audit.for_entity("service_record", record.id)]
        assert actions == ["record.confirm"]


async def test_a_third_time_check_is_refused_once_out(db: Database, clock: FakeClock) -> None:
    s = await _setup(db, clock)
    clock.set(await _start(db, s))
    for _ in range(2):
        await _attend(db, clock, s)
    async with db.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await attend(uow, clock, Policy(), s.volunteer, s.signup_id, NEAR)
    assert refused.value.key == "checkin.already_out"


async def test_staff_of_another_org_cannot_confirm_or_void(db: Database, clock: FakeClock) -> None:
    """谁组织谁记录: only the organizing org's staff decide on its records."""
    s = await _setup(db, clock)
    clock.set(await _start(db, s))
    async with db.uow() as uow:
        await staff_check(uow, clock, Policy(), s.staff, s.signup_id)
        await uow.commit()
    clock.advance(hours=3)
    async with db.uow() as uow:
        done = await staff_check(uow, clock, Policy(), s.staff, s.signup_id)
        other = await make_staff(uow, clock, (await make_org(uow, clock, "江苏省农业科技志愿服务队")).id)
        await uow.commit()
    assert done.record is not None and done.record.manual
    assert done.attendance.checkin_method is CheckMethod.MANUAL
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await confirm_records(uow, clock, Policy(), other, [done.record.id])
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await void_record(uow, clock, Policy(), other, done.record.id, "不认识此人")


async def test_a_voided_record_keeps_its_reason_and_counts_nowhere(db: Database, clock: FakeClock) -> None:
    s = await _setup(db, clock)
    clock.set(await _start(db, s))
    await _attend(db, clock, s)
    clock.advance(hours=3)
    record = (await _attend(db, clock, s)).record
    async with db.uow() as uow:
        await confirm_records(uow, clock, Policy(), s.staff, [record.id])
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(InvalidInput):
            await void_record(uow, clock, Policy(), s.staff, record.id, "  ")
        await void_record(uow, clock, Policy(), s.staff, record.id, "未实际到场")
        await uow.commit()
    async with db.uow() as uow:
        kept = await uow.records.get(record.id)
        assert kept.status is RecordStatus.VOIDED and kept.void_reason == "未实际到场"
        assert await uow.records.confirmed_hours(s.volunteer_id) == Decimal("0.0")
        assert (await hours_of(uow, Policy(), s.volunteer_id)).lines == ()


async def test_a_forgotten_check_out_is_closed_at_the_end_for_review(db: Database, clock: FakeClock) -> None:
    s = await _setup(db, clock)
    start = await _start(db, s)
    clock.set(start)
    await _attend(db, clock, s)
    clock.set(start + timedelta(hours=3, minutes=60))  # the end plus the grace period, not past it
    async with db.uow() as uow:
        assert await close_forgotten(uow, clock, Policy()) == 0
    clock.advance(minutes=1)
    async with db.uow() as uow:
        assert await close_forgotten(uow, clock, Policy()) == 1
        await uow.commit()
    async with db.uow() as uow:
        assert await close_forgotten(uow, clock, Policy()) == 0  # idempotent
        attendance = await uow.attendances.for_signup(s.signup_id)
        assert attendance.checkout_method is CheckMethod.AUTO and attendance.needs_review
        assert attendance.checked_out_at == start + timedelta(hours=3)
        (record,) = await uow.records.for_activity(s.activity_id)
        assert record.needs_review and record.credited_hours == Decimal("3.0")
        user_id = await uow.volunteers.user_id_of(s.volunteer_id)
        keys = [n.message_key for n in await uow.notices.for_user(user_id)]
        assert "notice.auto_check_out" in keys


async def test_raw_coordinates_only_with_consent_and_purged_after_retention(
    db: Database, clock: FakeClock
) -> None:
    """PIPL art. 28: without the location consent only the distance is kept."""
    s = await _setup(db, clock)
    clock.set(await _start(db, s))
    await _attend(db, clock, s)
    async with db.uow() as uow:
        kept = await uow.attendances.for_signup(s.signup_id)
        assert kept.checkin_latitude is None and kept.checkin_distance_m is not None
        await give_consent(uow, clock, s.volunteer.user_id, ConsentKind.LOCATION, policy=Policy())
        await uow.commit()
    clock.advance(hours=3)
    await _attend(db, clock, s)
    async with db.uow() as uow:
        kept = await uow.attendances.for_signup(s.signup_id)
        assert kept.checkout_latitude == NEAR.latitude and kept.coordinates_until is not None
    clock.advance(days=31)
    async with db.uow() as uow:
        assert await purge_coordinates(uow, clock) == 1
        await uow.commit()
    async with db.uow() as uow:
        kept = await uow.attendances.for_signup(s.signup_id)
        assert kept.checkout_latitude is None and kept.checkout_distance_m is not None


async def test_make_up_approved_in_part_is_confirmed_manual_and_capped(
    db: Database, clock: FakeClock
) -> None:
    s = await _setup(db, clock)
    start = await _start(db, s)
    clock.set(start + timedelta(days=1))
    async with db.uow() as uow:
        request = await request_makeup(
            uow,
            clock,
            Policy(),
            s.volunteer,
            s.activity_id,
            start - timedelta(hours=1),
            start + timedelta(hours=2),
            "现场没有信号",
        )
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(Conflict):
            await request_makeup(
                uow, clock, Policy(), s.volunteer, s.activity_id, start, start + timedelta(hours=1), "再次"
            )
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as refused:  # above the 2.0 h inside the schedule
            await decide_makeup(uow, clock, Policy(), s.staff, request.id, approve=True, hours=Decimal("2.5"))
        assert refused.value.params["max"] == "2.0"
    async with db.uow() as uow:
        decided = await decide_makeup(
            uow, clock, Policy(), s.staff, request.id, approve=True, hours=Decimal("1.5")
        )
        await uow.commit()
    assert decided.status is MakeupStatus.APPROVED and decided.approved_hours == Decimal("1.5")
    async with db.uow() as uow:
        (record,) = await uow.records.for_activity(s.activity_id)
        assert (
            record.source is RecordSource.MAKEUP and record.manual and record.status is RecordStatus.CONFIRMED
        )
        assert await uow.records.confirmed_hours(s.volunteer_id) == Decimal("1.5")
        with pytest.raises(Conflict):
            await decide_makeup(uow, clock, Policy(), s.staff, request.id, approve=False, reason="重复")


async def test_make_up_rejected_needs_a_reason_and_is_filed_only_within_the_period(
    db: Database, clock: FakeClock
) -> None:
    s = await _setup(db, clock)
    start = await _start(db, s)
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as refused:  # before the activity
            await request_makeup(
                uow, clock, Policy(), s.volunteer, s.activity_id, start, start + timedelta(hours=1), "x"
            )
        assert refused.value.key == "makeup.out_of_period"
    clock.set(start + timedelta(days=40))
    async with db.uow() as uow:
        with pytest.raises(NotEligible):
            await request_makeup(
                uow, clock, Policy(), s.volunteer, s.activity_id, start, start + timedelta(hours=1), "x"
            )
    clock.set(start + timedelta(days=2))
    async with db.uow() as uow:
        request = await request_makeup(
            uow, clock, Policy(), s.volunteer, s.activity_id, start, start + timedelta(hours=1), "忘记签到"
        )
        staff_user = (await uow.grants.staff_of(s.org_id))[0].user_id
        assert "notice.makeup_requested" in [n.message_key for n in await uow.notices.for_user(staff_user)]
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(InvalidInput):
            await decide_makeup(uow, clock, Policy(), s.staff, request.id, approve=False, reason="")
    async with db.uow() as uow:
        await decide_makeup(uow, clock, Policy(), s.staff, request.id, approve=False, reason="签到表无此人")
        await uow.commit()
    async with db.uow() as uow:
        assert (await uow.makeups.get(request.id)).status is MakeupStatus.REJECTED
        assert await uow.records.for_activity(s.activity_id) == []


async def test_a_star_is_announced_when_confirmed_hours_reach_a_threshold(
    db: Database, clock: FakeClock
) -> None:
    s = await _setup(db, clock)
    clock.set(await _start(db, s))
    await _attend(db, clock, s)
    clock.advance(hours=3)
    policy = Policy(star_thresholds=(3, 10))
    record = (await _attend(db, clock, s)).record
    async with db.uow() as uow:
        await confirm_records(uow, clock, policy, s.staff, [record.id])
        await uow.commit()
    async with db.uow() as uow:
        notices = await uow.notices.for_user(s.volunteer.user_id)
        (star,) = [n for n in notices if n.message_key == "notice.star_up"]
        assert star.params["stars"] == "★"
        hours = await hours_of(uow, policy, s.volunteer_id)
        assert hours.stars == 1 and hours.next_threshold == 10


async def test_a_certificate_is_a_snapshot_that_verifies_until_revoked(
    db: Database, clock: FakeClock
) -> None:
    s = await _setup(db, clock, title="智能手机助老课堂")
    clock.set(await _start(db, s))
    await _attend(db, clock, s)
    clock.advance(hours=2)
    pending = (await _attend(db, clock, s)).record
    async with db.uow() as uow:
        with pytest.raises(NotEligible) as early:
            await issue_certificate(uow, clock, Policy(), s.volunteer)
        assert await uow.certificates.for_volunteer(s.volunteer_id) == []
    # A pending record is on no certificate, and a certificate of no confirmed hours is not issued.
    assert early.value.key == "cert.no_hours"
    async with db.uow() as uow:
        await confirm_records(uow, clock, Policy(), s.staff, [pending.id])
        issued = await issue_certificate(
            uow, clock, Policy(public_url="https://stvs.example.org"), s.volunteer
        )
        await uow.commit()
    content = issued.content
    assert content.total_hours == Decimal("2.0") and content.lines[0].activity_title == "智能手机助老课堂"
    assert content.verify_url == f"https://stvs.example.org/verify/{issued.number}"
    assert content.issuer == "南京科普宣讲志愿服务队"
    async with db.uow() as uow:
        again = await issue_certificate(
            uow, clock, Policy(public_url="https://stvs.example.org"), s.volunteer
        )
        assert again.number == issued.number  # nothing changed: the same certificate, not a new number
        assert (await verify_certificate(uow, issued.number.lower())).status is CertificateStatus.VALID
        assert await verify_certificate(uow, "STVS-2026-NOTREAL1") is None
        with pytest.raises(PermissionDenied):
            await revoke_certificate(uow, clock, s.staff, issued.number, "错误")
        admin = await make_admin(uow, clock)
        await revoke_certificate(uow, clock, admin, issued.number, "记录有误，已重新开具")
        await uow.commit()
    async with db.uow() as uow:
        revoked = await verify_certificate(uow, issued.number)
        assert revoked.status is CertificateStatus.REVOKED and revoked.revoke_reason == "记录有误，已重新开具"
        assert revoked.content == content  # the snapshot never changes


async def test_0010_steps_down_and_up_on_a_database_in_use(blank_db_url: str, clock: FakeClock) -> None:
    """Activities with sign-ups, attendance and records: 0010 comes off (SQLite copies the activities
    table, which sign-ups point at) and goes on again, and older activities get coefficient 1."""
    from storage import migrate

    await migrate.upgrade(blank_db_url)
    db = Database(blank_db_url)
    try:
        s = await _setup(db, clock)
    finally:
        await db.dispose()
    await migrate.downgrade(blank_db_url, "0009")
    await migrate.upgrade(blank_db_url)
    db = Database(blank_db_url)
    try:
        async with db.uow() as uow:
            activity = await uow.activities.get(s.activity_id)
            assert activity.hours_coefficient == Decimal("1.00") and not activity.checkin_code_required
            assert (await uow.signups.get(s.signup_id)).status is SignupStatus.CONFIRMED
    finally:
        await db.dispose()


async def test_make_up_time_must_overlap_the_schedule(db: Database, clock: FakeClock) -> None:
    s = await _setup(db, clock)
    start = await _start(db, s)
    clock.set(start + timedelta(days=1))
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as refused:
            await request_makeup(
                uow,
                clock,
                Policy(),
                s.volunteer,
                s.activity_id,
                start + timedelta(hours=3),
                start + timedelta(hours=4),
                "结束后才到",
            )
    assert refused.value.key == "makeup.outside_schedule"
    assert refused.value.params["end"] == "12:00"  # said as the schedule: 2026-12-11 09:00–12:00
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as refused:
            await request_makeup(uow, clock, Policy(), s.volunteer, s.activity_id, start, start, "零时长")
    assert refused.value.key == "makeup.end_before_start"
