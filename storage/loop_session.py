"""``storage.statements.Statements`` on the embedded SQLite file, without the asyncio adaptation layer.

SQLite statements take microseconds and run on the event loop anyway (one connection, one writer),
so SQLAlchemy's async session, which hands every call through a greenlet and an adapted cursor, is
pure cost there. Transactions never overlap: ``SqlUnitOfWork`` holds the database's lock from start
to end, and every unit of work uses the database's one connection. PostgreSQL keeps the real async
session (asyncpg).

Most turns never touch an ORM entity: their statements are ``storage.prepared`` ones, which run on
the sqlite3 connection itself. For them a transaction is BEGIN IMMEDIATE … COMMIT on that connection,
and no ``Session`` is made at all (making one, beginning and ending its transaction cost several
times a turn's statements). The first use of the ORM makes the ``Session``, bound to the same
connection: it joins the transaction already begun (the engine's "begin" listener sees it and emits
nothing), and its commit or rollback ends the whole transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, inspect
from sqlalchemy.engine import Connection, ScalarResult
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Executable

from storage.prepared import Prepared, as_sqlalchemy_error
from storage.statements import AnyRows, Params, Row

T = TypeVar("T")
_APPENDS: dict[str, tuple[Prepared, tuple[str, ...]]] = {}  # append's INSERT and its columns, by table


class LoopSession:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver
        self._session: Session | None = None
        # What the session held when the unit of work last committed: copies of an earlier
        # transaction, which another connection may have changed since.
        self._earlier: set[Any] = set()

    @property
    def dialect_name(self) -> str:
        return "sqlite"

    @property
    def _orm(self) -> Session:
        """The ORM's session, made on first use; it joins a transaction already begun."""
        if self._session is None:
            self._session = Session(bind=self._connection, expire_on_commit=False, autoflush=True)
        return self._session

    async def execute(self, statement: Executable, params: Params = None) -> AnyRows:
        return self._orm.execute(statement, params)

    async def scalars(self, statement: Executable, params: Params = None) -> ScalarResult[Any]:
        return self._orm.scalars(statement, params)

    async def scalar(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Any:
        return self._orm.scalar(statement, params)

    async def get(self, entity: type[T], ident: Any) -> T | None:
        return self._orm.get(entity, ident)

    async def get_for_update(self, entity: type[T], ident: Any) -> T | None:
        """An SQLite transaction holds the file's write lock from its first statement (BEGIN IMMEDIATE),
        so a copy read in it cannot be older: that one is used, and only a copy of an earlier
        transaction of the unit of work (before its commit) is read again."""
        earlier = bool(self._earlier) and identity_key(entity, ident) in self._earlier
        return self._orm.get(entity, ident, populate_existing=earlier)

    def add(self, instance: object) -> None:
        self._orm.add(instance)

    async def flush(self) -> None:
        self._orm.flush()

    async def append(self, instance: object) -> None:
        """One prepared INSERT on the connection: an ORM flush costs several times that for one row."""
        table = inspect(type(instance)).local_table
        found = _APPENDS.get(table.name)
        if found is None:
            names = tuple(c.key for c in table.c if not (c.key == "id" and c.primary_key))
            statement = insert(table).values({name: bindparam(name) for name in names})
            found = _APPENDS[table.name] = (Prepared(statement), names)
        prepared, names = found
        await self.write(prepared, {name: getattr(instance, name) for name in names})

    async def rows(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]:
        return prepared.fetch(self._driver_in_transaction(), self._connection.dialect, params)

    async def write(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        cursor = prepared.cursor(self._driver_in_transaction(), self._connection.dialect, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    async def write_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared.execute_many(self._driver_in_transaction(), self._connection.dialect, rows)

    def _driver_in_transaction(self) -> sqlite3.Connection:
        """The sqlite3 connection, in this unit of work's transaction (begun here on first use), with
        what the turn changed through the ORM written first, as autoflush would before a query."""
        orm = self._session
        if (
            orm is not None
            and orm.autoflush
            and (orm.new or orm.deleted or orm.identity_map.check_modified())
        ):
            orm.flush()
        if not self._driver.in_transaction:
            self._raw("BEGIN IMMEDIATE")
        return self._driver

    def _raw(self, sql: str) -> None:
        try:
            self._driver.execute(sql)
        except sqlite3.Error as error:
            raise as_sqlalchemy_error(error, sql, ()) from error

    async def commit(self) -> None:
        if self._session is not None:
            self._session.commit()  # flushes, then commits the connection's transaction
        if self._driver.in_transaction:  # begun by a prepared statement, or after the session's end
            self._raw("COMMIT")
        if self._session is not None:
            self._earlier = set(self._session.identity_map.keys())

    async def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self._driver.in_transaction:
            self._raw("ROLLBACK")

    async def close(self) -> None:
        try:
            if self._session is not None:
                self._session.close()
        finally:
            if self._driver.in_transaction:
                self._raw("ROLLBACK")
