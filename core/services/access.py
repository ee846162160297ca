"""Who may do what (roles of REQUIREMENTS 'People and roles'), and the audit trail of what they did."""

from __future__ import annotations

from typing import Any

from core.domain.audit import AuditEntry
from core.domain.people import Actor, Role, RoleGrant
from core.domain.volunteer import CURRENT_MEMBERSHIP, Volunteer, VolunteerStatus
from core.errors import NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork


async def load_actor(uow: UnitOfWork, user_id: int | None) -> Actor:
    if user_id is None:
        return Actor.anonymous()
    grants = await uow.grants.active_for_user(user_id)
    volunteer = await uow.volunteers.by_user(user_id)
    return actor_of(user_id, grants, volunteer)


def actor_of(user_id: int, grants: list[RoleGrant], volunteer: Volunteer | None) -> Actor:
    return actor_with(
        user_id, grants, volunteer.id if volunteer else None, volunteer.status if volunteer else None
    )


def actor_with(
    user_id: int, grants: list[RoleGrant], volunteer_id: int | None, volunteer_status: VolunteerStatus | None
) -> Actor:
    """Only an active volunteer acts as one: a cleared volunteer (2-6.2 f) is a visitor."""
    return Actor(
        user_id=user_id,
        admin=any(g.role is Role.PLATFORM_ADMIN for g in grants),
        staff_of=frozenset(g.org_id for g in grants if g.role is Role.ORG_STAFF and g.org_id is not None),
        volunteer_id=volunteer_id if volunteer_status is VolunteerStatus.ACTIVE else None,
    )


def require_admin(actor: Actor) -> None:
    if not actor.admin:
        raise PermissionDenied("access.admin_only")


async def require_staff(uow: UnitOfWork, actor: Actor, org_id: int, *, write: bool = True) -> None:
    """Staff act on their own org; they read, but never change, the orgs below it."""
    if actor.admin or org_id in actor.staff_of:
        return
    if not write and actor.staff_of.intersection(await uow.orgs.ancestor_ids(org_id)):
        return
    raise PermissionDenied("access.not_staff")


async def require_reviewer(uow: UnitOfWork, actor: Actor, org_id: int) -> None:
    """1-5.4: an org is reviewed by staff of its parent (归属管理单位); top-level ones by an admin."""
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    if actor.admin or (org.parent_id is not None and org.parent_id in actor.staff_of):
        return
    raise PermissionDenied("access.not_reviewer")


async def may_see_private_data(uow: UnitOfWork, actor: Actor, volunteer_id: int) -> bool:
    """Full phone and ID numbers: the volunteer, admins, and staff of an org the volunteer belongs to."""
    if actor.admin or actor.volunteer_id == volunteer_id:
        return True
    if not actor.staff_of:
        return False
    memberships = await uow.memberships.for_volunteer(volunteer_id)
    # Only the orgs the volunteer belongs to (or asks to join) now: not one that refused them or that they left.
    return any(m.org_id in actor.staff_of and m.status in CURRENT_MEMBERSHIP for m in memberships)


async def audit(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    reason: str | None = None,
    **details: Any,
) -> None:
    """1-6.5: appended in the same transaction as the change it describes."""
    await uow.audit.add(
        AuditEntry(
            at=clock.now(),
            actor_user_id=actor.user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            reason=reason,
            details={k: _plain(v) for k, v in details.items()},
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)
