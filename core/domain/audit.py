from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class AuditEntry:
    """1-6.5, 4-5.4: every change to a record that must be kept says who, when, what and why."""

    at: datetime
    actor_user_id: int | None
    action: str
    entity: str
    entity_id: int | None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
