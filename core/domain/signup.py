from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SignupStatus(StrEnum):
    APPLIED = "applied"  # waiting for the organizer where the activity asks for approval
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ATTENDED = "attended"
    ABSENT = "absent"
    CANCELLED = "cancelled"


# Statuses that hold one of the activity's places.
HOLDS_PLACE = frozenset({SignupStatus.CONFIRMED, SignupStatus.ATTENDED, SignupStatus.ABSENT})
LIVE = frozenset({SignupStatus.APPLIED, SignupStatus.CONFIRMED, SignupStatus.WAITLISTED})


@dataclass(eq=False)
class Signup:
    activity_id: int
    volunteer_id: int
    status: SignupStatus
    created_at: datetime
    insurance_confirmed: bool = False
    # Waitlist order: the position is taken when waitlisted and never changes (stable order).
    waitlisted_at: datetime | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    # 3-6.1.3.2: the volunteer's answer to the briefing (确认参加); 无法参加 cancels the sign-up instead.
    presence_confirmed_at: datetime | None = None
    # 3-6.1.3.3: promoted from the waitlist close to the start, the place is held until then for an answer.
    answer_due_at: datetime | None = None
    id: int | None = None
