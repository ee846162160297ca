"""The demo's clock: real time (or a test's fake clock) moved forward by jumps, so that a briefing,
the reminders and the surveys can be seen arriving within a minute. Only ``stvs demo`` builds one."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.ports import Clock


class DemoClock:
    """core.ports.Clock: ``base`` plus the jumps made so far. Time never goes back."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = timedelta()

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def jump_to(self, moment: datetime) -> bool:
        """False (and no change) when ``moment`` is not ahead of now."""
        ahead = moment - self.now()
        if ahead <= timedelta():
            return False
        self.offset += ahead
        return True
