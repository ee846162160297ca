"""The hot statements that run without the ORM (storage/prepared.py), on both databases: the same
values as the ORM reads and writes, inside the unit of work's transaction, seeing its pending changes."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from core.domain.activity import Activity, bounding_box
from core.domain.audit import AuditEntry
from core.domain.codes import Channel, ServiceContent
from core.domain.dialog import Notice
from core.domain.people import ChannelIdentity
from core.domain.signup import HOLDS_PLACE, Signup, SignupStatus
from core.domain.volunteer import VolunteerStatus
from core.errors import RaceLost
from core.ports import ActivityQuery
from core.services.access import actor_with
from core.services.users import ensure_user
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_volunteer, online, resident_id
from tests.fakes.clock import FakeClock


async def test_a_prepared_write_belongs_to_the_unit_of_work(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        assert await uow.deliveries.first_time(Channel.TELEGRAM, "update-1", clock.now())
        await uow.rollback()  # the turn failed: its delivery marker goes with it
    async with db.uow() as uow:
        assert await uow.deliveries.first_time(Channel.TELEGRAM, "update-1", clock.now())
        await uow.commit()
    async with db.uow() as uow:
        assert not await uow.deliveries.first_time(Channel.TELEGRAM, "update-1", clock.now())
        assert await uow.deliveries.first_time(Channel.WECHAT, "update-1", clock.now())


async def test_a_notice_is_queued_once_with_every_value_as_the_orm_reads_it(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "42")
        assert user.id is not None
        notice = Notice(
            key="briefing:7",
            user_id=user.id,
            message_key="briefing.due",
            due_at=clock.now() + timedelta(days=3),
            created_at=clock.now(),
            params={"title": "科普进社区", "places": 3, "nested": {"a": [1, "二"]}},
            choices=[["chat.button.menu", "menu"]],
        )
        assert await uow.notices.add_once(notice)
        twin = Notice(
            key="briefing:7", user_id=user.id, message_key="other", due_at=clock.now(), created_at=clock.now()
        )
        assert not await uow.notices.add_once(twin)
        await uow.commit()
    async with db.uow() as uow:
        [stored] = await uow.notices.pending(["briefing:7"])
        assert stored.message_key == "briefing.due"
        assert stored.params == {"title": "科普进社区", "places": 3, "nested": {"a": [1, "二"]}}
        assert stored.choices == [["chat.button.menu", "menu"]]
        assert stored.due_at == clock.now() + timedelta(days=3)
        assert stored.due_at.tzinfo is not None
        assert (stored.attempts, stored.failed, stored.sent_at, stored.withdrawn_at) == (0, False, None, None)


async def test_prepared_reads_see_what_the_turn_has_not_flushed_yet(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, capacity=5)
        volunteer, _ = await make_volunteer(uow, clock)
        await uow.commit()
    assert activity.id is not None and volunteer.id is not None
    async with db.uow() as uow:
        signup = Signup(
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            status=SignupStatus.CONFIRMED,
            created_at=clock.now(),
            confirmed_at=clock.now(),
        )
        uow.session.add(signup)  # pending, not flushed
        assert await uow.signups.count(activity.id, HOLDS_PLACE) == 1
        assert await uow.signups.count_each([activity.id], HOLDS_PLACE) == {activity.id: 1}
        live = await uow.signups.live(activity.id, volunteer.id)
        assert live is not None and (live.id, live.status) == (signup.id, SignupStatus.CONFIRMED)
        signup.status = SignupStatus.CANCELLED  # changed, not flushed
        assert await uow.signups.live(activity.id, volunteer.id) is None
        assert await uow.signups.count(activity.id, HOLDS_PLACE) == 0


async def test_counts_for_several_activities_take_each_status_asked_for(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        first = await make_activity(uow, clock, admin, org.id)
        second = await make_activity(uow, clock, admin, org.id)
        empty = await make_activity(uow, clock, admin, org.id)
        statuses = [
            SignupStatus.CONFIRMED,
            SignupStatus.ATTENDED,
            SignupStatus.WAITLISTED,
            SignupStatus.CANCELLED,
        ]
        for n, status in enumerate(statuses):
            volunteer, _ = await make_volunteer(uow, clock)
            assert volunteer.id is not None
            for activity in (first, second)[: 1 + n % 2]:
                assert activity.id is not None
                await uow.signups.add(
                    Signup(
                        activity_id=activity.id,
                        volunteer_id=volunteer.id,
                        status=status,
                        created_at=clock.now(),
                    )
                )
        await uow.commit()
    assert first.id and second.id and empty.id
    async with db.uow() as uow:
        taken = await uow.signups.count_each([first.id, second.id, empty.id], HOLDS_PLACE)
        assert taken == {first.id: 2, second.id: 1, empty.id: 0}
        assert await uow.signups.count(first.id, frozenset({SignupStatus.WAITLISTED})) == 1
        assert await uow.signups.count_each([], HOLDS_PLACE) == {}


async def test_the_caller_is_read_as_plain_values(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        volunteer, actor = await make_volunteer(uow, clock)
        state = await uow.dialogs.for_user(actor.user_id, clock.now())
        state.start("reg", "name")
        state.data = {"name": "李志愿", "skills": ["科普", "医疗"]}
        state.offered = ["a:1", "menu"]
        await uow.dialogs.save(state)
        identity = (await uow.identities.for_user(actor.user_id))[0]
        channel, external_id = identity.channel, identity.external_id
        await uow.commit()
    async with db.uow() as uow:
        caller = await uow.users.caller(channel, external_id)
        assert caller is not None
        assert (caller.user_id, caller.language, caller.volunteer_id) == (
            actor.user_id,
            "zh_CN",
            volunteer.id,
        )
        assert (caller.dialog.flow, caller.dialog.step) == ("reg", "name")
        assert caller.dialog.data == {"name": "李志愿", "skills": ["科普", "医疗"]}
        assert caller.dialog.offered == ["a:1", "menu"]
        assert caller.dialog.updated_at.tzinfo is not None
        assert not caller.has_roles
        stored = await uow.volunteers.get(volunteer.id or 0)
        assert stored is not None
        stored.status = VolunteerStatus.CLEARED
        await uow.commit()
    async with db.uow() as uow:
        caller = await uow.users.caller(channel, external_id)
        assert caller is not None  # cleared (2-6.2 f): acts as a visitor
        assert (
            actor_with(caller.user_id, [], caller.volunteer_id, caller.volunteer_status).volunteer_id is None
        )
        assert await uow.users.caller(channel, "someone else") is None


async def test_every_shape_of_list_query_reads_what_the_orm_search_reads(
    db: Database, clock: FakeClock
) -> None:
    """The brief rows are one prepared statement per shape of query: each shape, with its values."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        other = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        for day in range(4):
            await make_activity(
                uow,
                clock,
                admin,
                (org.id, other.id)[day % 2],
                starts_at=clock.now() + timedelta(days=2 + day * 3),
                ends_at=clock.now() + timedelta(days=2 + day * 3, hours=2),
                latitude=32.05 + day,
                longitude=118.79,
            )
        await make_activity(
            uow, clock, admin, org.id, service_content=ServiceContent.POPULAR_LECTURE, **online()
        )
        await uow.commit()
    now = clock.now()
    queries = [
        ActivityQuery(starts_after=now),
        ActivityQuery(starts_after=now, limit=2, offset=1),
        ActivityQuery(starts_after=now, starts_before=now + timedelta(days=7)),
        ActivityQuery(starts_after=now, online_only=True),
        ActivityQuery(starts_after=now, org_ids=(other.id or 0,)),
        ActivityQuery(starts_after=now, service_content=ServiceContent.POPULAR_LECTURE.value),
        ActivityQuery(starts_after=now, within=bounding_box(32.05, 118.79, 50_000)),
        ActivityQuery(),
    ]
    async with db.uow() as uow:
        for query in queries:
            full = await uow.activities.search(query)
            briefs = await uow.activities.search_brief(query)
            assert [
                (b.id, b.title, b.starts_at, b.timezone, b.capacity, b.latitude, b.longitude) for b in briefs
            ] == [
                (a.id, a.title, a.starts_at, a.timezone, a.capacity, a.latitude, a.longitude) for a in full
            ], query
            assert all(b.starts_at.tzinfo is UTC or b.starts_at.utcoffset() == timedelta(0) for b in briefs)
        assert len(await uow.activities.search_brief(queries[0])) == 5
        assert len(await uow.activities.search_brief(queries[1])) == 2


async def test_a_missing_parameter_is_refused_not_written_as_null(db: Database, clock: FakeClock) -> None:
    from storage.repositories.chat import _SAVE_DIALOG

    async with db.uow() as uow:
        with pytest.raises((KeyError, StatementError)):
            await _SAVE_DIALOG.run(uow.session, {"b_user_id": 1, "b_flow": "", "b_step": ""})


async def test_a_copy_reads_what_the_session_reads_and_changing_it_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(
            uow, clock, admin, org.id, required_skills=["科普"], required_qualifications=["first_aid"]
        )
        volunteer, _ = await make_volunteer(uow, clock, id_number=resident_id("11010519491231002"))
        await uow.commit()
    assert activity.id is not None and volunteer.id is not None
    async with db.uow() as uow:
        copy = await uow.activities.read(activity.id)
        locked = await uow.activities.read(activity.id, lock=True)
        person = await uow.volunteers.read(volunteer.id)
        assert copy is not None and locked is not None and person is not None
        assert await uow.activities.read(10**6) is None
        fresh = await uow.activities.get(activity.id)
        assert fresh is not None and copy is not fresh
        assert {f.name: getattr(copy, f.name) for f in fields(Activity)} == {
            f.name: getattr(fresh, f.name) for f in fields(Activity)
        }
        assert copy.qualifications_needed == fresh.qualifications_needed and copy.starts_at.tzinfo is not None
        stored = await uow.volunteers.get(volunteer.id)
        assert stored is not None
        assert (person.phone, person.id_number, person.birth_date) == (
            stored.phone,
            stored.id_number,
            stored.birth_date,
        )
        assert person.id_number is not None and person.id_number.startswith("110105")  # decrypted
        copy.title = "改过的标题"
        copy.required_skills.append("医疗")
        person.name = "改过的名字"
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.activities.get(activity.id)
        who = await uow.volunteers.get(volunteer.id)
        assert again is not None and who is not None
        assert (again.title, again.required_skills, who.name) == (activity.title, ["科普"], volunteer.name)


async def test_a_failing_prepared_statement_raises_as_sqlalchemy_does(db: Database, clock: FakeClock) -> None:
    """Callers (the CLI's error report among them) see one kind of database error on both paths."""
    from storage.repositories.chat import _NEW_DIALOG

    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "7")
        await uow.dialogs.for_user(user.id or 0, clock.now())
        with pytest.raises(IntegrityError):
            await _NEW_DIALOG.run(
                uow.session, {"user_id": user.id, "updated_at": clock.now(), "data": {}, "offered": []}
            )


async def _marked(db: Database, key: str) -> bool:
    async with db.uow() as uow:
        return not await uow.deliveries.first_time(Channel.TELEGRAM, key, FakeClock().now())


async def _users(db: Database, external_id: str) -> bool:
    async with db.uow() as uow:
        return await uow.users.by_identity(Channel.TELEGRAM, external_id) is not None


@pytest.mark.parametrize("prepared_first", [True, False])
async def test_prepared_and_orm_writes_commit_and_roll_back_together(
    db: Database, clock: FakeClock, prepared_first: bool
) -> None:
    """One transaction whichever starts it: on SQLite a prepared statement may begin it on the
    connection before the ORM's session is made, and the session joins it."""
    for commit in (False, True):
        key, person = f"k-{prepared_first}-{commit}", f"p-{prepared_first}-{commit}"
        async with db.uow() as uow:
            if prepared_first:
                await uow.deliveries.first_time(Channel.TELEGRAM, key, clock.now())
                await ensure_user(uow, clock, Channel.TELEGRAM, person)
            else:
                await ensure_user(uow, clock, Channel.TELEGRAM, person)
                await uow.deliveries.first_time(Channel.TELEGRAM, key, clock.now())
            if commit:
                await uow.commit()
            else:
                await uow.rollback()
        assert await _marked(db, key) is commit
        assert await _users(db, person) is commit


async def test_a_unit_of_work_left_by_an_error_leaves_nothing_behind(db: Database, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        async with db.uow() as uow:
            await uow.deliveries.first_time(Channel.TELEGRAM, "left", clock.now())
            await ensure_user(uow, clock, Channel.TELEGRAM, "left")
            raise RuntimeError("the turn failed")
    with pytest.raises(RuntimeError):
        async with db.uow() as uow:
            await uow.deliveries.first_time(Channel.TELEGRAM, "left-alone", clock.now())
            raise RuntimeError("the turn failed before the ORM was used")
    assert not await _marked(db, "left") and not await _marked(db, "left-alone")
    assert not await _users(db, "left")
    # After a commit, the same unit of work may go on (a refusal's bookkeeping): a new transaction.
    async with db.uow() as uow:
        await uow.deliveries.first_time(Channel.TELEGRAM, "first", clock.now())
        await uow.commit()
        await uow.deliveries.first_time(Channel.TELEGRAM, "second", clock.now())
        await ensure_user(uow, clock, Channel.TELEGRAM, "second")
        await uow.commit()
    assert await _marked(db, "first") and await _marked(db, "second") and await _users(db, "second")


async def test_an_added_item_has_its_id_and_later_changes_to_it_are_written(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, capacity=3)
        volunteer, _ = await make_volunteer(uow, clock)
        assert activity.id is not None and volunteer.id is not None
        signup = await uow.signups.add(
            Signup(
                activity_id=activity.id,
                volunteer_id=volunteer.id,
                status=SignupStatus.WAITLISTED,
                created_at=clock.now(),
            )
        )
        assert signup.id is not None
        assert await uow.signups.get(signup.id) is signup  # in the session, as if loaded
        signup.status = SignupStatus.CONFIRMED  # tracked: written with the commit
        signup.confirmed_at = clock.now()
        await uow.audit.add(
            AuditEntry(
                at=clock.now(),
                actor_user_id=admin.user_id,
                action="t.x",
                entity="signup",
                entity_id=signup.id,
            )
        )
        assert [e.action for e in await uow.audit.for_entity("signup", signup.id)][-1] == "t.x"
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.signups.get(signup.id)
        assert stored is not None and stored is not signup
        assert (stored.status, stored.confirmed_at) == (SignupStatus.CONFIRMED, clock.now())
        # A unique row twice: SQLAlchemy's IntegrityError, which the identity's repository reads as
        # a lost race (two first messages of one new user at once).
        with pytest.raises(RaceLost) as lost:
            for _ in range(2):
                await uow.identities.add(
                    ChannelIdentity(
                        channel=Channel.TELEGRAM,
                        external_id="dup",
                        user_id=admin.user_id,
                        created_at=clock.now(),
                    )
                )
        assert isinstance(lost.value.__cause__, IntegrityError)
