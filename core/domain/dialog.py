from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class DialogState:
    """Where a user is in a multi-step flow. Kept in the database so a restart or another server
    instance continues the same conversation."""

    user_id: int
    updated_at: datetime
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # The choices last offered, in order: a channel without buttons (WeChat) numbers them, and a
    # reply of "2" means the second. Kept apart from data so that a flow's start() does not drop it.
    offered: list[str] = field(default_factory=list)

    def start(self, flow: str, step: str, **data: Any) -> None:
        self.flow, self.step, self.data = flow, step, dict(data)

    def go(self, step: str, **data: Any) -> None:
        self.step = step
        self.data = {**self.data, **data}

    def clear(self) -> None:
        self.flow, self.step, self.data = "", "", {}


@dataclass(eq=False)
class Notice:
    """An outbox row: a message due to a user at a time, written in the same transaction as the change
    that caused it. ``key`` is unique, so the same notice is never queued (or sent) twice."""

    key: str
    user_id: int
    message_key: str
    due_at: datetime
    created_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    choices: list[list[str]] = field(default_factory=list)  # [[label key, payload], …]
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    failed: bool = False  # gave up (unreachable user); kept for the record
    # Withdrawn before it went: what caused it no longer holds (the sign-up or the activity is
    # cancelled). Never sent; kept for the record, as nothing is deleted.
    withdrawn_at: datetime | None = None
    id: int | None = None

    @property
    def pending(self) -> bool:
        return self.sent_at is None and not self.failed and self.withdrawn_at is None

    def withdraw(self, now: datetime) -> None:
        if self.pending:
            self.withdrawn_at = now


@dataclass(eq=False)
class Feedback:
    """2-8.2, 5-5.4.1: opinions and complaints, collected, answered and closed."""

    user_id: int
    text: str
    created_at: datetime
    org_id: int | None = None
    reply: str | None = None
    replied_by: int | None = None
    replied_at: datetime | None = None
    kind: str = "opinion"  # or "complaint" (1-6.1.2 d)
    activity_id: int | None = None  # what a complaint is about, when it names it
    volunteer_id: int | None = None
    escalated_at: datetime | None = None
    escalated_org_id: int | None = None
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.replied_at is None
