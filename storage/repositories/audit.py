"""The audit log (1-6.5, 4-5.4): only ever appended to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.domain.audit import AuditEntry
from storage.repositories.base import _Repository
from storage.tables import audit_log


class AuditRepository(_Repository[AuditEntry]):
    model = AuditEntry

    async def add(self, item: AuditEntry) -> AuditEntry:
        """Written with the transaction, its id left to the database: nothing reads an entry in the
        turn that writes it, and the log is only ever appended to."""
        await self.session.append(item)
        return item

    async def for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]:
        t = audit_log.c
        return await self._all(
            select(AuditEntry).where(t.entity == entity, t.entity_id == entity_id).order_by(t.id)
        )

    async def count_since(self, entity: str, entity_id: int, action: str, since: datetime) -> int:
        t = audit_log.c
        statement = (
            select(func.count())
            .select_from(audit_log)
            .where(t.entity == entity, t.entity_id == entity_id, t.action == action, t.at >= since)
        )
        return int(await self.session.scalar(statement) or 0)
