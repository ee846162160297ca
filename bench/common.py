"""What both benchmarks need."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import date

from core.domain.codes import Channel
from core.domain.people import ConsentKind
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.users import ensure_user
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from tests.builders import phone_for


@contextlib.contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The load generator's own full collections (it holds the fake Bot API's record of every call)
    stalled its replies to the server for 200–600 ms and showed up as the server's tail latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def register(uow: UnitOfWork, clock: Clock, channel: Channel, external_id: str, n: int) -> None:
    """A registered volunteer behind a channel identity, as most who write in will be."""
    user = await ensure_user(uow, clock, channel, external_id)
    assert user.id is not None
    await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
    form = RegistrationForm(
        name="李志愿", phone=phone_for(n), region="江苏省南京市", birth_date=date(1990, 5, 17)
    )
    await register_volunteer(uow, clock, user.id, form, policy=Policy())
