"""Channel-neutral inputs and replies. Adapters turn platform events into an ``Incoming`` and render
each ``Reply``: Telegram as inline keyboards and reply-keyboard buttons, WeChat as numbered options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.domain.actions import PAYLOAD_MAX_BYTES
from core.domain.codes import Channel

# ---- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Command:
    """/name args. A deep link (t.me/bot?start=X, a WeChat scene QR) arrives as Command("start", "X")."""

    name: str
    args: str = ""


def typed(text: str) -> Command | Text:
    """What a person typed: ``/name args`` is a command, read case-blind (``/name@bot`` too, as
    Telegram sends it in a group); anything else is text."""
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        name = head.split("@", 1)[0]
        if name:
            return Command(name.lower(), args.strip())
    return Text(text)


@dataclass(frozen=True)
class Location:
    """Already WGS-84 (the WeChat adapter converts GCJ-02 first)."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None
    live: bool = False
    forwarded: bool = False
    update: bool = False  # a later point of a live location (Telegram sends each as an edit)


@dataclass(frozen=True)
class Contact:
    phone: str
    own: bool  # the contact shared is the sender's own


@dataclass(frozen=True)
class Button:
    """A choice the user picked: the payload of a Choice we sent."""

    payload: str


@dataclass(frozen=True)
class Photo:
    """An image the user sent, fetched by the adapter before the turn. ``data`` is empty when it could
    not be had: ``too_large`` when it was over PHOTO_MAX_BYTES, else the download failed."""

    data: bytes = field(repr=False)
    mime: str
    too_large: bool = False


@dataclass(frozen=True)
class Unreadable:
    """Something a user sent that the bot cannot read: a sticker, voice, video, file, poll."""

    kind: str


Input = Text | Command | Button | Location | Contact | Photo | Unreadable

# An id as typed: ASCII digits (``str.isdigit`` also passes "²", which ``int`` refuses), few enough to
# fit the databases' integer columns.
_TYPED_ID = re.compile(r"[0-9]{1,9}")


_FULL_WIDTH_DIGITS = {0xFF10 + digit: str(digit) for digit in range(10)}  # ０…９, from a Chinese input method


def typed_id(text: str) -> int | None:
    """The id a person typed (``/stats act-12``, ``#１２``); None for anything else (``²`` too, which
    int() would read)."""
    text = text.translate(_FULL_WIDTH_DIGITS)
    return int(text) if _TYPED_ID.fullmatch(text) else None


@dataclass(frozen=True)
class Incoming:
    channel: Channel
    external_id: str
    input: Input
    language_hint: str = ""
    display_name: str = ""


# ---- replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    label: str
    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"choice payload over {PAYLOAD_MAX_BYTES} bytes: {self.payload!r}")


@dataclass(frozen=True)
class Say:
    """A text, optionally with choices (buttons in Telegram, numbered options in WeChat)."""

    text: str
    choices: tuple[Choice, ...] = ()
    columns: int = 1
    clear_keyboard: bool = False  # remove a location/contact request keyboard shown before
    # Rewrites the message whose button was pressed (a progress card), where the channel can edit
    # one (Telegram); elsewhere, or with no button pressed, it is said as a new message.
    in_place: bool = False

    def __post_init__(self) -> None:
        # A Telegram message carries one keyboard: the one removing the request keyboard, or the
        # choices. Say the first thing (without choices) with clear_keyboard, then the rest.
        if self.choices and self.clear_keyboard:
            raise ValueError("a text with choices cannot also remove the request keyboard")


@dataclass(frozen=True)
class _Request:
    text: str
    button: str  # label of the channel's own button that answers it, where the channel has one


@dataclass(frozen=True)
class AskLocation(_Request):
    """Asks for a location: Telegram's "send my location" keyboard button, WeChat's attachment."""


@dataclass(frozen=True)
class AskContact(_Request):
    """Asks for the user's own phone number: Telegram's "share my number" keyboard button."""


@dataclass(frozen=True)
class _File:
    data: bytes = field(repr=False)
    filename: str
    caption: str = ""


@dataclass(frozen=True)
class Image(_File):
    """A picture sent as one: a QR code, a chart."""


@dataclass(frozen=True)
class Document(_File):
    """A file to keep: a certificate PDF, an XLSX export."""

    mime: str = "application/pdf"


@dataclass(frozen=True)
class Link:
    text: str
    url: str


Reply = Say | AskLocation | AskContact | Image | Document | Link


@dataclass(frozen=True)
class Outgoing:
    """Replies for one user, in order; the language they are written in."""

    replies: tuple[Reply, ...]
    language: str = "zh_CN"
    extra: dict[str, str] = field(default_factory=dict)
