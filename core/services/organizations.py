from __future__ import annotations

from dataclasses import dataclass

from core.domain.codes import OrgKind, ServiceContent
from core.domain.organization import Organization, OrgStatus, check_org_name
from core.domain.people import Actor, Role, RoleGrant
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_admin, require_reviewer, require_staff


@dataclass(frozen=True)
class OrgApplication:
    """1-5.3: what an org application states."""

    name: str
    kind: OrgKind
    parent_id: int | None
    service_field: str
    service_items: tuple[str, ...]
    requirements: str
    leader_name: str
    leader_contact: str
    member_count: int
    unit_full_name: bool = False
    join_requires_approval: bool = False


async def _checked(uow: UnitOfWork, clock: Clock, actor: Actor, form: OrgApplication) -> Organization:
    if form.unit_full_name and not actor.admin:
        raise PermissionDenied("org.unit_full_name_admin_only")
    name = check_org_name(form.name, form.kind, unit_full_name=form.unit_full_name)
    if await uow.orgs.by_name(name) is not None:
        raise Conflict("org.name.taken", name=name)
    for item in form.service_items:
        if item not in ServiceContent._value2member_map_:
            raise InvalidInput("org.service_item.unknown", item=item)
    if form.member_count < 0:
        raise InvalidInput("org.member_count")
    if not form.leader_name.strip() or not form.leader_contact.strip():
        raise InvalidInput("org.leader.missing")
    if form.parent_id is not None:
        parent = await uow.orgs.get(form.parent_id)
        if parent is None or not parent.active:
            raise NotFound("org.parent.not_found")
    return Organization(
        name=name,
        kind=form.kind,
        created_at=clock.now(),
        parent_id=form.parent_id,
        service_field=form.service_field.strip(),
        service_items=list(form.service_items),
        requirements=form.requirements.strip(),
        leader_name=form.leader_name.strip(),
        leader_contact=form.leader_contact.strip(),
        member_count=form.member_count,
        unit_full_name=form.unit_full_name,
        join_requires_approval=form.join_requires_approval,
    )


async def apply_for_org(uow: UnitOfWork, clock: Clock, actor: Actor, form: OrgApplication) -> Organization:
    """1-5.3.3 c: registered volunteers (and staff) may apply to found an org; it waits for review."""
    if actor.user_id is None or (actor.volunteer_id is None and not actor.staff_of and not actor.admin):
        raise PermissionDenied("org.apply.register_first")
    if form.parent_id is None and not actor.admin:
        raise InvalidInput("org.apply.parent_required")
    org = await _checked(uow, clock, actor, form)
    org.applied_by = actor.user_id
    await uow.orgs.add(org)
    await audit(uow, clock, actor, "org.apply", "org", org.id, name=org.name, parent_id=org.parent_id)
    return org


async def create_org(uow: UnitOfWork, clock: Clock, actor: Actor, form: OrgApplication) -> Organization:
    """A platform admin registers an org directly (approved), e.g. the provincial brigade."""
    require_admin(actor)
    org = await _checked(uow, clock, actor, form)
    org.status = OrgStatus.APPROVED
    org.reviewed_by = actor.user_id
    org.reviewed_at = clock.now()
    await uow.orgs.add(org)
    await audit(uow, clock, actor, "org.create", "org", org.id, name=org.name, parent_id=org.parent_id)
    return org


async def review_org(
    uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int, *, approve: bool, reason: str = ""
) -> Organization:
    """1-5.4: approve, or reject with a reason the applicant is told. The org row is locked, so two
    reviewers pressing at once decide once. On approval the founder becomes its staff (1-5.3.3 c)."""
    await require_reviewer(uow, actor, org_id)
    org = await uow.orgs.get_for_update(org_id)
    assert org is not None
    if org.status is not OrgStatus.APPLIED:
        raise Conflict("org.review.not_pending", status=org.status)
    if not approve and not reason.strip():
        raise InvalidInput("org.review.reason_required")
    org.status = OrgStatus.APPROVED if approve else OrgStatus.REJECTED
    org.status_reason = reason.strip() or None
    org.reviewed_by = actor.user_id
    org.reviewed_at = clock.now()
    await audit(
        uow, clock, actor, "org.approve" if approve else "org.reject", "org", org.id, reason=reason or None
    )
    if approve and org.applied_by is not None:
        await uow.grants.add(
            RoleGrant(
                user_id=org.applied_by,
                role=Role.ORG_STAFF,
                org_id=org.id,
                granted_at=clock.now(),
                granted_by=actor.user_id,
            )
        )
        await audit(
            uow, clock, actor, "role.grant", "user", org.applied_by, role=Role.ORG_STAFF, org_id=org.id
        )
    return org


async def deactivate_org(
    uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int, reason: str
) -> Organization:
    await require_reviewer(uow, actor, org_id)
    org = await uow.orgs.get(org_id)
    assert org is not None
    if not reason.strip():
        raise InvalidInput("org.deactivate.reason_required")
    org.status = OrgStatus.DEACTIVATED
    org.status_reason = reason.strip()
    await audit(uow, clock, actor, "org.deactivate", "org", org.id, reason=reason)
    return org


@dataclass(frozen=True)
class OrgSummary:
    """1-6.1: what a parent sees of an org and everything below it."""

    org: Organization
    sub_orgs: int
    volunteers: int
    activities: int


async def summarize_org(uow: UnitOfWork, actor: Actor, org_id: int) -> OrgSummary:
    await require_staff(uow, actor, org_id, write=False)
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    below = await uow.orgs.descendant_ids(org_id)
    scope = [org_id, *below]
    # Applications waiting for review, or refused, are not sub-orgs (1-5.4).
    sub_orgs = [sub for sub in [await uow.orgs.get(i) for i in below] if sub is not None and sub.active]
    return OrgSummary(
        org=org,
        sub_orgs=len(sub_orgs),
        volunteers=await uow.volunteers.count_in_orgs(scope),
        activities=await uow.activities.count_in_orgs(scope),
    )
