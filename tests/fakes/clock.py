from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Tests move time instead of sleeping."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now
