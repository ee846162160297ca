"""People for the staff-side chat tests: staff of an org and registered volunteers, each reachable
as a ChatUser through the Telegram identity the conversation knows them by."""

from __future__ import annotations

from types import SimpleNamespace

from core.domain.codes import Channel
from core.domain.people import Actor, Role
from core.services.users import ensure_user, grant_role
from storage.database import Database
from tests.builders import make_org, make_volunteer
from tests.fakes.clock import FakeClock


async def org_with_staff(
    db: Database, clock: FakeClock, staff_external_id: str, name: str, **changes: object
) -> int:
    """An approved org and a staff member who chats as staff_external_id."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, name, **changes)
        user = await ensure_user(uow, clock, Channel.TELEGRAM, staff_external_id)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return org.id


async def volunteer(
    db: Database, clock: FakeClock, *, name: str, org_id: int | None = None
) -> tuple[str, int]:
    """A registered volunteer (joined to or asking to join org_id): their external id and volunteer id."""
    async with db.uow() as uow:
        registered, actor = await make_volunteer(uow, clock, org_id=org_id, name=name)
        identities = await uow.identities.for_user(actor.user_id)
        await uow.commit()
    return identities[0].external_id, registered.id


async def notices_of(db: Database, channel_id: str) -> list[SimpleNamespace]:
    """The notices queued for a user, read while the session is open."""
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, channel_id)
        return [
            SimpleNamespace(message_key=n.message_key, params=dict(n.params), choices=list(n.choices))
            for n in await uow.notices.for_user(user.id)
        ]
