"""Matching at scale (3-6.1.2): how long staff wait for the best volunteers of an activity among
100,000, on SQLite and on PostgreSQL. Synthetic volunteers with fields, service areas, regions, a
record of past sessions (about three each), some check-in points still kept, a few unreachable; the
ranking runs through the real service (the database orders the candidates by fields, service area
and place, those with both in common first and alone when they are enough, and returns a shortlist,
which is scored in Python with the records). Prints figures;
asserts nothing.

    python -m bench.matching [--volunteers 100000] [--runs 40] [--database-url postgresql+asyncpg://…]

The schema is storage/tables.py's, with migration 0016's indexes (GIN on volunteers.skills and
volunteers.service_areas on PostgreSQL; SQLite has no index that serves a search inside JSON text).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import insert, text

from core.clock import SystemClock
from core.domain.activity import ActivityStatus
from core.domain.codes import Channel, OrgKind, ProfessionalField, Qualification, ServiceContent
from core.domain.matching import SHORTLIST
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.domain.volunteer import MembershipStatus, VolunteerStatus
from core.services.matching import match_activity
from storage.database import Database
from storage.tables import (
    activities,
    attendances,
    channel_identities,
    memberships,
    metadata,
    organizations,
    signups,
    users,
    volunteers,
)
from storage.types import cipher
from tests.builders import activity_draft

TEAMS = 20
PAST_ACTIVITIES = 3000
TARGETS = 20
CHUNK = 5000
DISTRICTS = [
    "玄武区",
    "秦淮区",
    "建邺区",
    "鼓楼区",
    "浦口区",
    "栖霞区",
    "雨花台区",
    "江宁区",
    "六合区",
    "溧水区",
]
CENTRE = (32.06, 118.79)  # Nanjing
KINDS = [c.value for c in ServiceContent]
FIELDS = [f.value for f in ProfessionalField]
QUALIFICATIONS = [q.value for q in Qualification]


def _point(rng: random.Random) -> tuple[float, float]:
    return CENTRE[0] + rng.uniform(-0.4, 0.4), CENTRE[1] + rng.uniform(-0.4, 0.4)


async def _chunks(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        async with db.engine.begin() as connection:
            await connection.execute(insert(table), rows[i : i + CHUNK])


async def _populate(db: Database, n: int, now: datetime, rng: random.Random) -> list[int]:
    """n volunteers in 20 teams under a brigade; the ids of the activities to match for."""
    created = now - timedelta(days=800)
    org_rows = [
        {
            "id": i + 1,
            "name": f"南京市科技志愿服务{'总队' if i == 0 else f'第{i}队'}",
            "kind": OrgKind.BRIGADE if i == 0 else OrgKind.TEAM,
            "created_at": created,
            "parent_id": None if i == 0 else 1,
            "service_field": "科学普及",
            "service_items": [],
            "requirements": "",
            "leader_name": "队长",
            "leader_contact": "025-00000000",
            "member_count": 0,
            "status": "approved",
            "unit_full_name": False,
            "join_requires_approval": False,
            "timezone": "Asia/Shanghai",
        }
        for i in range(TEAMS + 1)
    ]
    await _chunks(db, organizations, org_rows)
    await _chunks(
        db,
        users,
        [
            {"id": i, "created_at": created, "language": "zh_CN", "recruitment_off": i % 50 == 0}
            for i in range(1, n + 1)
        ],
    )
    await _chunks(
        db,
        channel_identities,
        [
            {
                "channel": Channel.WECHAT if i % 2 else Channel.TELEGRAM,
                "external_id": f"bench{i}",
                "user_id": i,
                "created_at": created,
                "unreachable_at": now if i % 100 == 0 else None,
            }
            for i in range(1, n + 1)
        ],
    )
    volunteer_rows, member_rows = [], []
    for i in range(1, n + 1):
        volunteer_rows.append(
            {
                "id": i,
                "user_id": i,
                "name": f"志愿者{i}",
                "phone": f"139{i:08d}",
                "registered_at": created,
                "region": f"江苏省南京市{rng.choice(DISTRICTS)}",
                "birth_date": date(1990, 1, 1),
                "skills": rng.sample(FIELDS, rng.randint(0, 2)),
                "service_areas": rng.sample(KINDS, rng.randint(0, 3)),
                "qualifications": [rng.choice(QUALIFICATIONS)] if rng.random() < 0.05 else [],
                "status": VolunteerStatus.ACTIVE if rng.random() < 0.97 else VolunteerStatus.CLEARED,
            }
        )
        member_rows.append(
            {
                "volunteer_id": i,
                "org_id": 2 + i % TEAMS,
                "status": MembershipStatus.ACTIVE,
                "requested_at": created,
            }
        )
    await _chunks(db, volunteers, volunteer_rows)
    await _chunks(db, memberships, member_rows)

    def activity_row(i: int, start: datetime, status: ActivityStatus) -> dict[str, Any]:
        draft = activity_draft(1 if status is ActivityStatus.PUBLISHED else 2 + i % TEAMS, SystemClock())
        lat, lon = _point(rng)
        row = {
            c.name: getattr(draft, c.name) for c in activities.c if hasattr(draft, c.name) and c.name != "id"
        }
        row.update(
            id=i,
            title=f"活动{i}",
            service_content=rng.choice(KINDS),
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            created_at=created,
            latitude=lat,
            longitude=lon,
            place_name=f"{rng.choice(DISTRICTS)}科普馆",
            address="",
            status=status,
            required_skills=rng.sample(FIELDS, 1),
            required_qualifications=[],
        )
        return row

    past = [
        activity_row(i, now - timedelta(days=rng.uniform(1, 720)), ActivityStatus.FINISHED)
        for i in range(1, PAST_ACTIVITIES + 1)
    ]
    targets = [
        activity_row(PAST_ACTIVITIES + i, now + timedelta(days=rng.uniform(3, 30)), ActivityStatus.PUBLISHED)
        for i in range(1, TARGETS + 1)
    ]
    await _chunks(db, activities, past + targets)
    signup_rows, attendance_rows = [], []
    for volunteer_id in range(1, n + 1):
        for activity_id in rng.sample(range(1, PAST_ACTIVITIES + 1), rng.choice((0, 1, 2, 3, 4, 5, 6))):
            came = rng.random() < 0.85
            signup_rows.append(
                {
                    "activity_id": activity_id,
                    "volunteer_id": volunteer_id,
                    "status": SignupStatus.ATTENDED if came else SignupStatus.ABSENT,
                    "created_at": created,
                    "insurance_confirmed": False,
                }
            )
    # A few live sign-ups for the targets (clashes, already signed up).
    for volunteer_id in rng.sample(range(1, n + 1), n // 50):
        signup_rows.append(
            {
                "activity_id": PAST_ACTIVITIES + rng.randint(1, TARGETS),
                "volunteer_id": volunteer_id,
                "status": SignupStatus.CONFIRMED,
                "created_at": now,
                "insurance_confirmed": False,
            }
        )
    for i, row in enumerate(signup_rows, 1):
        row["id"] = i
    await _chunks(db, signups, signup_rows)
    # Check-in points still kept (30 days): the recent sessions of one volunteer in twenty.
    for row in signup_rows[::20]:
        if row["status"] is SignupStatus.ATTENDED:
            lat, lon = _point(rng)
            attendance_rows.append(
                {
                    "activity_id": row["activity_id"],
                    "volunteer_id": row["volunteer_id"],
                    "signup_id": row["id"],
                    "checked_in_at": now - timedelta(days=5),
                    "checkin_method": "location",
                    "checkin_latitude": lat,
                    "checkin_longitude": lon,
                    "coordinates_until": now + timedelta(days=25),
                    "needs_review": False,
                }
            )
    await _chunks(db, attendances, attendance_rows)
    return [t["id"] for t in targets]


async def run(n: int, runs: int, database_url: str) -> None:
    cipher.configure(Fernet.generate_key())
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database(url)
        if database_url:
            async with db.engine.begin() as connection:
                await connection.run_sync(metadata.drop_all)
        await db.create_schema()
        now = datetime.now(UTC)
        started = time.perf_counter()
        targets = await _populate(db, n, now, rng)
        backend = db.dialect
        # As autovacuum leaves a running database: statistics, and the pages' visibility and hint bits
        # set (the first reads after a bulk load would set them, and be measured doing so).
        async with db.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"))
        print(f"{backend}: {n} volunteers written in {time.perf_counter() - started:.0f} s")
        clock = SystemClock()
        admin = Actor.system()
        timings, sizes = [], []
        for i in range(runs):
            activity_id = targets[i % len(targets)]
            began = time.perf_counter()
            async with db.uow() as uow:
                matches = await match_activity(uow, clock, admin, activity_id)
            timings.append((time.perf_counter() - began) * 1000)
            sizes.append(matches.ranking.considered)
        await db.dispose()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        f"  top 10 of {n}: p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms over {runs} runs"
        f" (scored with their records: median {statistics.median(sizes):.0f},"
        f" the best {SHORTLIST} by fields, area and place and those whose sign-ups clash)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--database-url", default="", help="a scratch PostgreSQL database (dropped and made anew)"
    )
    args = parser.parse_args()
    asyncio.run(run(args.volunteers, args.runs, args.database_url))


if __name__ == "__main__":
    main()
