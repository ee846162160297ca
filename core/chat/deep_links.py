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
    in a channel that makes them (an option that can never work is not offered): Telegram's deep
    links, or WeChat's parametric codes where the account's API is configured."""
    payload = f"org-{org_id}"
    return _is_staff(turn, org_id) and (
        link_of(turn, payload) is not None or _wechat_code(turn, payload) is not None
    )


def _wechat_code(turn: Turn, payload: str) -> str | None:
    """The address of the WeChat account's parametric QR code, in WeChat."""
    if turn.links is None or turn.channel is not Channel.WECHAT:
        return None
    return turn.links.wechat_qr(payload)


def _is_staff(turn: Turn, org_id: int) -> bool:
    return turn.actor.admin or org_id in turn.actor.staff_of


async def _activity_code(turn: Turn, arg: str, kind: str, caption_key: str) -> None:
    """The QR code of a page of an activity (its card, its survey), for the org's staff."""
    activity = await get_activity(turn.uow, _id(arg, "activity.not_found"))
    _require_staff(turn, activity.org_id)
    await _send_qr(turn, f"{kind}-{activity.id}", caption_key, title=activity.title)


async def _org_code(turn: Turn, arg: str, kind: str, caption_key: str) -> None:
    """The QR code of a page of an org (the invitation to join, the need form), for its staff."""
    org = await turn.uow.orgs.get(_id(arg, "org.not_found"))
    if org is None or org.id is None:
        raise NotFound("org.not_found")
    _require_staff(turn, org.id)
    await _send_qr(turn, f"{kind}-{org.id}", caption_key, org=org.name)


async def activity_qr(turn: Turn, arg: str) -> None:
    await _activity_code(turn, arg, "act", "chat.qr.activity")


async def survey_qr(turn: Turn, arg: str) -> None:
    """3-8.1.2.1: the beneficiaries' satisfaction survey, shown on site at the end of the activity."""
    await _activity_code(turn, arg, "survey", "chat.qr.survey")


async def org_qr(turn: Turn, arg: str) -> None:
    await _org_code(turn, arg, "org", "chat.qr.org")


async def need_qr(turn: Turn, arg: str) -> None:
    """3-6.1.1: the need form addressed to one org, for its positions and posters."""
    await _org_code(turn, arg, "need", "chat.qr.need")


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
    scene = _wechat_code(turn, payload)
    if scene is not None:  # WeChat has no deep links: the account's parametric QR code, as an image
        turn.say("chat.qr.wechat_image", turn.choice("chat.button.menu", "menu"), link=scene)
        return
    if url is None or png is None:
        # Without the account's API WeChat has none at all; Telegram's wait for the configuration.
        refusal = "chat.qr.wechat" if turn.channel is Channel.WECHAT else "chat.qr.not_configured"
        turn.say(refusal, turn.choice("chat.button.menu", "menu"), payload=payload)
        return
    turn.replies.append(Image(png, f"{payload}.png", turn.t(caption_key, link=url, **params)))


def _id(arg: str, missing: str) -> int:
    if not arg.isdigit():
        raise NotFound(missing)
    return int(arg)
