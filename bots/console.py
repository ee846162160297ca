"""``stvs chat``: the conversation in a terminal (Channel.CONSOLE), for a quick look and for scripts
(``printf '菜单\\n1\\n' | stvs chat --as volunteer``). Choices are numbered across a turn, as on
WeChat; a reply of a number picks one. A line ``@lat,lon`` sends a location, ``/name args`` a command,
anything else is text. Files (QR codes, certificates) are saved to a folder and their path printed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bots.numbered import Words, numbered_text
from core.chat.conversation import Conversation
from core.chat.messages import (
    Document,
    Image,
    Incoming,
    Input,
    Location,
    Reply,
    typed,
)
from core.domain.codes import Channel
from core.domain.identity_numbers import ascii_form
from core.services.users import ensure_user, set_language
from locales import translator

_LOCATION = re.compile(r"^@\s*(-?\d+(?:\.\d+)?)\s*[,\s]\s*(-?\d+(?:\.\d+)?)$")


def parse_line(line: str) -> Input | None:
    """One typed line as a chat input; None for an empty line."""
    text = line.strip()
    if not text:
        return None
    location = _LOCATION.match(ascii_form(text))
    if location:
        return Location(float(location[1]), float(location[2]), accuracy_m=10.0)
    return typed(text)


WORDS = Words("console.option", "console.ask_location", "console.ask_contact")


def render(replies: Sequence[Reply], language: str, files: Path) -> str:
    """A turn's replies as the terminal shows them (bots.numbered); files saved under ``files``."""
    t = translator(language)

    def file_line(reply: Image | Document) -> str:
        files.mkdir(parents=True, exist_ok=True)
        path = files / Path(reply.filename).name
        path.write_bytes(reply.data)
        return t("console.file", path=path)

    return numbered_text(replies, language, WORDS, file_line)


async def chat(
    conversation: Conversation,
    external_id: str,
    lines: TextIO,
    out: TextIO,
    *,
    files: Path,
    language_hint: str = "zh_CN",
    language: str | None = None,
    echo: bool = False,
) -> int:
    """Reads lines until the end of input, one turn each; returns how many turns were taken. With
    ``echo`` (input from a pipe), each line is printed after "> " so the transcript reads as a chat.
    ``language`` (``stvs --lang en chat``): the person's language from now on, as /language sets it;
    without it a known person keeps theirs, and a new one gets ``language_hint``."""
    if language is not None:
        await _speak(conversation, external_id, language)
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


async def _speak(conversation: Conversation, external_id: str, language: str) -> None:
    async with conversation.uows() as uow:
        user = await ensure_user(uow, conversation.clock, Channel.CONSOLE, external_id, language=language)
        assert user.id is not None
        if user.language != language:
            await set_language(uow, user.id, language)
        await uow.commit()
