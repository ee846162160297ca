"""The repositories' common ground: a repository of one mapped entity over ``Statements``, and
the statements more than one aggregate writes the same way (upserts, inserts once, bounded IN lists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.prepared import Prepared
from storage.statements import Statements

T = TypeVar("T")
_COPIES: dict[tuple[str, bool], Prepared] = {}  # _Repository.read's statements, by table and lock


def _insert_once(
    table: Any, columns: Sequence[str], unique: Sequence[Any] | None = None
) -> dict[str, Prepared]:
    """INSERT … ON CONFLICT DO NOTHING, by dialect (each has its own clause): a row whose unique key
    is there already is skipped, and a concurrent twin waits for it and is skipped too."""
    return {
        name: Prepared(
            insert(table)
            .values({column: bindparam(column) for column in columns})
            .on_conflict_do_nothing(index_elements=unique)
        )
        for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
    }


class _Repository(Generic[T]):
    model: type[T]

    def __init__(self, session: Statements) -> None:
        self.session = session

    async def add(self, item: T) -> T:
        """Written at once, with its id set; later changes to it are tracked and written."""
        self.session.add(item)
        await self.session.flush()
        return item

    async def get(self, item_id: int) -> T | None:
        return await self.session.get(self.model, item_id)

    async def read(self, item_id: int, *, lock: bool = False) -> T | None:
        """A copy to show or to decide on, read as plain values: not part of the unit of work, so
        changing it changes nothing; about a third of the cost of ``get``. ``lock`` locks the row
        for the transaction as ``get_for_update`` does."""
        table = inspect(self.model).local_table
        key = (table.name, lock)
        prepared = _COPIES.get(key)
        if prepared is None:
            statement = select(table).where(table.c.id == bindparam("item_id"))
            prepared = _COPIES[key] = Prepared(statement.with_for_update() if lock else statement)
        row = await prepared.first(self.session, {"item_id": item_id})
        if row is None:
            return None
        # Made as the ORM's loader makes an instance, without running the mapped class's __init__,
        # whose every attribute set fires the session's events: a transient copy, never added.
        copy = inspect(self.model).class_manager.new_instance()
        copy.__dict__.update(zip(table.c.keys(), row, strict=True))
        return copy

    async def get_for_update(self, item_id: int) -> T | None:
        """Read afresh and locked for this transaction."""
        return await self.session.get_for_update(self.model, item_id)

    async def _all(self, statement: Any) -> list[T]:
        return list((await self.session.scalars(statement)).all())

    async def _one(self, statement: Any) -> T | None:
        return (await self.session.scalars(statement.limit(1))).first()


def _upsert(session: Statements, table: Any, keys: list[str], **values: Any) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the dialect of the session's database."""
    dialect = session.dialect_name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    changed = {name: getattr(statement.excluded, name) for name in values if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


def _chunks(ids: Sequence[int], size: int = 1000) -> list[list[int]]:
    """Ids in lists short enough for one IN (…) each."""
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]
