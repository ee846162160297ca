"""Reviews in chat for staff (1-5.4, 2-7.1): org applications under the orgs they run and requests to
join them. Approve at once; reject asks for the reason, which the applicant is told. Opening a card
or the list leaves that question: the next text is then no reason."""

from __future__ import annotations

from core.chat.forms import staff_only
from core.chat.messages import Choice, Input, Text
from core.chat.org_application import KINDS
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    Action,
    ApproveMember,
    ApproveOrg,
    Menu,
    RejectMember,
    RejectOrg,
    ReviewMember,
    ReviewOrg,
    Reviews,
)
from core.domain.organization import Organization, OrgStatus
from core.domain.volunteer import MembershipStatus
from core.errors import DomainError, InvalidInput
from core.services.reviews import (
    JoinRequest,
    decide_join_request,
    decide_org_application,
    join_request,
    org_application,
    pending_memberships,
    pending_org_applications,
)

router = Router()

REVIEW_REASON = "review_reason"
REASON_MAX = 500


def _back(turn: Turn) -> Choice:
    return turn.choice("chat.reviews.button.list", Reviews())


def _still_pending(turn: Turn, name: str, pending: bool, status_code: str) -> bool:
    """An old button pressed after the decision (by this reviewer or another) shows the outcome."""
    if not pending:
        turn.say("chat.reviews.already", _back(turn), name=name, status=turn.t(f"code.{status_code}"))
    return pending


def _org_pending(turn: Turn, org: Organization) -> bool:
    pending = org.status is OrgStatus.APPLIED
    return _still_pending(turn, org.name, pending, f"org_status.{org.status.value}")


def _member_pending(turn: Turn, request: JoinRequest) -> bool:
    status = request.membership.status
    return _still_pending(
        turn, request.volunteer.name, status is MembershipStatus.PENDING, f"membership_status.{status.value}"
    )


@router.command("reviews", button=Reviews)
@staff_only
async def show_reviews(turn: Turn, _: str = "") -> None:
    orgs = await pending_org_applications(turn.uow, turn.actor)
    requests = await pending_memberships(turn.uow, turn.actor)
    if not orgs and not requests:
        turn.say("chat.reviews.none", turn.choice("chat.button.menu", Menu()))
        return
    choices = [
        Choice(turn.label("chat.reviews.item.org", "name", name=o.name), ReviewOrg(o.id or 0).pack())
        for o in orgs
    ]
    for membership in requests:
        volunteer = await turn.uow.volunteers.get(membership.volunteer_id)
        org = await turn.uow.orgs.get(membership.org_id)
        label = turn.label(
            "chat.reviews.item.member",
            "org",
            name=volunteer.name if volunteer else "-",
            org=org.name if org else "-",
        )
        choices.append(Choice(label, ReviewMember(membership.volunteer_id, membership.org_id).pack()))
    choices.append(turn.choice("chat.button.menu", Menu()))
    turn.say("chat.reviews.title", *choices, orgs=len(orgs), members=len(requests))


# ---- org applications (1-5.4) -------------------------------------------------------------------


def _decisions(turn: Turn, approve: Action, reject: Action) -> tuple[Choice, Choice, Choice]:
    return (
        turn.choice("chat.reviews.button.approve", approve),
        turn.choice("chat.reviews.button.reject", reject),
        _back(turn),
    )


async def _pending_org(turn: Turn, org_id: int) -> Organization | None:
    """The application a button names, while it waits for a decision; None once the reviewer has
    been shown the decision already made."""
    turn.state.clear()
    org = await org_application(turn.uow, turn.actor, org_id)
    return org if _org_pending(turn, org) else None


@router.button(ReviewOrg)
async def show_org(turn: Turn, action: ReviewOrg) -> None:
    org = await _pending_org(turn, action.org_id)
    if org is None:
        return
    parent = await turn.uow.orgs.get(org.parent_id) if org.parent_id is not None else None
    turn.say(
        "chat.reviews.org.card",
        *_decisions(turn, ApproveOrg(action.org_id), RejectOrg(action.org_id)),
        columns=2,
        name=org.name,
        kind=turn.t(
            f"chat.orgapp.kind.{org.kind.value}" if org.kind in KINDS else f"code.org_kind.{org.kind.value}"
        ),
        parent=parent.name if parent else "-",
        field=org.service_field or "-",
        items=turn.join(turn.t(f"code.service_content.{i}") for i in org.service_items) or "-",
        requirements=org.requirements or "-",
        leader=org.leader_name,
        contact=org.leader_contact,
        members=org.member_count,
        applied=turn.local_time(org.created_at, org.timezone),
    )


@router.button(ApproveOrg)
async def approve_org(turn: Turn, action: ApproveOrg) -> None:
    org = await _pending_org(turn, action.org_id)
    if org is not None:
        await decide_org_application(turn.uow, turn.clock, turn.actor, action.org_id, approve=True)
        turn.say("chat.reviews.org.approved", _back(turn), name=org.name)


@router.button(RejectOrg)
async def reject_org(turn: Turn, action: RejectOrg) -> None:
    org = await _pending_org(turn, action.org_id)
    if org is not None:
        turn.state.start(REVIEW_REASON, "reason", kind="org", org_id=org.id)
        turn.say("chat.reviews.ask_reason", _back(turn), name=org.name)


# ---- requests to join an org (2-7.1) ------------------------------------------------------------


async def _pending_member(turn: Turn, volunteer_id: int, org_id: int) -> JoinRequest | None:
    """The request a button names, while it waits for a decision; None once the reviewer has been
    shown the decision already made."""
    turn.state.clear()
    request = await join_request(turn.uow, turn.actor, volunteer_id, org_id)
    return request if _member_pending(turn, request) else None


@router.button(ReviewMember)
async def show_member(turn: Turn, action: ReviewMember) -> None:
    request = await _pending_member(turn, action.volunteer_id, action.org_id)
    if request is None:
        return
    membership, volunteer = request.membership, request.volunteer
    turn.say(
        "chat.reviews.member.card",
        *_decisions(
            turn,
            ApproveMember(action.volunteer_id, action.org_id),
            RejectMember(action.volunteer_id, action.org_id),
        ),
        columns=2,
        name=volunteer.name,
        number=volunteer.volunteer_number or "-",
        phone=volunteer.phone,
        region=volunteer.region or "-",
        skills=turn.join(turn.t(f"code.skill.{s}") for s in volunteer.skills) or "-",
        areas=turn.join(turn.t(f"code.service_content.{a}") for a in volunteer.service_areas) or "-",
        org=request.org.name,
        requested=turn.local_time(membership.requested_at, request.org.timezone),
    )


@router.button(ApproveMember)
async def approve_member(turn: Turn, action: ApproveMember) -> None:
    request = await _pending_member(turn, action.volunteer_id, action.org_id)
    if request is not None:
        membership = request.membership
        await decide_join_request(
            turn.uow, turn.clock, turn.actor, membership.volunteer_id, membership.org_id, approve=True
        )
        turn.say(
            "chat.reviews.member.approved", _back(turn), name=request.volunteer.name, org=request.org.name
        )


@router.button(RejectMember)
async def reject_member(turn: Turn, action: RejectMember) -> None:
    request = await _pending_member(turn, action.volunteer_id, action.org_id)
    if request is not None:
        membership = request.membership
        turn.state.start(
            REVIEW_REASON,
            "reason",
            kind="member",
            volunteer_id=membership.volunteer_id,
            org_id=membership.org_id,
        )
        turn.say("chat.reviews.ask_reason", _back(turn), name=request.volunteer.name)


# ---- the reason of a rejection ------------------------------------------------------------------


@router.flow(REVIEW_REASON)
async def reason_step(turn: Turn, given: Input) -> None:
    data = turn.state.data
    if not turn.still_asked(_back(turn).payload):
        if data.get("kind") == "org":
            await show_org(turn, ReviewOrg(int(data["org_id"])))
        else:
            await show_member(turn, ReviewMember(int(data["volunteer_id"]), int(data["org_id"])))
        return
    reason = " ".join(given.text.split()) if isinstance(given, Text) else ""
    try:
        if not reason or len(reason) > REASON_MAX:
            raise InvalidInput("chat.reviews.reason.invalid", max=REASON_MAX)
    except InvalidInput as error:
        turn.refuse(error)
        turn.say("chat.reviews.ask_reason_again", _back(turn))
        return
    turn.state.clear()
    try:
        if data.get("kind") == "org":
            org = await decide_org_application(
                turn.uow, turn.clock, turn.actor, int(data["org_id"]), approve=False, reason=reason
            )
            turn.say("chat.reviews.org.rejected", _back(turn), name=org.name, reason=reason)
        else:
            volunteer_id, org_id = int(data["volunteer_id"]), int(data["org_id"])
            request = await join_request(turn.uow, turn.actor, volunteer_id, org_id)
            await decide_join_request(
                turn.uow, turn.clock, turn.actor, volunteer_id, org_id, approve=False, reason=reason
            )
            turn.say(
                "chat.reviews.member.rejected",
                _back(turn),
                name=request.volunteer.name,
                org=request.org.name,
                reason=reason,
            )
    except DomainError as error:
        # Decided meanwhile by someone else, or no longer allowed: nothing was written; say why.
        turn.refuse(error, _back(turn))
