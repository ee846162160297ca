"""The review cycle (1-5.3, 1-5.4, 2-7.1): an application or a join request reaches the staff who
decide it, and each decision reaches the person who asked, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.actions import FoundOrg, ReviewOrg
from core.domain.organization import Organization
from core.domain.people import Actor
from core.domain.volunteer import Membership
from core.errors import NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import require_reviewer, require_staff
from core.services.notices import enqueue
from core.services.organizations import OrgApplication, apply_for_org, review_org
from core.services.volunteers import VolunteerView, decide_membership, view_volunteer

LIST_LIMIT = 20


async def submit_org_application(
    uow: UnitOfWork, clock: Clock, actor: Actor, form: OrgApplication
) -> Organization:
    """1-5.3.3 c: the application waits for the parent org (归属管理单位), whose staff are told."""
    org = await apply_for_org(uow, clock, actor, form)
    if org.parent_id is None:
        return org
    assert org.id is not None
    parent = await uow.orgs.get(org.parent_id)
    told: set[int] = set()
    for grant in await uow.grants.staff_of(org.parent_id):
        if grant.user_id in told:
            continue
        told.add(grant.user_id)
        await enqueue(
            uow,
            clock,
            f"org-applied:{org.id}:{grant.user_id}",
            grant.user_id,
            "notice.org_applied",
            choices=[("chat.reviews.button.review", ReviewOrg(org.id).pack())],
            org=org.name,
            parent=parent.name if parent else "",
            leader=org.leader_name,
        )
    return org


async def pending_org_applications(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """What this actor reviews: applications under the orgs they staff; top-level ones for an admin."""
    return await uow.orgs.pending_children(sorted(actor.staff_of), top_level=actor.admin, limit=LIST_LIMIT)


async def pending_memberships(uow: UnitOfWork, actor: Actor) -> list[Membership]:
    return await uow.memberships.pending_for_orgs(sorted(actor.staff_of), limit=LIST_LIMIT)


async def org_application(uow: UnitOfWork, actor: Actor, org_id: int) -> Organization:
    """The application as its reviewer sees it; nobody else does."""
    await require_reviewer(uow, actor, org_id)
    org = await uow.orgs.get(org_id)
    if org is None:
        raise NotFound("org.not_found")
    return org


async def decide_org_application(
    uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int, *, approve: bool, reason: str = ""
) -> Organization:
    org = await review_org(uow, clock, actor, org_id, approve=approve, reason=reason)
    if org.applied_by is not None:
        await enqueue(
            uow,
            clock,
            f"org-reviewed:{org.id}",
            org.applied_by,
            "notice.org_approved" if approve else "notice.org_rejected",
            choices=[] if approve else [("chat.menu.found_org", FoundOrg().pack())],
            org=org.name,
            reason=org.status_reason or "",
        )
    return org


@dataclass(frozen=True)
class JoinRequest:
    membership: Membership
    volunteer: VolunteerView
    org: Organization


async def join_request(uow: UnitOfWork, actor: Actor, volunteer_id: int, org_id: int) -> JoinRequest:
    """A join request as the org's staff see it (staff of another org are refused)."""
    await require_staff(uow, actor, org_id)
    membership = await uow.memberships.get(volunteer_id, org_id)
    org = await uow.orgs.get(org_id)
    if membership is None or org is None:
        raise NotFound("membership.not_pending")
    return JoinRequest(membership, await view_volunteer(uow, actor, volunteer_id), org)


async def decide_join_request(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    volunteer_id: int,
    org_id: int,
    *,
    approve: bool,
    reason: str = "",
) -> Membership:
    membership = await decide_membership(
        uow, clock, actor, volunteer_id, org_id, approve=approve, reason=reason
    )
    volunteer = await uow.volunteers.get(volunteer_id)
    org = await uow.orgs.get(org_id)
    if volunteer is not None and membership.decided_at is not None:
        # A refused volunteer may ask again: each decision is its own notice.
        await enqueue(
            uow,
            clock,
            f"membership-decided:{membership.id}:{membership.decided_at.isoformat()}",
            volunteer.user_id,
            "notice.membership_approved" if approve else "notice.membership_rejected",
            org=org.name if org else "",
            reason=membership.reason or "",
        )
    return membership
