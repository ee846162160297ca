"""The outbox: notices due later, each queued once by its key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from core.domain.dialog import Notice
from core.ports import Unsent
from storage.repositories.base import _insert_once, _Repository
from storage.tables import notices

_NOTICE_COLUMNS = tuple(c.name for c in notices.c if c.name != "id")
_NOTICE_ONCE = _insert_once(notices, _NOTICE_COLUMNS, unique=[notices.c.key])


class NoticeRepository(_Repository[Notice]):
    model = Notice

    async def add_once(self, notice: Notice) -> bool:
        """False when a notice with this key exists already (the same event seen twice): one
        INSERT … ON CONFLICT DO NOTHING, which also settles two transactions racing with one key."""
        statement = _NOTICE_ONCE[self.session.dialect_name]
        values = {name: getattr(notice, name) for name in _NOTICE_COLUMNS}
        return bool(await statement.run(self.session, values))

    async def add_for_each(self, template: Notice, recipients: Sequence[tuple[str, int]]) -> None:
        statement = _NOTICE_ONCE[self.session.dialect_name]
        common = {name: getattr(template, name) for name in _NOTICE_COLUMNS}
        rows = [{**common, "key": key, "user_id": user_id} for key, user_id in recipients]
        for start in range(0, len(rows), 1000):  # bounded statements on any database
            await statement.run_many(self.session, rows[start : start + 1000])

    async def due(self, now: datetime, limit: int) -> list[Notice]:
        n = notices.c
        statement = (
            select(Notice)
            .where(n.sent_at.is_(None), n.failed.is_(False), n.withdrawn_at.is_(None), n.due_at <= now)
            .order_by(n.due_at, n.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._all(statement)

    async def pending_with_prefix(self, prefix: str) -> list[Notice]:
        n = notices.c
        statement = (
            select(Notice)
            .where(
                n.key.startswith(prefix, autoescape=True),
                n.sent_at.is_(None),
                n.failed.is_(False),
                n.withdrawn_at.is_(None),
            )
            .order_by(n.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._all(statement)

    async def pending(self, keys: Sequence[str]) -> list[Notice]:
        n = notices.c
        found: list[Notice] = []
        for start in range(0, len(keys), 1000):  # a bounded IN list on any database
            statement = (
                select(Notice)
                .where(
                    n.key.in_(keys[start : start + 1000]),
                    n.sent_at.is_(None),
                    n.failed.is_(False),
                    n.withdrawn_at.is_(None),
                )
                .order_by(n.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            found += await self._all(statement)
        return found

    async def for_user(self, user_id: int) -> list[Notice]:
        return await self._all(select(Notice).where(notices.c.user_id == user_id).order_by(notices.c.id))

    async def queued(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 1000):  # a bounded IN list on any database
            statement = select(notices.c.key).where(notices.c.key.in_(keys[start : start + 1000]))
            found.update((await self.session.scalars(statement)).all())
        return found

    async def get_many(self, ids: Sequence[int]) -> list[Notice]:
        found: list[Notice] = []
        for start in range(0, len(ids), 1000):  # a bounded IN list on any database
            found += await self._all(select(Notice).where(notices.c.id.in_(ids[start : start + 1000])))
        return found

    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        n = notices.c
        for start in range(0, len(ids), 1000):  # a bounded IN list on any database
            await self.session.execute(
                update(notices)
                .where(n.id.in_(ids[start : start + 1000]), n.sent_at.is_(None))
                .values(sent_at=at, last_error=None)
            )

    async def unsent_with_prefix(self, prefix: str) -> Unsent:
        n = notices.c
        # sent_at IS NULL leads the index on (sent_at, failed, due_at): the sent history is not read.
        statement = (
            select(n.failed, n.withdrawn_at.is_not(None), func.count())
            .where(n.sent_at.is_(None), n.key.startswith(prefix, autoescape=True))
            .group_by(n.failed, n.withdrawn_at.is_not(None))
        )
        counts = {
            (bool(failed), bool(withdrawn)): count
            for failed, withdrawn, count in await self.session.execute(statement)
        }
        return Unsent(
            pending=counts.get((False, False), 0),
            failed=counts.get((True, False), 0) + counts.get((True, True), 0),
            withdrawn=counts.get((False, True), 0),
        )
