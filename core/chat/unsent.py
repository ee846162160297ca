"""Replies a turn wrote but could not send: the platform answered 5xx or did not answer at all. The
turn is not run again (what it changed stands, and the delivery is marked handled, so the platform's
retry would find nothing to say); its replies go to the outbox instead, where the dispatcher delivers
them with its own retries and pacing, in order. Nothing the user was told is lost.

A notice holds text and buttons only: a file (a QR code, a certificate, an export) is replaced by its
caption and a line saying how to have it again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import uuid4

from core.chat.messages import AskContact, AskLocation, Document, Image, Link, Reply, Say
from core.chat.turn import Translate, Translators
from core.domain.codes import Channel
from core.ports import Clock, UnitOfWorkFactory
from core.services.notices import enqueue

log = logging.getLogger(__name__)

UNSENT = "chat.unsent"  # the catalog's "{text}": the text is written already, in the user's language


async def keep_unsent(
    uows: UnitOfWorkFactory,
    clock: Clock,
    translators: Translators,
    channel: Channel,
    external_id: str,
    language: str,
    replies: Sequence[Reply],
) -> int:
    """Queues ``replies`` for the user of this identity, due now; how many notices were queued."""
    t = translators(language)
    async with uows() as uow:
        identity = await uow.identities.get(channel, external_id)
        if identity is None:
            log.error("%d replies could not be sent, and their %s user is unknown", len(replies), channel)
            return 0
        batch = uuid4().hex
        queued = 0
        for index, reply in enumerate(replies):
            text, choices = _as_notice(reply, t)
            # The labels are written already; the dispatcher's translator leaves a non-key as it is.
            queued += await enqueue(
                uow, clock, f"unsent:{batch}:{index}", identity.user_id, UNSENT, choices=choices, text=text
            )
        await uow.commit()
    log.warning("%d replies could not be sent to a %s user: queued in the outbox", queued, channel)
    return queued


def _as_notice(reply: Reply, t: Translate) -> tuple[str, list[tuple[str, str]]]:
    """The text and buttons of a reply; a request for a location or a contact says itself in words
    (the next message is still its answer), a file gives way to its caption and how to have it again."""
    match reply:
        case Say(text=text, choices=choices):
            return text, [(c.label, c.payload) for c in choices]
        case AskLocation(text=text) | AskContact(text=text):
            return text, []
        case Link(text=text, url=url):
            return f"{text}\n{url}", []
        case Image(caption=caption) | Document(caption=caption):
            return "\n".join(part for part in (caption, t("chat.unsent.file")) if part), []
