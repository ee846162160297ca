"""The embedded SQLite default without the asyncio adaptation layer.

SQLite statements take microseconds and run on the event loop anyway (one connection, one writer),
so SQLAlchemy's async session, which hands every call through a greenlet and an adapted cursor, is
pure cost there: about a sixth of a conversation turn. ``LoopSession`` has the surface of
``AsyncSession`` that the repositories use, over a plain ``Session`` whose calls run at once.
Transactions never overlap: ``SqlUnitOfWork`` holds the database's lock from start to end, as the
single pooled connection made them queue before. PostgreSQL keeps the real async session (asyncpg).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session


class LoopSession:
    def __init__(self, session: Session) -> None:
        self.sync_session = session
        self._driver: sqlite3.Connection | None = None

    def driver(self) -> sqlite3.Connection:
        """The sqlite3 connection of this session's transaction, which begins (BEGIN IMMEDIATE) on
        first use: for storage.prepared's statements, which run on it directly."""
        if self._driver is None:
            driver = self.sync_session.connection().connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            self._driver = driver
        return self._driver

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self.sync_session.execute(statement, params, **kwargs)

    async def scalars(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self.sync_session.scalars(statement, params, **kwargs)

    async def scalar(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self.sync_session.scalar(statement, params, **kwargs)

    async def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        return self.sync_session.get(entity, ident, **kwargs)

    def add(self, instance: object) -> None:
        self.sync_session.add(instance)

    async def flush(self) -> None:
        self.sync_session.flush()

    async def commit(self) -> None:
        self._driver = None
        self.sync_session.commit()

    async def rollback(self) -> None:
        self._driver = None
        self.sync_session.rollback()

    async def close(self) -> None:
        self._driver = None
        self.sync_session.close()

    @property
    def dialect(self) -> Dialect:
        return self.get_bind().dialect

    def get_bind(self) -> Engine:
        bind = self.sync_session.get_bind()
        assert isinstance(bind, Engine)
        return bind

    def __contains__(self, instance: object) -> bool:
        return instance in self.sync_session
