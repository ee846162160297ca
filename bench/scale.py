"""A province on PostgreSQL: fills a database of its own with synthetic data at the size of a
provincial association (100,000 volunteers, 2,000 orgs, 50,000 activities, 1,000,000 sign-ups and as
many records of service), then prints p50/p95 of the hot paths: a turn of each journey through the
real Telegram webhook, the nearby search, an export, the org overview, matching and a report where
those exist; and the throughput of two server instances behind the one database. Asserts nothing.

    python -m bench.scale [--scale 1.0] [--keep] [--samples 200]

--scale 0.1 builds a tenth of the province (quicker, for a look); --keep reuses a database already
filled at that scale. Goal: every turn ≤ 50 ms p95, matching ≤ 100 ms p95, on the machine it runs on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from cryptography.fernet import Fernet

from bench.common import no_collector_pauses
from bots import bootstrap
from bots.app import build_app, tune_gc
from bots.settings import Settings
from core.domain.codes import ProfessionalField, ServiceContent
from core.policy import Policy
from core.ports import ActivityQuery
from core.services.access import load_actor
from core.services.exports import Period, service_record_rows, volunteer_rows
from core.services.matching import match_activity
from core.services.stars import rate_org
from core.services.statistics import period_report
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_TOKEN, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in China
FIRST_PERSON = 8_000_000_001
CITIES = 20
# Jiangsu's rough box: where the activities and the people are.
SOUTH, NORTH, WEST, EAST = 31.0, 35.0, 116.5, 121.5
KEY = "c3R2cy1iZW5jaC1zY2FsZS1rZXktbm90LXNlY3JldCE="  # the bench's own key: --keep reads its data again
SKILLS = [f.value for f in ProfessionalField]
CONTENTS = [c.value for c in ServiceContent]


def sizes(scale: float) -> dict[str, int]:
    return {
        "volunteers": int(100_000 * scale),
        "orgs": max(CITIES + 2, int(2_000 * scale)),
        "activities": int(50_000 * scale),
        "signups": int(1_000_000 * scale),
    }


def db_name(scale: float) -> str:
    return f"stvs_scale_{int(scale * 1000)}"


def dsn(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def url(name: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def settings_for(name: str, tmp: Path, api_base: str = "") -> Settings:
    return Settings(
        data_dir=tmp,
        database_url=url(name),
        data_key=KEY,
        telegram_token=TEST_BOT_TOKEN if api_base else "",
        telegram_api_base=api_base,
    )


# ---- filling ------------------------------------------------------------------------------------


async def fill(name: str, scale: float, tmp: Path) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    settings = settings_for(name, tmp)
    await bootstrap.upgrade_database(settings)
    fernet = Fernet(KEY.encode())
    n = sizes(scale)
    rng = random.Random(7)
    connection = await asyncpg.connect(dsn(name))
    # COPY is binary: jsonb's binary form is a version byte, then the text.
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + json.dumps(value).encode(),
        decoder=lambda data: json.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )
    began = time.perf_counter()

    async def copy(
        table: str, columns: list[str], rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]
    ) -> int:
        batch: list[tuple[Any, ...]] = []
        count = 0
        for row in rows:
            batch.append(row)
            if len(batch) == 50_000:
                await connection.copy_records_to_table(table, records=batch, columns=columns)
                count += len(batch)
                batch = []
        if batch:
            await connection.copy_records_to_table(table, records=batch, columns=columns)
            count += len(batch)
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
        return count

    # Orgs: the province association, a city association per city, teams below the cities.
    orgs = []
    for i in range(1, n["orgs"] + 1):
        parent = None if i == 1 else (1 if i <= CITIES + 1 else 2 + (i % CITIES))
        kind = "association" if i <= CITIES + 1 else "team"
        orgs.append(
            (
                i,
                f"科技志愿服务组织{i:05d}",
                kind,
                NOW - timedelta(days=900),
                parent,
                "科普",
                ["a1"],
                "无",
                "负责人",
                "025-00000000",
                50,
                "approved",
                False,
                False,
                "Asia/Shanghai",
            )
        )
    await copy(
        "organizations",
        [
            "id",
            "name",
            "kind",
            "created_at",
            "parent_id",
            "service_field",
            "service_items",
            "requirements",
            "leader_name",
            "leader_contact",
            "member_count",
            "status",
            "unit_full_name",
            "join_requires_approval",
            "timezone",
        ],
        orgs,
    )
    teams = list(range(CITIES + 2, n["orgs"] + 1))

    # People: a user, a Telegram identity and a volunteer each; staff users after them.
    volunteers = n["volunteers"]
    staff_first = volunteers + 1
    await copy(
        "users",
        ["id", "created_at", "language", "display_name", "recruitment_off"],
        ((i, NOW - timedelta(days=800), "zh_CN", "", False) for i in range(1, volunteers + n["orgs"] + 1)),
    )
    await copy(
        "channel_identities",
        ["id", "channel", "external_id", "user_id", "created_at"],
        (
            (i, "telegram", str(FIRST_PERSON + i - 1), i, NOW - timedelta(days=800))
            for i in range(1, volunteers + n["orgs"] + 1)
        ),
    )
    await copy(
        "role_grants",
        ["id", "user_id", "role", "org_id", "granted_at"],
        (
            (o, staff_first + o - 1, "org_staff", o, NOW - timedelta(days=800))
            for o in range(1, n["orgs"] + 1)
        ),
    )
    await copy(
        "consents",
        ["id", "user_id", "kind", "granted_at", "notice_version", "details"],
        ((i, i, "privacy_notice", NOW - timedelta(days=800), "1", {}) for i in range(1, volunteers + 1)),
    )
    phone_token = fernet.encrypt(
        b"13800000000"
    ).decode()  # one token: encrypting 100,000 adds nothing to measure
    home_team = {v: teams[v % len(teams)] for v in range(1, volunteers + 1)}
    await copy(
        "volunteers",
        [
            "id",
            "user_id",
            "name",
            "phone",
            "registered_at",
            "region",
            "birth_date",
            "skills",
            "service_areas",
            "qualifications",
            "volunteer_number",
            "status",
        ],
        (
            (
                v,
                v,
                "志愿者",
                phone_token,
                NOW - timedelta(days=800),
                f"江苏省第{v % CITIES}市",
                date(1970 + v % 35, 1 + v % 12, 1 + v % 28),
                rng.sample(SKILLS, 2),
                rng.sample(CONTENTS, 3),
                [],
                f"KJ2024{v:07d}",
                "active",
            )
            for v in range(1, volunteers + 1)
        ),
    )
    await copy(
        "memberships",
        ["id", "volunteer_id", "org_id", "status", "requested_at", "decided_at"],
        (
            (v, v, home_team[v], "active", NOW - timedelta(days=800), NOW - timedelta(days=800))
            for v in range(1, volunteers + 1)
        ),
    )

    # Activities over the last two years and the next two months; each team's own.
    activities = n["activities"]
    starts: dict[int, datetime] = {}
    owner: dict[int, int] = {}

    def activity_rows() -> Iterator[tuple[Any, ...]]:
        for a in range(1, activities + 1):
            start = NOW + timedelta(days=rng.uniform(-730, 60), hours=rng.randint(0, 8))
            starts[a], owner[a] = start, teams[a % len(teams)]
            past = start < NOW
            yield (
                a,
                owner[a],
                f"科普活动{a}",
                rng.choice(CONTENTS),
                start,
                start + timedelta(hours=3),
                start - timedelta(days=20),
                "offline",
                "Asia/Shanghai",
                *(["内容"] * 11),
                ["public"],
                "活动地点",
                "地址",
                rng.uniform(SOUTH, NORTH),
                rng.uniform(WEST, EAST),
                300,
                "",
                100,
                False,
                "",
                30,
                [],
                [],
                "",
                [],
                False,
                False,
                "low",
                "",
                False,
                False,
                "finished" if past else "published",
                start - timedelta(days=20),
            )

    await copy(
        "activities",
        [
            "id",
            "org_id",
            "title",
            "service_content",
            "starts_at",
            "ends_at",
            "created_at",
            "mode",
            "timezone",
            "purpose",
            "organizing_unit",
            "content",
            "process",
            "beneficiaries",
            "volunteer_team",
            "guarantees",
            "funding",
            "emergency_plan",
            "publicity",
            "summary",
            "service_objects",
            "place_name",
            "address",
            "latitude",
            "longitude",
            "checkin_radius_m",
            "online_url",
            "hours_coefficient",
            "checkin_code_required",
            "checkin_secret",
            "capacity",
            "required_skills",
            "required_qualifications",
            "required_training",
            "special_groups",
            "high_privacy",
            "field_work",
            "risk_level",
            "risks",
            "insurance_required",
            "signup_requires_approval",
            "status",
            "published_at",
        ],
        activity_rows(),
    )

    # Sign-ups: 20 a activity, distinct volunteers; past ones attended with a confirmed record.
    per = max(1, n["signups"] // max(1, activities))
    signup_rows: list[tuple[Any, ...]] = []
    record_rows: list[tuple[Any, ...]] = []
    sid = 0
    for a in range(1, activities + 1):
        start, past = starts[a], starts[a] < NOW
        for v in rng.sample(range(1, volunteers + 1), min(per, volunteers)):
            sid += 1
            signup_rows.append(
                (
                    sid,
                    a,
                    v,
                    "attended" if past else "confirmed",
                    start - timedelta(days=7),
                    False,
                    start - timedelta(days=7),
                )
            )
            if past:
                record_rows.append(
                    (
                        sid,
                        v,
                        a,
                        owner[a],
                        start,
                        start + timedelta(hours=3),
                        30,
                        100,
                        30,
                        start + timedelta(hours=3),
                        "attendance",
                        "confirmed",
                        False,
                        False,
                        False,
                        start + timedelta(days=1),
                    )
                )
    await copy(
        "signups",
        ["id", "activity_id", "volunteer_id", "status", "created_at", "insurance_confirmed", "confirmed_at"],
        signup_rows,
    )
    await copy(
        "service_records",
        [
            "id",
            "volunteer_id",
            "activity_id",
            "org_id",
            "started_at",
            "ended_at",
            "onsite_hours",
            "coefficient",
            "credited_hours",
            "created_at",
            "source",
            "status",
            "manual",
            "needs_review",
            "below_minimum",
            "decided_at",
        ],
        record_rows,
    )
    await connection.execute("ANALYZE")
    await connection.close()
    print(
        f"filled {name}: {n['orgs']:,} orgs, {volunteers:,} volunteers, {activities:,} activities, "
        f"{len(signup_rows):,} sign-ups, {len(record_rows):,} records in {time.perf_counter() - began:.0f} s"
    )


# ---- measuring ----------------------------------------------------------------------------------


def quantiles(name: str, latencies: list[float], goal_ms: float | None = None) -> None:
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    tail = f"  (goal ≤ {goal_ms:.0f} ms)" if goal_ms else ""
    print(f"  {name:<34} p50 {q[49] * 1000:7.1f} ms   p95 {q[94] * 1000:7.1f} ms   n={len(latencies)}{tail}")


async def timed(samples: int, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    out = []
    for i in range(samples):
        began = time.perf_counter()
        await call(i)
        out.append(time.perf_counter() - began)
    return out


def journey(
    person: Person, updates: TelegramUpdates, upcoming: int, past: int
) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("/start (known volunteer)", updates.command("start", person=person)),
        ("/my", updates.command("my", person=person)),
        ("/hours", updates.command("hours", person=person)),
        ("find: all, first page", updates.callback("find.l:all:0", person=person)),
        ("open an activity's card", updates.callback(f"a:{upcoming}", person=person)),
        ("sign up", updates.callback(f"a.s:{upcoming}", person=person)),
        ("near me: ask", updates.callback("find.near", person=person)),
        ("near me: the location", updates.location(32.05, 118.78, person=person)),
        ("an ended activity's card", updates.callback(f"a:{past}", person=person)),
    ]


async def turns(name: str, tmp: Path, samples: int, scale: float) -> None:
    n = sizes(scale)
    async with FakeTelegramAPI() as api:
        app = build_app(bootstrap.bootstrap(settings_for(name, tmp, api.base_url)), run_scheduler=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tune_gc()
        site = web.TCPSite(runner, "127.0.0.1", 18790)
        await site.start()
        endpoint = "http://127.0.0.1:18790/telegram/webhook"
        connection = await asyncpg.connect(dsn(name))
        upcoming = [
            r["id"]
            for r in await connection.fetch(
                "SELECT id FROM activities WHERE status = 'published' ORDER BY random() LIMIT $1", samples
            )
        ]
        past = [
            r["id"]
            for r in await connection.fetch(
                "SELECT id FROM activities WHERE status = 'finished' ORDER BY random() LIMIT $1", samples
            )
        ]
        await connection.close()
        # Update ids of this run's own: an id seen before (a --keep run) is a redelivery, skipped.
        updates = TelegramUpdates(first_update_id=int(time.time()) * 1000)
        by_step: dict[str, list[float]] = {}
        rng = random.Random(3)
        try:
            with no_collector_pauses():
                async with aiohttp.ClientSession() as session:
                    for i in range(samples):
                        person = Person(id=FIRST_PERSON + rng.randrange(n["volunteers"]), first_name="bench")
                        for step, update in journey(
                            person, updates, upcoming[i % len(upcoming)], past[i % len(past)]
                        ):
                            began = time.perf_counter()
                            async with session.post(endpoint, json=update) as response:
                                await response.read()
                                assert response.status == 200, response.status
                            by_step.setdefault(step, []).append(time.perf_counter() - began)
        finally:
            await runner.cleanup()
    print("turns through the Telegram webhook, one at a time:")
    for step, latencies in by_step.items():
        quantiles(step, latencies[5:], goal_ms=50)  # the first few warm the caches


async def services(name: str, tmp: Path, samples: int, scale: float) -> None:
    team_count = sizes(scale)["orgs"] - CITIES - 1
    built = bootstrap.bootstrap(settings_for(name, tmp))
    db, clock, policy = built.database, FakeClock(NOW), Policy()
    rng = random.Random(5)
    print("services, one call at a time:")

    async def near(_: int) -> None:
        lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        box = (lat - 0.1, lat + 0.1, lon - 0.12, lon + 0.12)
        async with db.uow() as uow:
            await uow.activities.search_brief(ActivityQuery(starts_after=NOW, within=box, limit=10))

    quantiles("nearby search (10 km box)", await timed(samples, near))

    async def export_team(i: int) -> None:
        org_id = CITIES + 2 + rng.randrange(team_count)
        async with db.uow() as uow:
            staff = await load_actor(uow, (await _staff_user(uow, org_id)))
            await service_record_rows(uow, clock, staff, org_id, Period())
            await volunteer_rows(uow, clock, staff, org_id)

    quantiles("export: a team's records and volunteers", await timed(max(10, samples // 10), export_team))

    async def overview(i: int) -> None:
        org_id = CITIES + 2 + rng.randrange(team_count)
        async with db.uow() as uow:
            staff = await load_actor(uow, (await _staff_user(uow, org_id)))
            await rate_org(uow, clock, staff, org_id)

    quantiles("org overview with its stars", await timed(max(10, samples // 10), overview))
    await _optional(db, clock, policy, samples, rng)
    await db.dispose()


async def _staff_user(uow: Any, org_id: int) -> int:
    grants = await uow.grants.staff_of(org_id)
    return grants[0].user_id


async def _optional(db: Any, clock: FakeClock, policy: Policy, samples: int, rng: random.Random) -> None:
    """Matching for an activity still open, and the statistics report of a team and of a city."""
    async with db.uow() as uow:
        upcoming = [
            a.id
            for a in await uow.activities.search_brief(ActivityQuery(starts_after=NOW, limit=200))
            if a.id is not None
        ]

    async def match(i: int) -> None:
        async with db.uow() as uow:
            activity = await uow.activities.read(upcoming[i % len(upcoming)])
            staff = await load_actor(uow, await _staff_user(uow, activity.org_id))
            await match_activity(uow, clock, staff, activity.id)

    quantiles("matching for an activity", await timed(max(10, samples // 4), match), goal_ms=100)
    year = Period(date(NOW.year, 1, 1), date(NOW.year, 12, 31))

    async def report_of(org_id: int) -> None:
        async with db.uow() as uow:
            staff = await load_actor(uow, await _staff_user(uow, org_id))
            await period_report(uow, clock, staff, org_id, year)

    quantiles("statistics report, a team, this year", await timed(10, lambda i: report_of(CITIES + 2 + i)))
    quantiles("statistics report, a city (rolled up)", await timed(5, lambda i: report_of(2 + i)))


def _serve(name: str, tmp: str, api_base: str, port: int, ready: Any) -> None:
    async def run() -> None:
        app = build_app(bootstrap.bootstrap(settings_for(name, Path(tmp), api_base)), run_scheduler=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tune_gc()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(run())


async def two_instances(name: str, tmp: Path, scale: float, count: int = 1200) -> None:
    """Two server processes on the one database, the load spread over both, eight at a time."""
    n = sizes(scale)
    async with FakeTelegramAPI() as api:
        processes, ports = [], (18791, 18792)
        for port in ports:
            ready = multiprocessing.Event()
            process = multiprocessing.Process(
                target=_serve, args=(name, str(tmp), api.base_url, port, ready), daemon=True
            )
            process.start()
            processes.append(process)
            await asyncio.to_thread(ready.wait, 60)
        connection = await asyncpg.connect(dsn(name))
        upcoming = [
            r["id"]
            for r in await connection.fetch(
                "SELECT id FROM activities WHERE status = 'published' ORDER BY random() LIMIT 200"
            )
        ]
        await connection.close()
        updates = TelegramUpdates(first_update_id=int(time.time()) * 1000 + 500_000)
        rng = random.Random(11)
        work = []
        while len(work) < count:
            person = Person(id=FIRST_PERSON + rng.randrange(n["volunteers"]), first_name="bench")
            work += [u for _, u in journey(person, updates, rng.choice(upcoming), rng.choice(upcoming))]
        latencies: list[float] = []
        queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        for i, update in enumerate(work[:count]):
            queue.put_nowait((ports[i % 2], update))
        try:
            with no_collector_pauses():
                async with aiohttp.ClientSession() as session:

                    async def worker() -> None:
                        while not queue.empty():
                            port, update = queue.get_nowait()
                            began = time.perf_counter()
                            async with session.post(
                                f"http://127.0.0.1:{port}/telegram/webhook", json=update
                            ) as r:
                                await r.read()
                            latencies.append(time.perf_counter() - began)

                    began = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(8)))
                    elapsed = time.perf_counter() - began
        finally:
            for process in processes:
                process.terminate()
                process.join(10)
    print(f"two instances, one database, 8 at a time: {len(latencies) / elapsed:.0f} turns/s")
    quantiles("a turn of the mix, under that load", latencies)


async def main(scale: float, keep: bool, samples: int) -> None:
    name = db_name(scale)
    tmp = Path("data") / "bench-scale"
    tmp.mkdir(parents=True, exist_ok=True)
    exists = False
    if keep:
        admin = await asyncpg.connect(ADMIN_DSN)
        exists = bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        await admin.close()
    if not exists:
        await fill(name, scale, tmp)
    await turns(name, tmp, samples, scale)
    await services(name, tmp, samples, scale)
    await two_instances(name, tmp, scale)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.keep, args.samples))
