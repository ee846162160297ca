"""Alembic environment. Run through storage.migrate (no alembic.ini needed): it passes an open
connection in ``config.attributes["connection"]``. Given only a URL (``sqlalchemy.url``), it opens
its own async engine: SQLite through aiosqlite, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection, make_url

from storage.database import create_engine
from storage.migrate import render_plain_type
from storage.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def _options(dialect: str) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "compare_type": True,
        # SQLite alters a table by copying it; batch mode does that for future revisions.
        "render_as_batch": dialect == "sqlite",
        # Revisions spell column types in plain SQLAlchemy, never this project's TypeDecorators.
        "render_item": render_plain_type,
    }


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection, or set sqlalchemy.url (see storage.migrate)")
    return url


def run_offline() -> None:
    """``alembic upgrade --sql``: the SQL is printed, nothing is connected."""
    url = _url()
    options = _options(make_url(url).get_backend_name())
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
    else:
        asyncio.run(run_on_url(_url()))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
