"""Linking chat channels (issue 3): a volunteer registered in one app (WeChat, Telegram) asks for a
one-time code there and sends it from the other; the identity it is sent from then belongs to the
volunteer's user. Nothing is merged or deleted: the sender's former, empty user record stays."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.codes import Channel
from core.domain.linking import (
    CODE_DIGITS,
    CODE_LIFETIME,
    WRONG_TRIES_PER_HOUR,
    LinkCode,
    hash_code,
    is_code,
)
from core.domain.people import Actor
from core.errors import Conflict, InvalidInput, NotEligible, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit

WRONG_TRY = "link.wrong_code"  # audit action; counted for the rate limit, so it holds across instances
_FRESH_CODE_ATTEMPTS = 20


class WrongLinkCode(InvalidInput):
    """No such code, or expired, or used. The wrong try is written before this is raised: the caller
    commits it (the chat dialog does), or the limit of wrong tries would not hold."""


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown to the volunteer once, never stored
    expires_at: datetime


@dataclass(frozen=True)
class Linked:
    user_id: int  # the volunteer's user, which the identity now belongs to
    previous_user_id: int  # the sender's former user, kept (empty) for the record
    channel: Channel


async def issue_link_code(uow: UnitOfWork, clock: Clock, user_id: int) -> IssuedCode:
    """A new code replaces any earlier one still unused: one live code per user."""
    if await uow.volunteers.by_user(user_id) is None:
        raise NotEligible("linking.no_profile")
    now = clock.now()
    for earlier in await uow.link_codes.live_for_user(user_id, now):
        earlier.expires_at = now
    for _ in range(_FRESH_CODE_ATTEMPTS):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        same = await uow.link_codes.latest_for_update(hash_code(code))
        if same is None or not same.live(now):
            break
    else:  # a million codes, ten minutes each: only reached if the generator is broken
        raise Conflict("linking.busy")
    issued = await uow.link_codes.add(
        LinkCode(code_hash=hash_code(code), user_id=user_id, created_at=now, expires_at=now + CODE_LIFETIME)
    )
    await audit(uow, clock, Actor(user_id=user_id), "link.issue", "user", user_id, code_id=issued.id)
    return IssuedCode(code, issued.expires_at)


async def redeem_link_code(
    uow: UnitOfWork, clock: Clock, channel: Channel, external_id: str, code: str
) -> Linked:
    """Moves the identity ``(channel, external_id)`` onto the user that issued ``code``."""
    identity = await uow.identities.get(channel, external_id)
    if identity is None:
        raise NotFound("user.not_found")
    sender = identity.user_id
    actor = Actor(user_id=sender)
    code = code.strip()
    if not is_code(code):
        raise InvalidInput("linking.code.format")
    now = clock.now()
    wrong = await uow.audit.count_since("user", sender, WRONG_TRY, now - timedelta(hours=1))
    if wrong >= WRONG_TRIES_PER_HOUR:
        # Guessing a 6-digit code must stay hopeless: a few tries an hour, checked before the lookup.
        raise NotEligible("linking.code.too_many", limit=WRONG_TRIES_PER_HOUR)
    found = await uow.link_codes.latest_for_update(hash_code(code))
    problem = (
        "wrong"
        if found is None
        else "used"
        if found.used_at
        else "expired"
        if now >= found.expires_at
        else ""
    )
    if found is None or problem:
        await audit(uow, clock, actor, WRONG_TRY, "user", sender, problem)
        raise WrongLinkCode(f"linking.code.{problem}", left=WRONG_TRIES_PER_HOUR - wrong - 1)
    owner = found.user_id
    if owner == sender:
        raise Conflict("linking.same_account")
    if await uow.volunteers.by_user(sender) is not None:
        raise Conflict("linking.both_profiles")
    if await uow.grants.active_for_user(sender):
        # Roles are not moved in chat: an admin re-grants them to the linked user.
        raise Conflict("linking.sender_has_roles")
    if any(i.channel == channel for i in await uow.identities.for_user(owner)):
        raise Conflict("linking.channel_taken")
    identity.user_id = owner
    found.used_at = now
    found.used_by_identity = identity.id
    await audit(
        uow,
        clock,
        actor,
        "link.redeem",
        "user",
        owner,
        channel=channel,
        identity_id=identity.id,
        from_user=sender,
        code_id=found.id,
    )
    return Linked(owner, sender, channel)
