"""Organizations, their bases (阵地) and projects."""

from __future__ import annotations

import builtins

from sqlalchemy import bindparam, or_, select

from core.domain.activity import Base, Project
from core.domain.organization import Organization, OrgStatus
from storage.prepared import Prepared
from storage.repositories.base import _Repository
from storage.tables import bases, organizations

_ORG_NAME = Prepared(select(organizations.c.name).where(organizations.c.id == bindparam("org_id")))


class OrganizationRepository(_Repository[Organization]):
    model = Organization

    async def name_of(self, org_id: int) -> str | None:
        row = await _ORG_NAME.first(self.session, {"org_id": org_id})
        return None if row is None else str(row[0])

    async def by_name(self, name: str) -> Organization | None:
        """The organization that holds this name: a rejected application holds none (1-5.4)."""
        c = organizations.c
        return await self._one(select(Organization).where(c.name == name, c.status != OrgStatus.REJECTED))

    async def children(self, parent_id: int) -> list[Organization]:
        c = organizations.c
        return await self._all(select(Organization).where(c.parent_id == parent_id).order_by(c.id))

    async def list(self, status: OrgStatus | None = None) -> list[Organization]:
        c = organizations.c
        statement = select(Organization).order_by(c.id)
        if status is not None:
            statement = statement.where(c.status == status)
        return await self._all(statement)

    # builtins.list from here on: in annotations below it, ``list`` is the method above.
    async def pending_children(
        self, parent_ids: builtins.list[int], *, top_level: bool = False, limit: int = 20
    ) -> builtins.list[Organization]:
        c = organizations.c
        under = c.parent_id.in_(parent_ids)
        statement = select(Organization).where(
            c.status == OrgStatus.APPLIED, or_(under, c.parent_id.is_(None)) if top_level else under
        )
        return await self._all(statement.order_by(c.id).limit(limit))

    async def descendant_ids(self, org_id: int) -> builtins.list[int]:
        """1-6.1: any depth, one recursive query on both databases."""
        o = organizations.c
        tree = select(o.id).where(o.parent_id == org_id).cte("tree", recursive=True)
        below = organizations.alias("below")
        tree = tree.union_all(select(below.c.id).where(below.c.parent_id == tree.c.id))
        return list((await self.session.scalars(select(tree.c.id).order_by(tree.c.id))).all())

    async def ancestor_ids(self, org_id: int) -> builtins.list[int]:
        o = organizations.c
        chain = select(o.parent_id.label("id")).where(o.id == org_id).cte("chain", recursive=True)
        above = organizations.alias("above")
        chain = chain.union_all(select(above.c.parent_id).where(above.c.id == chain.c.id))
        rows = (await self.session.scalars(select(chain.c.id))).all()
        return [r for r in rows if r is not None]


class BaseRepository(_Repository[Base]):
    model = Base

    async def list(self) -> list[Base]:
        return await self._all(select(Base).order_by(bases.c.id))


class ProjectRepository(_Repository[Project]):
    model = Project
