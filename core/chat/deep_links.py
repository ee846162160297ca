"""QR codes of deep links for staff (2-6.1 a, 2-7.2): printed at a position or shown on site, they
open an activity card (``act-12``) or the invitation to join an org (``org-3``) in the user's app."""

from __future__ import annotations

from typing import Any

from core.chat.messages import Image
from core.chat.turn import Turn
from core.domain.codes import Channel
from core.errors import NotFound, PermissionDenied
from core.services.activities import get_activity


def link_of(turn: Turn, payload: str) -> str | None:
    """The channel's deep link for a payload; None where the channel makes none (in WeChat the
    account's administrator makes parametric QR codes: stvs wechat qrcode <payload>)."""
    return turn.links.link(turn.channel, payload) if turn.links is not None else None


def may_share(turn: Turn, org_id: int) -> bool:
    """Whether to offer the org's QR codes: to its staff and admins (they are the org's own publicity),
    in a channel that makes them (an option that can never work is not offered)."""
    return _is_staff(turn, org_id) and link_of(turn, f"org-{org_id}") is not None


def _is_staff(turn: Turn, org_id: int) -> bool:
    return turn.actor.admin or org_id in turn.actor.staff_of


async def activity_qr(turn: Turn, arg: str) -> None:
    activity = await get_activity(turn.uow, _id(arg, "activity.not_found"))
    _require_staff(turn, activity.org_id)
    await _send_qr(turn, f"act-{activity.id}", "chat.qr.activity", title=activity.title)


async def org_qr(turn: Turn, arg: str) -> None:
    org = await turn.uow.orgs.get(_id(arg, "org.not_found"))
    if org is None or org.id is None:
        raise NotFound("org.not_found")
    _require_staff(turn, org.id)
    await _send_qr(turn, f"org-{org.id}", "chat.qr.org", org=org.name)


async def survey_qr(turn: Turn, arg: str) -> None:
    """3-8.1.2.1: the beneficiaries' satisfaction survey, shown on site at the end of the activity."""
    activity = await get_activity(turn.uow, _id(arg, "activity.not_found"))
    _require_staff(turn, activity.org_id)
    await _send_qr(turn, f"survey-{activity.id}", "chat.qr.survey", title=activity.title)


async def need_qr(turn: Turn, arg: str) -> None:
    """3-6.1.1: the need form addressed to one org, for its positions and posters."""
    org = await turn.uow.orgs.get(_id(arg, "org.not_found"))
    if org is None or org.id is None:
        raise NotFound("org.not_found")
    _require_staff(turn, org.id)
    await _send_qr(turn, f"need-{org.id}", "chat.qr.need", org=org.name)


async def qr_command(turn: Turn, arg: str) -> None:
    """/qr act-12, org-3, survey-12 or need-3: the same payloads as the deep links themselves."""
    kind, _, ident = arg.strip().partition("-")
    handler = {"act": activity_qr, "org": org_qr, "survey": survey_qr, "need": need_qr}.get(kind)
    if handler is not None and ident.isdigit():
        await handler(turn, ident)
    else:
        turn.say("chat.qr.usage", turn.choice("chat.button.menu", "menu"))


def _require_staff(turn: Turn, org_id: int) -> None:
    if not _is_staff(turn, org_id):
        raise PermissionDenied("chat.qr.not_staff")


async def _send_qr(turn: Turn, payload: str, caption_key: str, **params: Any) -> None:
    turn.state.clear()  # a question asked before is left: the next text is no answer to it
    links = turn.links
    url = link_of(turn, payload)
    png = links.qr_png(turn.channel, payload) if links is not None and url else None
    if url is None or png is None:
        # WeChat has no links in chat at all; elsewhere (Telegram) they wait for the configuration.
        refusal = "chat.qr.wechat" if turn.channel is Channel.WECHAT else "chat.qr.not_configured"
        turn.say(refusal, turn.choice("chat.button.menu", "menu"), payload=payload)
        return
    turn.replies.append(Image(png, f"{payload}.png", turn.t(caption_key, link=url, **params)))


def _id(arg: str, missing: str) -> int:
    if not arg.isdigit():
        raise NotFound(missing)
    return int(arg)
