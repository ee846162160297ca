"""One turn of a conversation: who is talking, their state, and the replies being built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from core.chat.messages import AskContact, AskLocation, Choice, Reply, Say
from core.domain.actions import Action, Register
from core.domain.activity import ActivityStatus, Distance
from core.domain.codes import Channel
from core.domain.dialog import DialogState
from core.domain.organization import OrgStatus
from core.domain.people import Actor
from core.domain.signup import SignupStatus
from core.errors import DomainError
from core.policy import Policy
from core.ports import Charts, Clock, Documents, Links, UnitOfWork

# Channels that show choices as numbered options rather than buttons.
NUMBERED_CHANNELS = frozenset({Channel.WECHAT, Channel.CONSOLE})
NUMBERED_VARIANT = ".numbered"

LABEL_LIMIT = 60  # characters on a button; Telegram cuts longer ones on a phone's screen anyway

# Error parameters that are codes, shown by their label in the user's language: by name, or, for
# statuses (one parameter name, several kinds), by type.
_CODE_PARAMS = {"qualifications": "qualification", "item": "service_content"}
_CODE_TYPES: tuple[tuple[type, str], ...] = (
    (SignupStatus, "signup_status"),
    (ActivityStatus, "activity_status"),
    (OrgStatus, "org_status"),
)


class Translate(Protocol):
    def __call__(self, key: str, **params: Any) -> str: ...


Translators = Callable[[str], Translate]


class _Numbered:
    """Texts for a channel without buttons: a key with a ``.numbered`` variant in the catalog ("reply
    with the number") is said in its place ("tap the button"); the others are said as they are."""

    def __init__(self, base: Translate) -> None:
        self.base = base

    def __call__(self, key: str, **params: Any) -> str:
        variant = key + NUMBERED_VARIANT
        text = self.base(variant, **params)
        return self.base(key, **params) if text == variant else text


@dataclass
class Turn:
    uow: UnitOfWork
    clock: Clock
    policy: Policy
    channel: Channel
    user_id: int
    user_language: str  # the user's language as read at the start of the turn
    actor: Actor
    state: DialogState
    translators: Translators
    links: Links | None = None
    documents: Documents | None = None
    replies: list[Reply] = field(default_factory=list)
    charts: Charts | None = None  # pictures of statistics (3-8.2); None where no plotting is set up

    def __post_init__(self) -> None:
        self.use_language(self.user_language)

    def use_language(self, language: str) -> None:
        self.language = language
        base = self.translators(language)
        self.t: Translate = _Numbered(base) if self.channel in NUMBERED_CHANNELS else base

    def say(
        self, key: str, *choices: Choice, columns: int = 1, clear_keyboard: bool = False, **params: Any
    ) -> None:
        self.replies.append(Say(self.t(key, **params), tuple(choices), columns, clear_keyboard))

    def say_text(self, text: str, *choices: Choice, columns: int = 1, clear_keyboard: bool = False) -> None:
        self.replies.append(Say(text, tuple(choices), columns, clear_keyboard))

    def choice(self, key: str, payload: str | Action, **params: Any) -> Choice:
        """A button: an action, or a payload already packed (a form step's own answer, ``f.…``)."""
        return Choice(self.t(key, **params), payload if isinstance(payload, str) else payload.pack())

    def ask_location(self, key: str, **params: Any) -> None:
        self.replies.append(AskLocation(self.t(key, **params), self.t("chat.button.send_location")))

    def ask_contact(self, key: str, **params: Any) -> None:
        self.replies.append(AskContact(self.t(key, **params), self.t("chat.button.share_phone")))

    def registered(self) -> int | None:
        """The caller's volunteer id; None once an unregistered caller has been told how to register."""
        if self.actor.volunteer_id is None:
            self.say("volunteer.not_registered", self.choice("chat.menu.register", Register()))
        return self.actor.volunteer_id

    def refuse(self, error: DomainError, *choices: Choice) -> None:
        """Every refusal says why (and the catalog text says how to fix it)."""
        params = {k: self.label_param(v, _CODE_PARAMS.get(k)) for k, v in error.params.items()}
        self.say(error.key, *choices, **params)

    def label_param(self, value: Any, table: str | None = None) -> Any:
        if isinstance(value, Distance):
            if value.metres >= 1000:
                return self.t("unit.km", value=f"{value.metres / 1000:.1f}")
            return self.t("unit.m", value=value.metres)
        if isinstance(value, list | tuple):
            return self.join(str(self.label_param(v, table)) for v in value)
        if table is None:
            table = next((name for kind, name in _CODE_TYPES if isinstance(value, kind)), None)
        return self.t(f"code.{table}.{value}") if table else value

    def still_asked(self, *offered: str) -> bool:
        """Whether a typed text answers the question of the current step: only while what that question
        offered is the last thing shown. After a menu click or a button of another part of the bot,
        which leave the step as it was, a text is no answer (it could cancel an activity, or reject
        someone, on a guess): the step ends and the user is told so."""
        if self.state.offered == list(offered):
            return True
        self.state.clear()
        self.say("chat.question_expired")
        return False

    def label(self, key: str, fit: str, *, tail: str = "", **params: Any) -> str:
        """A button's text within LABEL_LIMIT characters: the ``fit`` parameter (a title, a name) is
        shortened with an ellipsis, so what follows it (places left, status, distance) stays."""
        text = self.t(key, **params) + tail
        excess = len(text) - LABEL_LIMIT
        if excess > 0:
            value = str(params[fit])
            params[fit] = value[: max(1, len(value) - excess - 1)] + "…"
            text = self.t(key, **params) + tail
        return text[:LABEL_LIMIT]

    def join(self, items: Iterable[str]) -> str:
        """A list as the language writes it (、 in Chinese, commas in English)."""
        return self.t("chat.list_separator").join(items)

    def local_time(self, moment: datetime, zone: str | None = None) -> str:
        local = moment.astimezone(ZoneInfo(zone or self.policy.default_timezone))
        return local.strftime("%Y-%m-%d %H:%M")
