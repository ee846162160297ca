"""Shared fixtures. Storage tests run once per database: SQLite (a copy of a schema-only file per
test) and PostgreSQL (one fresh database per run, emptied between tests). STVS_TEST_DATABASES=sqlite limits the run to
SQLite on a machine without PostgreSQL; CI runs both."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The schema made once; each test gets a copy of the file (create_all per test cost ~0.15 s)."""
    path = tmp_path_factory.mktemp("template") / "stvs.sqlite3"

    async def create() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.create_schema()
        await database.dispose()

    asyncio.run(create())
    return path


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Sync on purpose: the PostgreSQL fixtures run their own event loop, outside the test's. The
    database has the schema and no rows."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "stvs.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("postgres_schema"))


async def _empty_postgres(url: str) -> None:
    """Every row deleted and every id sequence restarted, in one round trip: DELETE on tables of a few
    rows is some fifteen times faster than TRUNCATE (0.03 s against 0.5 s for the schema)."""
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    try:
        global _EMPTY_SQL
        if _EMPTY_SQL is None:
            sequences = await connection.fetch(
                "SELECT pg_get_serial_sequence(quote_ident(table_name), 'id') FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'id'"
            )
            deletes = [f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)]
            restarts = [f"ALTER SEQUENCE {row[0]} RESTART" for row in sequences if row[0]]
            _EMPTY_SQL = "; ".join(deletes + restarts)
        await connection.execute(_EMPTY_SQL)
    finally:
        await connection.close()


_EMPTY_SQL: str | None = None


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    if database.dialect == "postgresql":
        await _empty_postgres(db_url)
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
