"""PIPL art. 51: the key of the personal data encrypted at rest can be changed. With a new key put
first in STVS_DATA_KEY, `stvs db rekey` re-encrypts every phone and ID number; the old key can then
be removed and everything still reads."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Text, select, type_coerce

from storage.database import Database
from storage.tables import volunteers
from storage.types import cipher
from tests.builders import make_volunteer, resident_id
from tests.fakes.clock import FakeClock
from tests.integration.test_cli import Stvs, stvs

__all__ = ["stvs"]

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


async def _add_volunteers(url: str, count: int) -> None:
    db = Database(url)
    async with db.uow() as uow:
        for _ in range(count):
            await make_volunteer(uow, FakeClock(), id_number=resident_id("11010819900517123"))
        await uow.commit()
    await db.dispose()


async def _stored(url: str) -> list[tuple[str, str | None]]:
    """Phone and ID number as the database holds them (the tokens), and as they read."""
    db = Database(url)
    async with db.engine.connect() as connection:
        raw = (
            await connection.execute(
                select(type_coerce(volunteers.c.phone, Text), type_coerce(volunteers.c.id_number, Text))
            )
        ).all()
    await db.dispose()
    return [(row[0], row[1]) for row in raw]


async def _read(url: str) -> list[tuple[str, str | None]]:
    db = Database(url)
    async with db.engine.connect() as connection:
        rows = [(r.phone, r.id_number) for r in (await connection.execute(select(volunteers))).all()]
    await db.dispose()
    return rows


def test_rekey_moves_every_value_to_the_new_key(
    stvs: Stvs, blank_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STVS_DATA_KEY", OLD)
    assert stvs("db upgrade").code == 0
    cipher.configure(OLD)
    asyncio.run(_add_volunteers(blank_db_url, 3))
    before_tokens = asyncio.run(_stored(blank_db_url))
    before = asyncio.run(_read(blank_db_url))
    assert len(before) == 3 and all(id_number for _, id_number in before)

    monkeypatch.setenv("STVS_DATA_KEY", f"{NEW},{OLD}")
    run = stvs("db rekey")
    assert run.code == 0, run.err
    assert "volunteers" in run.out and "3" in run.out

    after_tokens = asyncio.run(_stored(blank_db_url))
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in zip(after_tokens, before_tokens, strict=True))
    cipher.configure(NEW)  # the old key is gone
    assert asyncio.run(_read(blank_db_url)) == before
    cipher.configure(OLD)
    with pytest.raises(RuntimeError, match="wrong STVS_DATA_KEY"):
        asyncio.run(_read(blank_db_url))
