"""Column types that keep the domain's values honest on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stored in UTC; always read back as an aware datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the core works in aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Cipher:
    """Keys for personal data at rest. The first key encrypts; all keys decrypt (rotation)."""

    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None

    def configure(self, *keys: str) -> None:
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise RuntimeError("storage.types.cipher.configure(key) was not called")
        return self._fernet


cipher = _Cipher()


class Encrypted(TypeDecorator[str]):
    """Phone and ID numbers (REQUIREMENTS: encrypted at rest); Fernet = AES-128-CBC + HMAC-SHA256."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return cipher.fernet.encrypt(value.encode()).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return cipher.fernet.decrypt(value.encode("ascii")).decode()
        except InvalidToken:
            raise RuntimeError("personal data cannot be decrypted: wrong STVS_DATA_KEY") from None


class Fixed(TypeDecorator[Decimal]):
    """A decimal with a fixed number of places, stored as a whole number of its smallest unit (hours in
    tenths, coefficients in hundredths): exact and the same on both databases (SQLite has no DECIMAL)."""

    impl = Integer
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.unit = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) * self.unit).quantize(self.unit)


# Two distinct type objects: as_mutable() ties its listener to the instance it is given.
JsonList: Any = MutableList.as_mutable(JSON().with_variant(JSONB(), "postgresql"))
JsonDict: Any = MutableDict.as_mutable(JSON().with_variant(JSONB(), "postgresql"))


class EnumStr(TypeDecorator[Any]):
    """A StrEnum stored as its value in a plain string column: new codes need no migration."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value)
