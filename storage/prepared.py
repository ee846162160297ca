"""Hot statements that read or write plain values, kept for repeated use with different parameters.

Every conversation turn runs a handful of the same statements (the caller's read, the delivery marker,
the dialog's write, the lists' reads). Through ``Session.execute`` each of them pays for the ORM's
execution context, a cache key over the statement and a result object, several times what SQLite
takes to run it. A ``Prepared`` statement is run by the unit of work's ``storage.statements``
implementation: on the embedded SQLite file (``storage.loop_session``) it is compiled once and run
on the connection itself with SQLAlchemy's own type processing of the parameters and of the columns
(``construct_expanded_state``, the types' ``bind_processor`` and ``result_processor``); through an
``AsyncSession`` (PostgreSQL) it is executed as any statement is: the figures there are the
database's round trips, not Python's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

from storage.statements import Row, Statements

_REQUIRED = object()


def as_sqlalchemy_error(error: sqlite3.Error, statement: str, params: Any) -> DBAPIError:
    """A failure on the sqlite3 connection itself, raised as SQLAlchemy raises it for any other
    statement (IntegrityError, OperationalError, …), so callers see one kind of database error; without
    the parameters, as the engines do."""
    wrapped = DBAPIError.instance(statement, params, error, sqlite3.Error, hide_parameters=True)
    assert isinstance(wrapped, DBAPIError)  # as a sqlite3.Error always is (typed: a StatementError)
    return wrapped


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

    async def all(self, statements: Statements, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await statements.rows(self, params)

    async def first(self, statements: Statements, params: Mapping[str, Any] | None = None) -> Row | None:
        found = await statements.rows(self, params)
        return found[0] if found else None

    async def run(self, statements: Statements, params: Mapping[str, Any] | None = None) -> int:
        """An insert or update: the number of rows it changed."""
        return await statements.write(self, params)

    async def run_many(self, statements: Statements, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in one call to the driver (executemany)."""
        if rows:
            await statements.write_many(self, rows)

    def cursor(
        self, driver: sqlite3.Connection, dialect: Dialect, params: Mapping[str, Any] | None
    ) -> sqlite3.Cursor:
        """Run on a DB-API connection of a positional paramstyle (sqlite3): its cursor, to read or
        count from."""
        compiled = self._for(dialect)
        if compiled.plain is not None:
            return _execute(driver, compiled.compiled.string, _plain_args(compiled.plain, params or {}))
        state = compiled.compiled.construct_expanded_state(params)
        # An IN list's values are expanded into parameters of their own, processed as its parameter is.
        processors = {**compiled.binds, **state.processors} if state.processors else compiled.binds
        values = state.parameters
        assert state.positiontup is not None  # sqlite3's paramstyle is positional
        args = [
            processors[name](values[name]) if name in processors else values[name]
            for name in state.positiontup
        ]
        return _execute(driver, state.statement, args)

    def fetch(
        self, driver: sqlite3.Connection, dialect: Dialect, params: Mapping[str, Any] | None
    ) -> list[Row]:
        """Run on a DB-API connection, as ``cursor``: the rows, each column as its type reads it."""
        rows = self.cursor(driver, dialect, params).fetchall()
        processors = self._for(dialect).columns
        if any(processors):
            return [_processed(row, processors) for row in rows]
        return rows

    def execute_many(
        self, driver: sqlite3.Connection, dialect: Dialect, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        compiled = self._for(dialect)
        assert compiled.plain is not None, "executemany takes statements without IN lists"
        args = [_plain_args(compiled.plain, row) for row in rows]
        try:
            driver.executemany(compiled.compiled.string, args)
        except sqlite3.Error as error:
            raise as_sqlalchemy_error(error, compiled.compiled.string, args[:1]) from error

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return found


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    selected = getattr(statement, "selected_columns", ())
    columns = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected)
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
    return _Compiled(compiled, binds, plain, columns)


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


def _execute(driver: sqlite3.Connection, sql: str, args: list[Any]) -> sqlite3.Cursor:
    try:
        return driver.execute(sql, args)
    except sqlite3.Error as error:
        raise as_sqlalchemy_error(error, sql, args) from error


def _processed(row: Row, processors: Sequence[Callable[[Any], Any] | None]) -> Row:
    return tuple(value if p is None else p(value) for value, p in zip(row, processors, strict=True))
