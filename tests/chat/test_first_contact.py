"""Two messages of a new user handled at once (a quick double tap, or a retry beside the next update):
both turns go through, one user is made, nothing is lost (PostgreSQL runs them side by side)."""

from __future__ import annotations

import asyncio

from core.chat.conversation import Conversation
from core.chat.messages import Command, Incoming, Text
from core.domain.codes import Channel
from storage.database import Database


async def test_two_first_messages_at_once_make_one_user_and_both_are_answered(
    conversation: Conversation, db: Database
) -> None:
    for round_ in range(5):  # a race: several tries, each with a new person
        person = f"77000{round_}"
        first, second = await asyncio.gather(
            conversation.handle(
                Incoming(Channel.TELEGRAM, person, Command("start")), delivery_key=f"{person}-1"
            ),
            conversation.handle(Incoming(Channel.TELEGRAM, person, Text("你好")), delivery_key=f"{person}-2"),
        )
        assert first is not None and first.replies
        assert second is not None and second.replies
        async with db.uow() as uow:
            user = await uow.users.by_identity(Channel.TELEGRAM, person)
            assert user is not None and user.id is not None
            assert len(await uow.identities.for_user(user.id)) == 1
            # Both deliveries are on record: neither would be handled again.
            assert not await uow.deliveries.first_time(Channel.TELEGRAM, f"{person}-1", user.created_at)
            assert not await uow.deliveries.first_time(Channel.TELEGRAM, f"{person}-2", user.created_at)
