"""ActivityRepository.search on both databases: the filters a volunteer's list is built from."""

from __future__ import annotations

from datetime import timedelta

from core.domain.activity import bounding_box
from core.ports import ActivityQuery
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, online
from tests.fakes.clock import FakeClock

NANJING = (32.06, 118.78)


async def test_near_me_looks_inside_the_box_whatever_starts_first_elsewhere(
    db: Database, clock: FakeClock
) -> None:
    """Many activities elsewhere that start sooner must not crowd out the one nearby: the box is
    applied by the database before the limit, not after."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        admin = await make_admin(uow, clock)
        for day in range(3):  # Beijing, sooner
            await make_activity(
                uow,
                clock,
                admin,
                org.id,
                latitude=39.98,
                longitude=116.31,
                starts_at=clock.now() + timedelta(days=2 + day),
                ends_at=clock.now() + timedelta(days=2 + day, hours=2),
            )
        near = await make_activity(uow, clock, admin, org.id, latitude=32.05, longitude=118.79)
        online_only = await make_activity(uow, clock, admin, org.id, **online())
        await uow.commit()

    box = bounding_box(*NANJING, 50_000)
    async with db.uow() as uow:
        found = await uow.activities.search(ActivityQuery(starts_after=clock.now(), within=box, limit=2))
        assert [a.id for a in found] == [near.id]
        everything = await uow.activities.search(ActivityQuery(starts_after=clock.now(), limit=10))
        assert {a.id for a in everything} >= {near.id, online_only.id}
        # The list's brief rows: the same activities, in the same order, with what a list shows.
        briefs = await uow.activities.search_brief(ActivityQuery(starts_after=clock.now(), limit=10))
        assert [(b.id, b.title, b.starts_at, b.capacity, b.latitude) for b in briefs] == [
            (a.id, a.title, a.starts_at, a.capacity, a.latitude) for a in everything
        ]
        assert briefs[0].starts_at.tzinfo is not None
