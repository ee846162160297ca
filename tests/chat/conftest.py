from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from core.chat.conversation import Conversation
from core.chat.messages import Button, Command, Contact, Incoming, Input, Location, Say, Text
from core.chat.routes import build_routes
from core.domain.codes import Channel
from core.policy import Policy
from locales import translator
from storage.database import Database
from tests.fakes.clock import FakeClock


@dataclass
class ChatUser:
    """A person typing into the conversation; keeps the last replies to press their buttons."""

    conversation: Conversation
    external_id: str
    language_hint: str = "zh_CN"
    last: tuple = ()
    channel: Channel = Channel.TELEGRAM

    async def send(self, given: Input) -> tuple:
        out = await self.conversation.handle(
            Incoming(self.channel, self.external_id, given, language_hint=self.language_hint)
        )
        assert out is not None
        for reply in out.replies:
            # A parameter left unfilled means a catalog text and its caller disagree.
            text = getattr(reply, "text", "") + " ".join(c.label for c in getattr(reply, "choices", ()))
            assert not re.search(r"\{[a-z_]+\}", text), text
        self.last = out.replies
        return out.replies

    async def text(self, text: str) -> tuple:
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return await self.send(Command(name, args))
        return await self.send(Text(text))

    async def press(self, label_part: str) -> tuple:
        """Presses the button whose label contains label_part, in the latest replies."""
        for reply in self.last:
            for choice in getattr(reply, "choices", ()):
                if label_part in choice.label:
                    return await self.send(Button(choice.payload))
        raise AssertionError(f"no button {label_part!r} in {self.texts()} / {self.buttons()}")

    async def send_payload(self, payload: str) -> tuple:
        """A button pressed from an older message (its payload, as the platform sends it back)."""
        return await self.send(Button(payload))

    async def location(self, lat: float, lon: float) -> tuple:
        return await self.send(Location(lat, lon))

    async def contact(self, phone: str, own: bool = True) -> tuple:
        return await self.send(Contact(phone, own))

    def texts(self) -> str:
        return "\n".join(getattr(r, "text", "") for r in self.last)

    def buttons(self) -> list[str]:
        return [c.label for r in self.last if isinstance(r, Say) for c in r.choices]


@pytest.fixture
def conversation(db: Database, clock: FakeClock) -> Conversation:
    return Conversation(db.uow, clock, Policy(), translator, build_routes())


@pytest.fixture
def chat_user(conversation: Conversation):
    def make(
        external_id: str = "5001", language: str = "zh_CN", channel: Channel = Channel.TELEGRAM
    ) -> ChatUser:
        return ChatUser(conversation, external_id, language, channel=channel)

    return make
