"""One-time codes that link a second chat channel (WeChat, Telegram) to a volunteer's user."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
WRONG_TRIES_PER_HOUR = 5
_CODE = re.compile(rf"^\d{{{CODE_DIGITS}}}$")


def is_code(text: str) -> bool:
    return bool(_CODE.match(text))


def hash_code(code: str) -> str:
    """Only the hash is stored: a leaked table gives no code that can be typed in."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(eq=False)
class LinkCode:
    code_hash: str
    user_id: int  # the user whose profile the code links to
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_identity: int | None = None  # the ChannelIdentity moved onto user_id
    id: int | None = None

    def live(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
