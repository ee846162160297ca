from __future__ import annotations

from core.domain.codes import Channel
from core.services.users import ensure_user
from storage.database import Database
from tests.fakes.clock import FakeClock


async def test_user_is_created_once_per_channel_identity(db: Database, clock: FakeClock) -> None:
    async with db.uow() as uow:
        first = await ensure_user(uow, clock, Channel.TELEGRAM, "1001")
        again = await ensure_user(uow, clock, Channel.TELEGRAM, "1001")
        other = await ensure_user(uow, clock, Channel.WECHAT, "1001")
        await uow.commit()
    assert first.id == again.id
    assert other.id != first.id
