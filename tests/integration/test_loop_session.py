"""SQLite's implementation of the repositories' statements (storage/loop_session.py) against the
AsyncSession one (storage/statements.py): what holds on PostgreSQL must hold here too."""

from __future__ import annotations

from core.domain.audit import AuditEntry
from core.domain.codes import Channel
from core.domain.people import Consent, ConsentKind
from core.services.users import ensure_user
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_volunteer
from tests.fakes.clock import FakeClock


async def test_after_a_rollback_the_same_unit_of_work_adds_again(db: Database, clock: FakeClock) -> None:
    """A rolled-back addition leaves the session as it leaves the database (a refusal's bookkeeping,
    or any caller that rolls back and goes on): SQLite hands the rolled-back id out again, and the
    next addition must not find it claimed in the session."""
    async with db.uow() as uow:
        refused = await ensure_user(uow, clock, Channel.TELEGRAM, "refused")  # still referenced
        await uow.rollback()
        kept = await ensure_user(uow, clock, Channel.TELEGRAM, "kept")
        await uow.commit()
    assert kept.id is not None and kept is not refused
    async with db.uow() as uow:
        assert await uow.users.by_identity(Channel.TELEGRAM, "kept") is not None
        assert await uow.users.by_identity(Channel.TELEGRAM, "refused") is None


async def test_an_item_added_before_a_rollback_is_gone_from_the_session(
    db: Database, clock: FakeClock
) -> None:
    """As on PostgreSQL (the ORM expunges what it inserted in the rolled-back transaction): the item is
    new again and readable, and the session does not claim its id."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "gone")
        user_id = user.id
        assert user_id is not None
        await uow.rollback()
        assert user.language == "zh_CN"
        assert await uow.users.get(user_id) is None


async def test_get_for_update_reads_afresh_after_an_earlier_commit(
    db: Database, db_url: str, clock: FakeClock
) -> None:
    """``get_for_update`` is "read afresh and locked for this transaction". On SQLite BEGIN IMMEDIATE
    keeps other writers out of this transaction only: a copy read before the unit of work's earlier
    commit (kept, expire_on_commit=False) may have been changed since by another writer (the CLI, a
    second instance)."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org.id, capacity=5)
        await uow.commit()
    assert activity.id is not None
    other = Database(db_url)  # another process's connection to the same database
    try:
        async with db.uow() as uow:
            before = await uow.activities.get(activity.id)
            assert before is not None and before.capacity == 5
            await uow.commit()  # the unit of work goes on in a new transaction
            async with other.uow() as elsewhere:
                changed = await elsewhere.activities.get(activity.id)
                assert changed is not None
                changed.capacity = 99
                await elsewhere.commit()
            locked = await uow.activities.get_for_update(activity.id)
            assert locked is not None
            assert locked.capacity == 99
    finally:
        await other.dispose()


async def test_in_place_changes_to_json_of_an_added_item_are_tracked(db: Database, clock: FakeClock) -> None:
    """An added item keeps its MutableList/MutableDict tracking, a prepared read (run on the connection
    itself on SQLite) flushes such a change first, and the commit writes it."""
    async with db.uow() as uow:
        volunteer, actor = await make_volunteer(uow, clock)
        assert volunteer.id is not None and actor.user_id is not None
        consent = await uow.consents.add(
            Consent(user_id=actor.user_id, kind=ConsentKind.LOCATION, granted_at=clock.now())
        )
        volunteer.qualifications.append("first_aid")
        consent.details["source"] = "chat"
        copy = await uow.volunteers.read(volunteer.id)  # a prepared read: the change is flushed first
        assert copy is not None and copy.qualifications == ["first_aid"]
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.volunteers.get(volunteer.id)
        given = await uow.consents.active(actor.user_id, ConsentKind.LOCATION)
        assert stored is not None and stored.qualifications == ["first_aid"]
        assert given is not None and given.details == {"source": "chat"}


async def test_a_disposed_database_opens_its_connection_again(db: Database, clock: FakeClock) -> None:
    """dispose() closes SQLite's long-lived connection, and the next unit of work opens a new
    one, with prepared and ORM statements alike."""
    async with db.uow() as uow:
        await ensure_user(uow, clock, Channel.TELEGRAM, "before")
        assert await uow.deliveries.first_time(Channel.TELEGRAM, "k", clock.now())
        await uow.commit()
    await db.dispose()
    async with db.uow() as uow:
        assert await uow.users.by_identity(Channel.TELEGRAM, "before") is not None
        assert not await uow.deliveries.first_time(Channel.TELEGRAM, "k", clock.now())
        await ensure_user(uow, clock, Channel.TELEGRAM, "after")
        await uow.commit()
    await db.dispose()
    async with db.uow() as uow:
        assert await uow.users.by_identity(Channel.TELEGRAM, "after") is not None


async def test_an_audit_entry_is_written_and_rolled_back_with_its_transaction(
    db: Database, clock: FakeClock
) -> None:
    """The audit log's append (one INSERT on SQLite, the next flush elsewhere) belongs to the turn."""
    for action, commit in (("t.gone", False), ("t.kept", True)):
        async with db.uow() as uow:
            await uow.audit.add(
                AuditEntry(at=clock.now(), actor_user_id=None, action=action, entity="user", entity_id=1)
            )
            if commit:
                await uow.commit()
            else:
                await uow.rollback()
    async with db.uow() as uow:
        assert [e.action for e in await uow.audit.for_entity("user", 1)] == ["t.kept"]
