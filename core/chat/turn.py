"""One turn of a conversation: who is talking, their state, and the replies being built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from core.chat.messages import AskContact, AskLocation, Choice, Reply, Say
from core.domain.codes import Channel
from core.domain.dialog import DialogState
from core.domain.people import Actor, User
from core.errors import DomainError
from core.policy import Policy
from core.ports import Clock, Links, UnitOfWork

# Error parameters that are codes, shown by their label in the user's language.
_CODE_PARAMS = {"qualifications": "qualification", "item": "service_content"}


class Translate(Protocol):
    def __call__(self, key: str, **params: Any) -> str: ...


Translators = Callable[[str], Translate]


@dataclass
class Turn:
    uow: UnitOfWork
    clock: Clock
    policy: Policy
    channel: Channel
    user: User
    actor: Actor
    state: DialogState
    translators: Translators
    links: Links | None = None
    replies: list[Reply] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.language = self.user.language  # kept apart: the user row may be rolled back mid-turn
        self.t: Translate = self.translators(self.language)

    def use_language(self, language: str) -> None:
        self.language = language
        self.t = self.translators(language)

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    def say(
        self, key: str, *choices: Choice, columns: int = 1, clear_keyboard: bool = False, **params: Any
    ) -> None:
        self.replies.append(Say(self.t(key, **params), tuple(choices), columns, clear_keyboard))

    def say_text(self, text: str, *choices: Choice, columns: int = 1, clear_keyboard: bool = False) -> None:
        self.replies.append(Say(text, tuple(choices), columns, clear_keyboard))

    def choice(self, key: str, payload: str, **params: Any) -> Choice:
        return Choice(self.t(key, **params), payload)

    def ask_location(self, key: str, **params: Any) -> None:
        self.replies.append(AskLocation(self.t(key, **params), self.t("chat.button.send_location")))

    def ask_contact(self, key: str, **params: Any) -> None:
        self.replies.append(AskContact(self.t(key, **params), self.t("chat.button.share_phone")))

    def refuse(self, error: DomainError, *choices: Choice) -> None:
        """Every refusal says why (and the catalog text says how to fix it)."""
        params = {k: self.label_param(v, _CODE_PARAMS.get(k)) for k, v in error.params.items()}
        self.say(error.key, *choices, **params)

    def label_param(self, value: Any, table: str | None = None) -> Any:
        if isinstance(value, list | tuple):
            return self.join(str(self.label_param(v, table)) for v in value)
        return self.t(f"code.{table}.{value}") if table else value

    def join(self, items: Iterable[str]) -> str:
        """A list as the language writes it (、 in Chinese, commas in English)."""
        return self.t("chat.list_separator").join(items)

    def local_time(self, moment: datetime, zone: str | None = None) -> str:
        local = moment.astimezone(ZoneInfo(zone or self.policy.default_timezone))
        return local.strftime("%Y-%m-%d %H:%M")
