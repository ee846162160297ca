"""``stvs chat``: the conversation in a terminal (Channel.CONSOLE), for a quick look and for scripts
(``printf '菜单\\n1\\n' | stvs chat --as volunteer``). Choices are numbered across a turn, as on
WeChat; a reply of a number picks one. A line ``@lat,lon`` sends a location, ``/name args`` a command,
anything else is text. Files (QR codes, certificates) are saved to a folder and their path printed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from core.chat.conversation import Conversation
from core.chat.messages import (
    AskContact,
    AskLocation,
    Command,
    Document,
    Image,
    Incoming,
    Input,
    Link,
    Location,
    Reply,
    Say,
    Text,
)
from core.domain.codes import Channel
from core.domain.identity_numbers import ascii_form
from locales import translator

_LOCATION = re.compile(r"^@\s*(-?\d+(?:\.\d+)?)\s*[,\s]\s*(-?\d+(?:\.\d+)?)$")
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:\s+(.*))?$")


def parse_line(line: str) -> Input | None:
    """One typed line as a chat input; None for an empty line."""
    text = line.strip()
    if not text:
        return None
    location = _LOCATION.match(ascii_form(text))
    if location:
        return Location(float(location[1]), float(location[2]), accuracy_m=10.0)
    command = _COMMAND.match(text)
    if command:
        return Command(command[1], command[2] or "")
    return Text(text)


def render(replies: Sequence[Reply], language: str, files: Path) -> str:
    """A turn's replies as the terminal shows them: options numbered 1..n across the turn."""
    t = translator(language)
    blocks: list[str] = []
    number = 0
    for reply in replies:
        match reply:
            case Say(text=text, choices=choices):
                lines = [text] if text else []
                for choice in choices:
                    number += 1
                    lines.append(t("console.option", number=number, label=choice.label))
                blocks.append("\n".join(lines))
            case AskLocation(text=text):
                blocks.append(f"{text}\n{t('console.ask_location')}")
            case AskContact(text=text):
                blocks.append(f"{text}\n{t('console.ask_contact')}")
            case (
                Image(data=data, filename=filename, caption=caption)
                | Document(data=data, filename=filename, caption=caption)
            ):
                files.mkdir(parents=True, exist_ok=True)
                path = files / Path(filename).name
                path.write_bytes(data)
                blocks.append("\n".join(part for part in (caption, t("console.file", path=path)) if part))
            case Link(text=text, url=url):
                blocks.append(f"{text}\n{url}")
            case _:
                raise TypeError(f"not a reply: {reply!r}")
    return "\n\n".join(block for block in blocks if block)


async def chat(
    conversation: Conversation,
    external_id: str,
    lines: TextIO,
    out: TextIO,
    *,
    files: Path,
    language_hint: str = "zh_CN",
    echo: bool = False,
) -> int:
    """Reads lines until the end of input, one turn each; returns how many turns were taken. With
    ``echo`` (input from a pipe), each line is printed after "> " so the transcript reads as a chat."""
    turns = 0
    for line in lines:
        given = parse_line(line)
        if given is None:
            continue
        if echo:
            print(f"> {line.strip()}", file=out)
        outgoing = await conversation.handle(Incoming(Channel.CONSOLE, external_id, given, language_hint))
        turns += 1
        if outgoing is not None and outgoing.replies:
            print(render(outgoing.replies, outgoing.language, files), file=out)
        print(file=out, flush=True)
    return turns
