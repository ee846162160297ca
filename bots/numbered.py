"""Replies as one text with the options numbered 1..n across the turn: how the channels without
buttons show a turn (WeChat's passive reply, the terminal of `stvs chat`). Each channel gives the
catalog keys of its own words and how it hands out a file; the numbering, which the conversation
recorded as offered, is the same for both."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from core.chat.messages import AskContact, AskLocation, Document, Image, Link, Reply, Say
from locales import translator

FileLine = Callable[[Image | Document], str]  # the line that gives the reader the file


class Words(NamedTuple):
    """A channel's catalog keys: an option's line, and what to send for a location or a contact."""

    option: str
    ask_location: str
    ask_contact: str


def numbered_text(replies: Sequence[Reply], language: str, words: Words, file_line: FileLine) -> str:
    """All replies of a turn as one text: blocks separated by a blank line, choices numbered 1..n."""
    t = translator(language)
    blocks: list[str] = []
    number = 0
    for reply in replies:
        match reply:
            case Say(text=text, choices=choices):
                lines = [text] if text else []
                for choice in choices:
                    number += 1
                    lines.append(t(words.option, number=number, label=choice.label))
                blocks.append("\n".join(lines))
            case AskLocation(text=text):
                blocks.append(_lines(text, t(words.ask_location)))
            case AskContact(text=text):
                blocks.append(_lines(text, t(words.ask_contact)))
            case Image(caption=caption) | Document(caption=caption):
                blocks.append(_lines(caption, file_line(reply)))
            case Link(text=text, url=url):
                blocks.append(_lines(text, url))
            case _:
                raise TypeError(f"not a reply: {reply!r}")
    return "\n\n".join(block for block in blocks if block)


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
