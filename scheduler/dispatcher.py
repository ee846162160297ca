"""The outbox dispatcher: sends due notices through each channel's Messenger, at least once,
never twice in normal operation, and never loses one (ARCHITECTURE: the database is the source of truth)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.chat.messages import Choice, Say
from core.chat.turn import Translators
from core.domain.codes import Channel
from core.domain.dialog import Notice
from core.ports import Clock, DeliveryFailed, Messenger, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)  # a claimed notice not marked sent by then is tried again


@dataclass(frozen=True)
class _Message:
    key: str
    say: Say
    to: tuple[tuple[Channel, str], ...]


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


async def dispatch_due(
    uows: UnitOfWorkFactory,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    translators: Translators,
    *,
    limit: int = 100,
) -> DispatchResult:
    """Claim due notices (a lease, committed), send each outside any transaction, then mark it.
    A crash between send and mark re-sends after the lease: at least once, never lost."""
    async with uows() as uow:
        now = clock.now()
        claimed = await uow.notices.due(now, limit)
        for notice in claimed:
            notice.attempts += 1
            notice.due_at = now + LEASE
        ids = [n.id for n in claimed]
        await uow.commit()
    sent = retried = failed = 0
    for notice_id in ids:
        async with uows() as uow:
            notice = await uow.notices.get(notice_id or 0)
            # Withdrawn since it was claimed (its sign-up or activity cancelled): not sent.
            if notice is None or not notice.pending:
                continue
            message = await _message(uow, notice, messengers, translators)
        # Sent with no transaction open: a messenger may use the database itself (WeChat counts its
        # window there), and SQLite has a single connection.
        outcome = message if isinstance(message, DeliveryFailed) else await _deliver(message, messengers)
        async with uows() as uow:
            notice = await uow.notices.get(notice_id or 0)
            if notice is None or notice.sent_at is not None:
                continue
            now = clock.now()
            if outcome is None:
                notice.sent_at = now
                notice.last_error = None
                sent += 1
            elif outcome.permanent or notice.attempts >= MAX_ATTEMPTS:
                notice.failed = True
                notice.last_error = str(outcome)[:500]
                failed += 1
            else:
                backoff = outcome.retry_after or 30 * 2 ** (notice.attempts - 1)
                notice.due_at = now + timedelta(seconds=backoff)
                notice.last_error = str(outcome)[:500]
                retried += 1
            await uow.commit()
    return DispatchResult(sent, retried, failed)


async def _message(
    uow: UnitOfWork, notice: Notice, messengers: Mapping[Channel, Messenger], translators: Translators
) -> _Message | DeliveryFailed:
    """The notice in its user's language, and the identities to try, newest first (plain values:
    they outlive the unit of work)."""
    user = await uow.users.get(notice.user_id)
    identities = await uow.identities.for_user(notice.user_id)
    reachable = [i for i in reversed(identities) if i.channel in messengers]
    if user is None or not reachable:
        return DeliveryFailed("no channel to reach this user", permanent=True)
    t = translators(user.language)
    say = Say(
        t(notice.message_key, **notice.params),
        tuple(Choice(t(label), payload) for label, payload in notice.choices),
    )
    return _Message(notice.key, say, tuple((i.channel, i.external_id) for i in reachable))


async def _deliver(message: _Message, messengers: Mapping[Channel, Messenger]) -> DeliveryFailed | None:
    last: DeliveryFailed | None = None
    for channel, external_id in message.to:
        try:
            await messengers[channel].send(external_id, [message.say])
            return None
        except DeliveryFailed as error:
            log.warning("notice %s to %s failed: %s", message.key, channel, error)
            last = error
    return last
