"""Review of the prepared-statement storage change: behaviours that must hold on SQLite as on PostgreSQL."""

from __future__ import annotations

import pytest

from core.domain.codes import Channel
from core.services.users import ensure_user
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_volunteer
from tests.fakes.clock import FakeClock


async def test_probe_rollback_then_add(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        first = await ensure_user(uow, clock, Channel.TELEGRAM, "a")
        first_id = first.id
        await uow.rollback()
        print("after rollback id", first.id, "in session", first in uow.session)
        print("get:", await uow.users.get(first_id or 0))
        second = await ensure_user(uow, clock, Channel.TELEGRAM, "b")
        await uow.commit()
        print("second", second.id)


async def test_probe_access_after_rollback(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        first = await ensure_user(uow, clock, Channel.TELEGRAM, "a")
        await uow.rollback()
        print("language", first.language)


async def test_probe_mutable_on_adopted(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        volunteer, _ = await make_volunteer(uow, clock)
        volunteer.skills.append("新技能")
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.volunteers.get(volunteer.id or 0)
        assert again is not None
        print("skills", again.skills)
        assert "新技能" in again.skills
