"""Alembic on both databases: the stairway (up, all the way down, up again) and no drift between
the migrations and storage/tables.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.database import create_engine
from storage.tables import metadata


async def _on(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_stairway_upgrade_downgrade_upgrade(blank_db_url: str) -> None:
    assert await migrate.current(blank_db_url) is None

    await migrate.upgrade(blank_db_url)
    assert await migrate.current(blank_db_url) == migrate.head()
    assert await _on(blank_db_url, _tables) == set(metadata.tables)

    await migrate.downgrade(blank_db_url, "base")
    assert await migrate.current(blank_db_url) is None
    assert await _on(blank_db_url, _tables) == set()

    await migrate.upgrade(blank_db_url)
    assert await migrate.current(blank_db_url) == migrate.head()
    assert await _on(blank_db_url, _tables) == set(metadata.tables)


async def test_every_revision_steps_down_and_up_again(blank_db_url: str) -> None:
    """Each revision's downgrade undoes exactly its upgrade (the stairway, one step at a time)."""
    revisions = list(reversed(list(migrate.script_directory().walk_revisions())))
    for revision in revisions:
        await migrate.upgrade(blank_db_url, revision.revision)
        await migrate.downgrade(blank_db_url, revision.down_revision or "base")
        await migrate.upgrade(blank_db_url, revision.revision)
    assert await migrate.current(blank_db_url) == migrate.head()


async def test_migrations_match_the_tables_in_code(blank_db_url: str) -> None:
    await migrate.upgrade(blank_db_url)
    assert await _on(blank_db_url, _drift) == []


def test_env_runs_from_a_url_alone(tmp_path: Path) -> None:
    """As the ``alembic`` command would run it: no connection handed over, env.py opens its own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stvs.sqlite3'}"
    command.upgrade(migrate.alembic_config(url), "head")
    assert asyncio.run(migrate.current(url)) == migrate.head()


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///unused.sqlite3", "postgresql+asyncpg://nobody@nowhere/unused"]
)
def test_offline_mode_prints_the_sql(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(migrate.alembic_config(url), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE organizations" in sql
    assert "alembic_version" in sql


async def test_0009_keeps_the_organizations_and_frees_a_rejected_name(blank_db_url: str) -> None:
    """SQLite copies the table to drop the unique constraint: the rows, their links and indexes stay,
    and from then on only organizations that are not rejected hold their names."""
    await migrate.upgrade(blank_db_url, "0008")
    columns = (
        "name, kind, created_at, service_field, service_items, requirements, leader_name, leader_contact,"
        " member_count, status, unit_full_name, join_requires_approval, timezone"
    )
    values = (
        "'{}', 'team', '2026-11-01 00:00:00', '', '[]', '', 'x', 'x', 0, '{}', false, false, 'Asia/Shanghai'"
    )

    def insert(connection: Connection, name: str, status: str) -> None:
        connection.exec_driver_sql(
            f"INSERT INTO organizations ({columns}) VALUES ({values.format(name, status)})"
        )

    def seed(connection: Connection) -> None:
        insert(connection, "南京市鼓楼区科技志愿服务队", "approved")
        insert(connection, "南京市玄武区科技志愿服务队", "rejected")
        connection.commit()

    await _on(blank_db_url, seed)
    await migrate.upgrade(blank_db_url)

    def after(connection: Connection) -> list[tuple[str, str]]:
        insert(connection, "南京市玄武区科技志愿服务队", "applied")  # the rejected one's name, again
        with pytest.raises(IntegrityError):
            insert(connection, "南京市鼓楼区科技志愿服务队", "applied")
        connection.rollback()
        indexes = {i["name"] for i in inspect(connection).get_indexes("organizations")}
        assert {
            "ix_organizations_parent_id",
            "ix_organizations_status",
            "uq_organizations_name_live",
        } <= indexes
        rows = connection.exec_driver_sql("SELECT name, status FROM organizations ORDER BY id").all()
        return [tuple(r) for r in rows]

    assert await _on(blank_db_url, after) == [
        ("南京市鼓楼区科技志愿服务队", "approved"),
        ("南京市玄武区科技志愿服务队", "rejected"),
    ]
