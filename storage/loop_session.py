"""The embedded SQLite default without the asyncio adaptation layer.

SQLite statements take microseconds and run on the event loop anyway (one connection, one writer),
so SQLAlchemy's async session, which hands every call through a greenlet and an adapted cursor, is
pure cost there. ``LoopSession`` has the surface of ``AsyncSession`` that the repositories use.
Transactions never overlap: ``SqlUnitOfWork`` holds the database's lock from start to end, and every
unit of work uses the database's one connection. PostgreSQL keeps the real async session (asyncpg).

Most turns never touch an ORM entity: their statements are ``storage.prepared`` ones, which run on
the sqlite3 connection itself. For them a transaction is BEGIN IMMEDIATE … COMMIT on that connection,
and no ``Session`` is made at all (making one, beginning and ending its transaction cost several
times a turn's statements). The first use of the ORM makes the ``Session``, bound to the same
connection: it joins the transaction already begun (the engine's "begin" listener sees it and emits
nothing), and its commit or rollback ends the whole transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.util import identity_key


def as_sqlalchemy_error(error: sqlite3.Error, statement: str, params: Any) -> DBAPIError:
    """A failure on the sqlite3 connection itself, raised as SQLAlchemy raises it for any other
    statement (IntegrityError, OperationalError, …), so callers see one kind of database error; without
    the parameters, as the engines do."""
    wrapped = DBAPIError.instance(statement, params, error, sqlite3.Error, hide_parameters=True)
    assert isinstance(wrapped, DBAPIError)  # as a sqlite3.Error always is (typed: a StatementError)
    return wrapped


class LoopSession:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver
        self._session: Session | None = None
        # Written by prepared INSERTs in this transaction and then joined to the session as if loaded
        # (storage.repositories._Repository.add): a rollback must make them new again, as the ORM
        # does for what it inserted itself.
        self._adopted: list[object] = []
        # What the session held when the unit of work last committed: copies of an earlier
        # transaction, which another connection may have changed since.
        self._earlier: set[Any] = set()

    @property
    def sync_session(self) -> Session:
        """The ORM's session, made on first use; it joins a transaction already begun."""
        if self._session is None:
            self._session = Session(bind=self._connection, expire_on_commit=False, autoflush=True)
        return self._session

    @property
    def orm_session(self) -> Session | None:
        """The ORM's session if this unit of work made one (a prepared statement flushes it first)."""
        return self._session

    def adopt(self, instance: object) -> None:
        """An item just written by a prepared INSERT, its id set: joins the session as if loaded."""
        make_transient_to_detached(instance)
        self.sync_session.add(instance)
        self._adopted.append(instance)

    def read_earlier(self, entity: type, ident: int) -> bool:
        """Whether the session's copy of this row, if any, was read before this transaction began."""
        return bool(self._earlier) and identity_key(entity, ident) in self._earlier

    def driver(self) -> sqlite3.Connection:
        """The sqlite3 connection, in this unit of work's transaction, begun here on first use."""
        if not self._driver.in_transaction:
            self._raw("BEGIN IMMEDIATE")
        return self._driver

    def _raw(self, sql: str) -> None:
        try:
            self._driver.execute(sql)
        except sqlite3.Error as error:
            raise as_sqlalchemy_error(error, sql, ()) from error

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
        if self._session is not None:
            self._session.commit()  # flushes, then commits the connection's transaction
        if self._driver.in_transaction:  # begun by a prepared statement, or after the session's end
            self._raw("COMMIT")
        self._adopted.clear()
        if self._session is not None:
            self._earlier = set(self._session.identity_map.keys())

    async def rollback(self) -> None:
        self._forget_adopted()
        if self._session is not None:
            self._session.rollback()
        if self._driver.in_transaction:
            self._raw("ROLLBACK")

    def _forget_adopted(self) -> None:
        """Before the session's rollback expires them: out of the session and new again, with the
        values they were given (their ids no longer exist, and SQLite will hand them out again)."""
        for instance in self._adopted:
            if self._session is not None and instance in self._session:
                self._session.expunge(instance)
            make_transient(instance)
        self._adopted.clear()

    async def close(self) -> None:
        self._forget_adopted()
        try:
            if self._session is not None:
                self._session.close()
        finally:
            if self._driver.in_transaction:
                self._raw("ROLLBACK")

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    def get_bind(self) -> Engine:
        return self._connection.engine

    def __contains__(self, instance: object) -> bool:
        return self._session is not None and instance in self._session
