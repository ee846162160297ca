"""Hot statements that read or write plain values, run without the ORM's per-statement machinery.

Every conversation turn runs a handful of the same statements (the caller's read, the delivery marker,
the dialog's write, the lists' reads). Through ``Session.execute`` each of them pays for the ORM's
execution context, a cache key over the statement and a result object, several times what SQLite
takes to run it. A ``Prepared`` statement is compiled once per dialect; on the embedded SQLite file
it then runs on the unit of work's own connection, inside its transaction, with SQLAlchemy's own
type processing of the parameters and of the columns (``construct_expanded_state``, the types'
``bind_processor`` and ``result_processor``). On PostgreSQL it goes through the session as any
statement does: the figures there are the database's round trips, not Python's.

The session's pending changes are flushed first, as autoflush would before a query, so a prepared
read sees what the turn has written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from storage.loop_session import LoopSession, as_sqlalchemy_error

Row = tuple[Any, ...]
_REQUIRED = object()


@dataclass(frozen=True)
class _Compiled:
    compiled: SQLCompiler
    binds: dict[str, Callable[[Any], Any]]  # a bind processor per parameter that has one
    # Without IN lists to expand: each positional parameter's name, value if not given, processor.
    plain: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] | None
    columns: tuple[Callable[[Any], Any] | None, ...]  # a result processor per selected column


class Prepared:
    """A Core statement (select, insert, update) kept for repeated use with different parameters."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            selected = getattr(self.statement, "selected_columns", ())
            columns = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
            )
            binds: dict[str, Callable[[Any], Any]] = {
                name: processor
                for name, bind in compiled.binds.items()
                if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            plain = None
            if not compiled.post_compile_params and not compiled.literal_execute_params:
                assert compiled.positiontup is not None  # SQLite's paramstyle is positional
                plain = tuple(
                    (name, _REQUIRED if bind.required else bind.effective_value, binds.get(name))
                    for name in compiled.positiontup
                    if (bind := compiled.binds[name]) is not None
                )
            found = self._compiled[dialect.name] = _Compiled(compiled, binds, plain, columns)
        return found

    async def all(self, session: Any, params: Mapping[str, Any] | None = None) -> list[Row]:
        if isinstance(session, LoopSession):
            cursor, processors = _run(session, self, params)
            rows = cursor.fetchall()
            if any(processors):
                return [_processed(row, processors) for row in rows]
            return rows
        return [tuple(row) for row in await session.execute(self.statement, params)]

    async def first(self, session: Any, params: Mapping[str, Any] | None = None) -> Row | None:
        if isinstance(session, LoopSession):
            cursor, processors = _run(session, self, params)
            row = cursor.fetchone()
            cursor.close()
            return None if row is None else _processed(row, processors)
        row = (await session.execute(self.statement, params)).first()
        return None if row is None else tuple(row)

    async def run(self, session: Any, params: Mapping[str, Any] | None = None) -> int:
        """An insert or update: the number of rows it changed."""
        if isinstance(session, LoopSession):
            cursor, _ = _run(session, self, params)
            count = int(cursor.rowcount)
            cursor.close()
            return count
        return int((await session.execute(self.statement, params)).rowcount)

    async def run_many(self, session: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in one call to the driver (executemany)."""
        if not rows:
            return
        if not isinstance(session, LoopSession):
            await session.execute(self.statement, list(rows))
            return
        _flush_pending(session)
        driver = session.driver()
        compiled = self._for(session.dialect)
        assert compiled.plain is not None, "executemany takes statements without IN lists"
        args = [_plain_args(compiled.plain, row) for row in rows]
        try:
            driver.executemany(compiled.compiled.string, args)
        except sqlite3.Error as error:
            raise as_sqlalchemy_error(error, compiled.compiled.string, args[:1]) from error

    async def insert(self, session: LoopSession, params: Mapping[str, Any]) -> int:
        """An INSERT on SQLite: the new row's id."""
        cursor, _ = _run(session, self, params)
        row_id = cursor.lastrowid
        cursor.close()
        assert row_id is not None
        return row_id


def _flush_pending(session: LoopSession) -> None:
    """As autoflush before a query: what the turn changed through the ORM is written first."""
    orm = session.orm_session
    if orm is not None and orm.autoflush and (orm.new or orm.deleted or orm.identity_map.check_modified()):
        orm.flush()


def _plain_args(
    plain: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...], given: Mapping[str, Any]
) -> list[Any]:
    args = []
    for name, default, processor in plain:
        value = given.get(name, default)
        if value is _REQUIRED:
            raise KeyError(f"a value is required for the parameter {name!r}")
        args.append(value if processor is None else processor(value))
    return args


def _run(
    session: LoopSession, prepared: Prepared, params: Mapping[str, Any] | None
) -> tuple[Any, Sequence[Callable[[Any], Any] | None]]:
    _flush_pending(session)
    driver = session.driver()
    compiled = prepared._for(session.dialect)
    if compiled.plain is not None:
        return _execute(
            driver, compiled.compiled.string, _plain_args(compiled.plain, params or {})
        ), compiled.columns
    state = compiled.compiled.construct_expanded_state(params)
    # An IN list's values are expanded into parameters of their own, processed as its parameter is.
    processors = {**compiled.binds, **state.processors} if state.processors else compiled.binds
    values = state.parameters
    assert state.positiontup is not None  # sqlite3's paramstyle is positional
    args = [
        processors[name](values[name]) if name in processors else values[name] for name in state.positiontup
    ]
    return _execute(driver, state.statement, args), compiled.columns


def _execute(driver: sqlite3.Connection, sql: str, args: list[Any]) -> sqlite3.Cursor:
    try:
        return driver.execute(sql, args)
    except sqlite3.Error as error:
        raise as_sqlalchemy_error(error, sql, args) from error


def _processed(row: Row, processors: Sequence[Callable[[Any], Any] | None]) -> Row:
    return tuple(value if p is None else p(value) for value, p in zip(row, processors, strict=True))
