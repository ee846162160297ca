from __future__ import annotations

from core.domain.codes import Channel
from core.domain.people import Actor, ChannelIdentity, Role, RoleGrant, User
from core.errors import InvalidInput, NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_admin

LANGUAGES = ("zh_CN", "en")


async def ensure_user(
    uow: UnitOfWork, clock: Clock, channel: Channel, external_id: str, *, language: str = "zh_CN"
) -> User:
    """The user behind a channel identity, created on first contact."""
    external_id = external_id.strip()
    if not external_id or len(external_id) > 128:
        raise InvalidInput("user.external_id")
    user = await uow.users.by_identity(channel, external_id)
    if user is not None:
        return user
    user = await uow.users.add(User(created_at=clock.now(), language=_language(language)))
    assert user.id is not None
    await uow.identities.add(
        ChannelIdentity(channel=channel, external_id=external_id, user_id=user.id, created_at=clock.now())
    )
    return user


def _language(code: str) -> str:
    return "en" if code.lower().startswith("en") else "zh_CN"


async def set_language(uow: UnitOfWork, user_id: int, language: str) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user.not_found")
    if language not in LANGUAGES:
        raise InvalidInput("user.language", choices=", ".join(LANGUAGES))
    user.language = language
    return user


async def grant_role(
    uow: UnitOfWork, clock: Clock, actor: Actor, user_id: int, role: Role, org_id: int | None = None
) -> RoleGrant:
    """Platform admins grant roles. The operator's CLI acts as the system actor to make the first admin."""
    require_admin(actor)
    if role is Role.ORG_STAFF:
        if org_id is None:
            raise InvalidInput("role.staff_needs_org")
        if await uow.orgs.get(org_id) is None:
            raise NotFound("org.not_found")
    elif org_id is not None:
        raise InvalidInput("role.admin_has_no_org")
    for grant in await uow.grants.active_for_user(user_id):
        if grant.role is role and grant.org_id == org_id:
            return grant
    grant = await uow.grants.add(
        RoleGrant(user_id=user_id, role=role, org_id=org_id, granted_at=clock.now(), granted_by=actor.user_id)
    )
    await audit(uow, clock, actor, "role.grant", "user", user_id, role=role, org_id=org_id)
    return grant
