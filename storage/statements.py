"""What a repository may ask of the unit of work's session, the same on both databases.

The repositories are typed against ``Statements`` and never ask which database is behind it, so a
call that one implementation lacks is a type error, not a failure on one database only. Two
implementations: ``SessionStatements`` over SQLAlchemy's ``AsyncSession`` (PostgreSQL, and SQLite in
memory), and ``storage.loop_session.LoopSession`` on the embedded SQLite file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, TypeVarTuple, cast, overload

from sqlalchemy.engine import CursorResult, Result, ScalarResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

if TYPE_CHECKING:
    from storage.prepared import Prepared

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
Row = tuple[Any, ...]
AnyRows = Result[*tuple[Any, ...]]
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class Statements(Protocol):
    """The session calls a repository may make."""

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``: for the statements whose SQL differs (upserts)."""
        ...

    # As AsyncSession's: a typed select's rows are typed.
    @overload
    async def execute(self, statement: TypedReturnsRows[*Ts], params: Params = None) -> Result[*Ts]: ...
    @overload
    async def execute(self, statement: Executable, params: Params = None) -> AnyRows: ...

    @overload
    async def scalars(self, statement: TypedReturnsRows[T], params: Params = None) -> ScalarResult[T]: ...
    @overload
    async def scalars(self, statement: Executable, params: Params = None) -> ScalarResult[Any]: ...

    async def scalar(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Any: ...

    async def get(self, entity: type[T], ident: Any) -> T | None: ...

    async def get_for_update(self, entity: type[T], ident: Any) -> T | None:
        """Read afresh and locked for this transaction."""
        ...

    def add(self, instance: object) -> None: ...

    async def flush(self) -> None: ...

    async def append(self, instance: object) -> None:
        """A row of an append-only table (the audit log), written with this transaction; the item
        stays out of the session and its id may stay unset: nothing reads it back in the same turn."""
        ...

    async def rows(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A prepared statement's rows, as plain tuples; the turn's pending changes are seen."""
        ...

    async def write(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        """A prepared insert or update: the number of rows it changed."""
        ...

    async def write_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None: ...


class Transaction(Statements, Protocol):
    """What the unit of work adds: the end of the transaction."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


class SessionStatements:
    """``Statements`` over SQLAlchemy's ``AsyncSession``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def dialect_name(self) -> str:
        return self._session.get_bind().dialect.name

    async def execute(self, statement: Executable, params: Params = None) -> AnyRows:
        return await self._session.execute(statement, params)

    async def scalars(self, statement: Executable, params: Params = None) -> ScalarResult[Any]:
        return await self._session.scalars(statement, params)

    async def scalar(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Any:
        return await self._session.scalar(statement, params)

    async def get(self, entity: type[T], ident: Any) -> T | None:
        return await self._session.get(entity, ident)

    async def get_for_update(self, entity: type[T], ident: Any) -> T | None:
        """A row lock; a copy already in the session may be older, so it is read again."""
        return await self._session.get(entity, ident, with_for_update=True, populate_existing=True)

    def add(self, instance: object) -> None:
        self._session.add(instance)

    async def flush(self) -> None:
        await self._session.flush()

    async def append(self, instance: object) -> None:
        self._session.add(instance)  # written with the next flush, with the rest of the turn's rows

    async def rows(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]:
        return [tuple(row) for row in await self._session.execute(prepared.statement, params)]

    async def write(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        result = cast(CursorResult[Any], await self._session.execute(prepared.statement, params))
        return int(result.rowcount)

    async def write_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._session.execute(prepared.statement, list(rows))

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()

    async def close(self) -> None:
        await self._session.close()
