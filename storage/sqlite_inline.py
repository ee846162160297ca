"""SQLite on the event loop's own thread, for the embedded default.

aiosqlite runs every call on a worker thread and wakes the loop for each result: a turn of the
conversation is ~10 statements and ~70 such hand-offs, which is most of its cost. A local SQLite
statement takes microseconds, and the engine keeps a single connection (one writer anyway), so
running the calls inline is cheaper than handing them off. This object has the surface of an
aiosqlite connection that SQLAlchemy's aiosqlite dialect uses (``create_async_engine(...,
async_creator=...)``); PostgreSQL is unaffected. The cost: a statement blocks the loop while it
runs, and a write waiting for another process (the CLI) waits on the loop, bounded by busy_timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _Immediate:
    """Stands in for aiosqlite's request queue: the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(error)


class _NoThread:
    daemon = True


class _Done:
    """Something to await that is finished already."""

    def __await__(self) -> Any:
        return iter(())


_DONE = _Done()


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> _Done:
        # SQLAlchemy calls close() without awaiting it while the loop runs (a coroutine there would be
        # created, never awaited, and warned about: measurably slow); done at once, awaitable anyway.
        self._cursor.close()
        return _DONE

    async def __aenter__(self) -> InlineCursor:
        return self

    def __await__(self) -> Any:
        # aiosqlite's cursor() is both awaited and used with "async with"; so is this one.
        return self.__aenter__().__await__()

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection = connection
        self._tx = _Immediate()
        self._thread = _NoThread()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def creator(path: str) -> Callable[[], Any]:
    """The async_creator for create_async_engine: a connection to the SQLite file at path."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, check_same_thread=False, isolation_level=None))

    return connect
