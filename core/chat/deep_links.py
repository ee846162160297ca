"""QR codes of deep links for staff (2-6.1 a, 2-7.2): printed at a position or shown on site, they
open an activity card (``act-12``) or the invitation to join an org (``org-3``) in the user's app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.chat.messages import Image, typed_id
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import ActivityQr, Menu, SurveyQr
from core.domain.codes import Channel
from core.errors import NotFound, PermissionDenied
from core.services.activities import get_activity

router = Router()


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


async def _activity_code(turn: Turn, activity_id: int, kind: str, caption_key: str) -> None:
    """The QR code of a page of an activity (its card, its survey), for the org's staff."""
    activity = await get_activity(turn.uow, activity_id)
    _require_staff(turn, activity.org_id)
    await _send_qr(turn, f"{kind}-{activity.id}", caption_key, title=activity.title)


async def _org_code(turn: Turn, org_id: int, kind: str, caption_key: str) -> None:
    """The QR code of a page of an org (the invitation to join, the need form), for its staff."""
    org = await turn.uow.orgs.get(org_id)
    if org is None or org.id is None:
        raise NotFound("org.not_found")
    _require_staff(turn, org.id)
    await _send_qr(turn, f"{kind}-{org.id}", caption_key, org=org.name)


@router.button(ActivityQr)
async def activity_qr(turn: Turn, action: ActivityQr) -> None:
    await _activity_code(turn, action.activity_id, "act", "chat.qr.activity")


@router.button(SurveyQr)
async def survey_qr(turn: Turn, action: SurveyQr) -> None:
    """3-8.1.2.1: the beneficiaries' satisfaction survey, shown on site at the end of the activity."""
    await _activity_code(turn, action.activity_id, "survey", "chat.qr.survey")


# The words of /qr, those of the deep links: whose page each opens, and the code's caption. 3-6.1.1:
# ``need-3`` is the need form addressed to one org, for its positions and posters.
_WORDS: dict[str, tuple[Callable[[Turn, int, str, str], Awaitable[None]], str]] = {
    "act": (_activity_code, "chat.qr.activity"),
    "survey": (_activity_code, "chat.qr.survey"),
    "org": (_org_code, "chat.qr.org"),
    "need": (_org_code, "chat.qr.need"),
}


@router.command("qr")
async def qr_command(turn: Turn, arg: str) -> None:
    """/qr act-12, org-3, survey-12 or need-3: the same payloads as the deep links themselves."""
    kind, _, ident = arg.strip().partition("-")
    ident_id = typed_id(ident)
    if kind in _WORDS and ident_id is not None:
        code, caption_key = _WORDS[kind]
        await code(turn, ident_id, kind, caption_key)
    else:
        turn.say("chat.qr.usage", turn.choice("chat.button.menu", Menu()))


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
        turn.say("chat.qr.wechat_image", turn.choice("chat.button.menu", Menu()), link=scene)
        return
    if url is None or png is None:
        # Without the account's API WeChat has none at all; Telegram's wait for the configuration.
        refusal = "chat.qr.wechat" if turn.channel is Channel.WECHAT else "chat.qr.not_configured"
        turn.say(refusal, turn.choice("chat.button.menu", Menu()), payload=payload)
        return
    turn.replies.append(Image(png, f"{payload}.png", turn.t(caption_key, link=url, **params)))
