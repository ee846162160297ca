"""Shared fixtures. Storage tests run once per database: SQLite (a file per test) and PostgreSQL
(one fresh database per run, emptied between tests). STVS_TEST_DATABASES=sqlite limits the run to
SQLite on a machine without PostgreSQL; CI runs both."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.policy import Policy
from storage.database import Database
from storage.tables import metadata
from storage.types import cipher
from tests.fakes.clock import FakeClock

pytest_plugins = ["tests.fakes.telegram_api"]

POSTGRES_ADMIN_URL = os.environ.get(
    "STVS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
DATABASES = [
    d.strip() for d in os.environ.get("STVS_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()
]

cipher.configure(Fernet.generate_key().decode())


async def _admin_execute(statement: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this run, dropped at the end."""
    name = f"stvs_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:  # noqa: BLE001 - any failure means no PostgreSQL
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}). "
            "Start it, set STVS_TEST_POSTGRES_URL, or run SQLite only with STVS_TEST_DATABASES=sqlite."
        )
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> str:
    async def create() -> None:
        database = Database(postgres_url)
        await database.create_schema()
        await database.dispose()

    asyncio.run(create())
    return postgres_url


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Sync on purpose: the PostgreSQL fixtures run their own event loop, outside the test's."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'stvs.sqlite3'}"
    return str(request.getfixturevalue("postgres_schema"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    if database.dialect == "sqlite":
        await database.create_schema()
    else:
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture(params=DATABASES)
def blank_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own, no tables (migrations and the CLI create them): a new SQLite
    file, or a new PostgreSQL database dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('blank') / 'stvs.sqlite3'}"
        return
    name = f"stvs_blank_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means no PostgreSQL
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}).")
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
