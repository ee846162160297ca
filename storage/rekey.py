"""Key rotation for the personal data encrypted at rest (phone and ID numbers). STVS_DATA_KEY takes
several keys, newest first: every key decrypts, the first encrypts. After a new key is put first,
``rekey`` re-encrypts every stored value with it, so that the old key can then be removed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, Text, select, type_coerce

from storage.database import Database
from storage.tables import metadata
from storage.types import Encrypted, cipher

BATCH = 500


@dataclass(frozen=True)
class Rekeyed:
    table: str
    rows: int
    values: int


def encrypted_tables() -> list[tuple[Table, list[str]]]:
    """Each table with Encrypted columns, and those columns' names."""
    found = []
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, Encrypted)]
        if names:
            found.append((table, names))
    return found


async def rekey(database: Database) -> list[Rekeyed]:
    """Re-encrypts in batches of BATCH rows, each in its own transaction: a run that stops half way
    leaves every value readable (old or new key), and running it again finishes the work."""
    done = []
    for table, names in encrypted_tables():
        key = table.c.id
        raw = [type_coerce(table.c[name], Text).label(name) for name in names]  # the stored token
        last, rows, values = 0, 0, 0
        while True:
            async with database.engine.begin() as connection:
                batch = (
                    await connection.execute(select(key, *raw).where(key > last).order_by(key).limit(BATCH))
                ).all()
                for row in batch:
                    tokens = {name: getattr(row, name) for name in names if getattr(row, name) is not None}
                    fresh = {
                        name: type_coerce(cipher.fernet.rotate(token.encode("ascii")).decode("ascii"), Text)
                        for name, token in tokens.items()
                    }
                    if fresh:
                        await connection.execute(table.update().where(key == row.id).values(**fresh))
                        values += len(fresh)
                    rows += 1
            if len(batch) < BATCH:
                break
            last = batch[-1].id
        done.append(Rekeyed(table.name, rows, values))
    return done
