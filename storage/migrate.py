"""Alembic driven from code, with no alembic.ini: ``stvs db upgrade`` and the tests call these.

A new revision after a change to storage/tables.py, compared against a scratch database::

    python -c "import asyncio, storage.migrate as m; asyncio.run(m.revision('sqlite+aiosqlite:///scratch.db', 'what changed'))"

It is written to storage/migrations/versions/<next number>_<what_changed>.py; read it before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from storage.database import create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    # New revisions come out formatted as the rest of the code (ruff is in the dev extra).
    config.set_section_option("post_write_hooks", "hooks", "ruff")
    config.set_section_option("post_write_hooks", "ruff.type", "module")
    config.set_section_option("post_write_hooks", "ruff.module", "ruff")
    config.set_section_option("post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME")
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str | None:
    """The newest revision this code knows."""
    return script_directory().get_current_head()


async def _on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """One transaction: on PostgreSQL the whole migration commits or none of it does."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_in_one_transaction(work))
    finally:
        await engine.dispose()


def _in_one_transaction(work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """SQLite changes a table by copying it (batch mode), and dropping the old copy fails while
    foreign keys point at it: they are off for the migration, as SQLite's documentation says to
    alter tables, and checked before it commits (a broken reference rolls it all back)."""

    def run(connection: Connection) -> T:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
        try:
            with connection.begin():
                result = work(connection)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration would break foreign keys: {broken[:5]}")
            return result
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")

    return run


def _pragma(connection: Connection, sql: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _command(url: str, run: Callable[[Config], object]) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        run(config)

    return work


async def upgrade(url: str, revision: str = "head") -> None:
    await _on_connection(url, _command(url, lambda config: command.upgrade(config, revision)))


async def downgrade(url: str, revision: str) -> None:
    await _on_connection(url, _command(url, lambda config: command.downgrade(config, revision)))


async def current(url: str) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    return await _on_connection(url, lambda c: MigrationContext.configure(c).get_current_revision())


async def revision(url: str, message: str, *, autogenerate: bool = True) -> None:
    """Brings ``url`` (a scratch database) to head, then writes the next numbered revision from the
    difference between it and storage/tables.py. For developers, not deployments."""
    await upgrade(url)
    latest = head()
    number = int(latest) + 1 if latest and latest.isdecimal() else 1
    await _on_connection(
        url,
        _command(
            url,
            lambda config: command.revision(
                config, message, autogenerate=autogenerate, rev_id=f"{number:04d}"
            ),
        ),
    )


def render_plain_type(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate hook: a TypeDecorator (EnumStr, UTCDateTime, Encrypted) is written as the plain
    type it stores, so a revision never imports code that may change after it was written."""
    if type_ != "type":
        return False
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    # JsonList/JsonDict: JSON, JSONB on PostgreSQL (alembic's own rendering leaves Text unimported).
    if isinstance(obj, JSON) and isinstance(getattr(obj, "_variant_mapping", {}).get("postgresql"), JSONB):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False
