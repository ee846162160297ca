"""Places are never over-given: concurrent sign-ups and cancellations, each in its own transaction,
on SQLite (BEGIN IMMEDIATE) and PostgreSQL (SELECT ... FOR UPDATE on the activity row)."""

from __future__ import annotations

import asyncio

from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.errors import Conflict
from core.services.signups import Cancellation, cancel_signup, sign_up
from storage.database import Database
from tests.builders import make_activity, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock

CAPACITY = 10
VOLUNTEERS = 50


async def _crowd(db: Database, clock: FakeClock, n: int = VOLUNTEERS) -> tuple[int, Actor, list[Actor]]:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "海淀区科普志愿服务队")
        assert org.id is not None
        staff = await make_staff(uow, clock, org.id)
        activity = await make_activity(uow, clock, staff, org.id, capacity=CAPACITY)
        people = [(await make_volunteer(uow, clock, org_id=org.id))[1] for _ in range(n)]
        await uow.commit()
    assert activity.id is not None
    return activity.id, staff, people


async def _sign_up(db: Database, clock: FakeClock, actor: Actor, activity_id: int) -> int:
    async with db.uow() as uow:
        signup = await sign_up(uow, clock, actor, activity_id, join_waitlist=True)
        await uow.commit()
    assert signup.id is not None
    return signup.id


async def _cancel(db: Database, clock: FakeClock, actor: Actor, signup_id: int) -> Cancellation:
    async with db.uow() as uow:
        done = await cancel_signup(uow, clock, actor, signup_id, "临时有事")
        await uow.commit()
    return done


async def _count(db: Database, activity_id: int) -> dict[SignupStatus, int]:
    async with db.uow() as uow:
        rows = await uow.signups.for_activity(activity_id)
        return {status: sum(r.status is status for r in rows) for status in SignupStatus}


async def _waitlist_order(db: Database, activity_id: int) -> list[int]:
    async with db.uow() as uow:
        rows = await uow.signups.for_activity(activity_id)
        waiting = [r for r in rows if r.status is SignupStatus.WAITLISTED]
        return [r.id for r in sorted(waiting, key=lambda r: (r.waitlisted_at, r.id))]  # type: ignore[misc]


async def test_fifty_concurrent_signups_fill_ten_places_and_waitlist_the_rest(
    db: Database, clock: FakeClock
) -> None:
    activity_id, _, people = await _crowd(db, clock)
    ids = await asyncio.gather(*(_sign_up(db, clock, actor, activity_id) for actor in people))
    assert len(set(ids)) == VOLUNTEERS
    counts = await _count(db, activity_id)
    assert counts[SignupStatus.CONFIRMED] == CAPACITY
    assert counts[SignupStatus.WAITLISTED] == VOLUNTEERS - CAPACITY


async def test_concurrent_cancellations_promote_from_the_waitlist_up_to_capacity(
    db: Database, clock: FakeClock
) -> None:
    # 3-6.1.3.3: freed places go to the waitlist, first come first served.
    activity_id, _, people = await _crowd(db, clock, n=30)
    # One after the other: 10 places, then 20 waiting in a known order.
    ids = [await _sign_up(db, clock, actor, activity_id) for actor in people]
    by_signup = dict(zip(ids, people, strict=True))
    confirmed, waiting = ids[:CAPACITY], ids[CAPACITY:]
    leaving = confirmed[:6] + waiting[-6:]  # six places freed, six give up from the back of the line
    clock.advance(hours=1)
    results = await asyncio.gather(*(_cancel(db, clock, by_signup[i], i) for i in leaving))
    promoted = sorted(p.id for r in results for p in r.promoted)  # type: ignore[type-var]
    assert promoted == waiting[:6]
    counts = await _count(db, activity_id)
    assert counts[SignupStatus.CONFIRMED] == CAPACITY
    assert counts[SignupStatus.WAITLISTED] == len(people) - CAPACITY - 12
    assert counts[SignupStatus.CANCELLED] == 12
    assert await _waitlist_order(db, activity_id) == waiting[6:-6]


async def test_concurrent_cancellations_of_the_same_signup_free_one_place(
    db: Database, clock: FakeClock
) -> None:
    activity_id, staff, people = await _crowd(db, clock, n=CAPACITY + 2)
    ids = [await _sign_up(db, clock, actor, activity_id) for actor in people]
    target = ids[0]
    outcomes = await asyncio.gather(
        _cancel(db, clock, people[0], target), _cancel(db, clock, staff, target), return_exceptions=True
    )
    done = [o for o in outcomes if isinstance(o, Cancellation)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert [p.id for p in done[0].promoted] == [ids[CAPACITY]]
    counts = await _count(db, activity_id)
    assert (counts[SignupStatus.CONFIRMED], counts[SignupStatus.WAITLISTED]) == (CAPACITY, 1)
    async with db.uow() as uow:
        assert [e.action for e in await uow.audit.for_entity("signup", target)] == [
            "signup.create",
            "signup.cancel",
        ]


async def test_concurrent_signups_and_cancellations_never_exceed_capacity(
    db: Database, clock: FakeClock
) -> None:
    activity_id, _, people = await _crowd(db, clock, n=24)
    early, late = people[:12], people[12:]
    ids = [await _sign_up(db, clock, actor, activity_id) for actor in early]
    leaving = ids[:5]
    await asyncio.gather(
        *(_cancel(db, clock, early[i], signup_id) for i, signup_id in enumerate(leaving)),
        *(_sign_up(db, clock, actor, activity_id) for actor in late),
    )
    counts = await _count(db, activity_id)
    assert counts[SignupStatus.CONFIRMED] == CAPACITY
    assert counts[SignupStatus.WAITLISTED] == len(people) - CAPACITY - len(leaving)


async def test_a_double_tap_signs_the_volunteer_up_once(db: Database, clock: FakeClock) -> None:
    activity_id, _, people = await _crowd(db, clock, n=1)
    outcomes = await asyncio.gather(
        *(_sign_up(db, clock, people[0], activity_id) for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 2, outcomes
    assert (await _count(db, activity_id))[SignupStatus.CONFIRMED] == 1
