"""Two deliveries of one person handled side by side (a platform may open several webhook
connections; two server instances share one database): the person's dialog row is created once, and
the turn that lost the race for it runs again instead of failing."""

from __future__ import annotations

import asyncio

from core.chat.conversation import Conversation
from core.chat.messages import Command, Incoming
from core.domain.codes import Channel
from core.services.users import ensure_user
from storage.database import Database
from tests.fakes.clock import FakeClock


async def test_two_first_turns_at_once_both_answered(
    db: Database, clock: FakeClock, conversation: Conversation
) -> None:
    for n in range(5):  # several rounds: the race is not won the same way each time
        external_id = f"race{n}"
        async with db.uow() as uow:  # known (an earlier channel event made the user), no dialog yet
            await ensure_user(uow, clock, Channel.TELEGRAM, external_id)
            await uow.commit()
        first, second = await asyncio.gather(
            conversation.handle(Incoming(Channel.TELEGRAM, external_id, Command("help"))),
            conversation.handle(Incoming(Channel.TELEGRAM, external_id, Command("menu"))),
        )
        assert first is not None and first.replies
        assert second is not None and second.replies
