"""The demo's history (bots/demo.py HISTORY), seeded through the services with the clock set back: the
demo's people try at once what needs activities already held — their hours and star progress, the
certificate, a make-up request, confirming hours, the activity records and the statistics report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bots.bootstrap import Services, bootstrap
from bots.demo import BRIGADE, DEMO_CHANNEL, DEMO_PEOPLE, HISTORY, seed_demo
from bots.settings import Settings
from core.chat.messages import Document
from core.domain.activity import ActivityStatus
from core.domain.attendance import CheckMethod, RecordStatus
from core.domain.survey import SurveyKind
from core.policy import Policy
from core.ports import ActivityQuery
from core.services.access import load_actor
from core.services.exports import Period, PeriodName
from core.services.records import hours_of
from core.services.reminders import queue_after_activity
from core.services.statistics import period_report
from storage.database import Database
from tests.chat.conftest import ChatUser
from tests.fakes.clock import FakeClock

OLDEST, OVERDUE, RECENT = (spec.activity.title for spec in HISTORY)


@pytest.fixture
async def demo(db: Database, clock: FakeClock, tmp_path) -> Services:
    services = bootstrap(Settings(data_dir=tmp_path), clock=clock, database=db)
    async with db.uow() as uow:
        await seed_demo(uow, clock, Policy())
        await uow.commit()
    return services


def person(services: Services, pane: str) -> ChatUser:
    """The playground's person of that pane, as `stvs chat --as <pane>` talks."""
    return ChatUser(services.conversation, DEMO_PEOPLE[pane], channel=DEMO_CHANNEL)


async def test_the_history_ended_20_10_and_2_days_ago_as_published_attended_and_recorded(
    demo: Services, db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        held = {
            a.title: a
            for a in await uow.activities.search(ActivityQuery(statuses=frozenset(ActivityStatus), limit=100))
        }
        zone = ZoneInfo(Policy().default_timezone)
        today = clock.now().astimezone(zone).date()
        for spec, days in zip(HISTORY, (20, 10, 2), strict=True):
            activity = held[spec.activity.title]
            assert activity.ends_at < clock.now() and activity.ends_at.astimezone(
                zone
            ).date() == today - timedelta(days=days)
            assert activity.published_at is not None and activity.published_at < activity.starts_at
            attendances = await uow.attendances.for_activity(activity.id or 0)
            # 2-6.3 a: each attendee checked in and out at the venue, by location.
            assert len(attendances) == len(spec.attended)
            assert {a.checkin_method for a in attendances} == {CheckMethod.LOCATION}
        # 3-6.3: the oldest one's record is filed (归档); the others' are not.
        assert held[OLDEST].status is ActivityStatus.RECORDED
        assert held[OVERDUE].status_at(clock.now()) is ActivityStatus.FINISHED


async def test_the_volunteer_has_confirmed_hours_star_progress_and_a_certificate(demo: Services) -> None:
    volunteer = person(demo, "volunteer")
    await volunteer.text("/hours")
    hours = volunteer.texts()
    assert "已确认：6.0 小时" in hours  # 2 h and 4 h, confirmed by the brigade's staff
    assert "再服务 94 小时可达一星" in hours  # the star progress
    assert OLDEST in hours and OVERDUE in hours and RECENT not in hours  # no record of the recent one

    replies = await volunteer.text("/certificate")
    pdf = next(r for r in replies if isinstance(r, Document))
    assert pdf.data.startswith(b"%PDF")
    assert "服务证明已开具" in volunteer.texts() and "已确认时长：6.0 小时" in volunteer.texts()


async def test_the_volunteer_may_ask_for_make_up_hours_of_the_recent_activity_only(demo: Services) -> None:
    volunteer = person(demo, "volunteer")
    await volunteer.text("/makeup")
    offered = volunteer.buttons()
    assert any(RECENT in label for label in offered)
    assert not any(OLDEST in label or OVERDUE in label for label in offered)  # their hours stand
    await volunteer.press(RECENT)
    assert f"“{RECENT}”计划时间" in volunteer.texts() and "14:00-16:00" in volunteer.texts()


async def test_the_organizer_confirms_the_hours_still_pending(demo: Services, db: Database) -> None:
    organizer = person(demo, "organizer")
    await organizer.text("菜单")
    await organizer.press("组织者")
    await organizer.press("本组织活动")
    await organizer.press(RECENT)
    await organizer.press("工时确认")
    assert "周婷" in organizer.texts() and "待确认" in organizer.texts()
    assert "王晓明" not in organizer.texts()  # signed up, no record: his to ask for (补录)
    await organizer.press("全部确认")
    assert "已确认 1 条服务记录" in organizer.texts()

    async with db.uow() as uow:
        user = await uow.users.by_identity(DEMO_CHANNEL, "demo-08")
        assert user is not None and user.id is not None
        volunteer = await uow.volunteers.by_user(user.id)
        assert volunteer is not None and volunteer.id is not None
        hours = await hours_of(uow, Policy(), volunteer.id)
    assert (hours.confirmed, hours.pending) == (Decimal("4.0"), Decimal("0.0"))


async def test_records_lists_the_overdue_activity_record_and_the_recent_one_is_fileable(
    demo: Services,
) -> None:
    organizer = person(demo, "organizer")
    await organizer.text("/records")
    listed = organizer.texts()
    assert "已逾期 1 项" in listed and OVERDUE in listed
    assert OLDEST not in listed  # filed
    assert RECENT not in listed  # listed from day 5 after the end (3-6.3)
    await organizer.press(OVERDUE)
    assert "活动记录" in organizer.texts()


async def test_the_statistics_report_counts_the_history(
    demo: Services, db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        organizer = await uow.users.by_identity(DEMO_CHANNEL, DEMO_PEOPLE["organizer"])
        assert organizer is not None
        staff = await load_actor(uow, organizer.id)
        brigade = await uow.orgs.by_name(BRIGADE)
        assert brigade is not None and brigade.id is not None
        today = clock.now().astimezone(ZoneInfo(brigade.timezone)).date()
        report = await period_report(uow, clock, staff, brigade.id, Period.named(PeriodName.THIS_YEAR, today))
    assert report.hours == Decimal("18.0")  # three volunteers of 2 h, three of 4 h; 2 h still pending
    assert (report.ended_signups, report.ended_attended) == (8, 7)
    assert report.responses[SurveyKind.BENEFICIARY] == 2


async def test_nothing_of_the_history_waits_in_the_outbox(
    demo: Services, db: Database, clock: FakeClock
) -> None:
    """The surveys asked for, hours confirmed and an evaluation were told when they happened, not when
    the playground opens; the scheduler's after-activity job, run now, finds nothing left to ask."""
    async with db.uow() as uow:
        assert await uow.notices.due(clock.now(), 100) == []
        assert await queue_after_activity(uow, clock) == 0
        user = await uow.users.by_identity(DEMO_CHANNEL, DEMO_PEOPLE["volunteer"])
        assert user is not None and user.id is not None
        told = [
            n.sent_at
            for n in await uow.notices.for_user(user.id)
            if n.message_key == "notice.record_confirmed"
        ]
    assert len(told) == 2 and all(at is not None and at < clock.now() for at in told)


async def test_seeding_again_adds_nothing_to_the_history(
    demo: Services, db: Database, clock: FakeClock
) -> None:
    async def snapshot() -> tuple[int, ...]:
        async with db.uow() as uow:
            everything = await uow.activities.search(
                ActivityQuery(statuses=frozenset(ActivityStatus), limit=1000)
            )
            counts = [len(everything)]
            for activity in everything:
                assert activity.id is not None
                counts.append(len(await uow.signups.for_activity(activity.id)))
                counts.append(len(await uow.records.for_activity(activity.id)))
                counts.append(len(await uow.surveys.for_activity(activity.id)))
                counts.append(len(await uow.evaluations.for_activity(activity.id)))
            return tuple(counts)

    before = await snapshot()
    clock.advance(days=1)  # another day: the history is matched by name, not by date
    async with db.uow() as uow:
        again = await seed_demo(uow, clock, Policy())
        await uow.commit()
    assert not again.changed
    assert await snapshot() == before


async def test_records_of_the_history_stay_as_staff_left_them(demo: Services, db: Database) -> None:
    async with db.uow() as uow:
        found = {
            a.title: a
            for a in await uow.activities.search(ActivityQuery(statuses=frozenset(ActivityStatus), limit=100))
        }
        statuses = {
            title: sorted(r.status for r in await uow.records.for_activity(found[title].id or 0))
            for title in (OLDEST, OVERDUE, RECENT)
        }
    assert statuses == {
        OLDEST: [RecordStatus.CONFIRMED] * 3,
        OVERDUE: [RecordStatus.CONFIRMED] * 3,
        RECENT: [RecordStatus.PENDING],
    }
