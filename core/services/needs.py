"""3-6.1.1: needs are sent in by anyone (no registration), reviewed before they are published, then
taken by an org that arranges the service; the requester hears of every decision."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.actions import ShowNeed
from core.domain.activity import Activity
from core.domain.codes import ActivityMode, ProfessionalField, ServiceContent, ServiceObject
from core.domain.need import (
    DESCRIPTION_MAX,
    PLACE_MAX,
    REQUESTER_MAX,
    TIME_MAX,
    Need,
    NeedStatus,
    check_text,
    normalise_contact_phone,
)
from core.domain.organization import Organization
from core.domain.people import Actor, ConsentKind
from core.errors import InvalidInput, NotEligible, NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork
from core.services.access import audit
from core.services.notices import enqueue, local, tell_staff

LIST_LIMIT = 20


@dataclass(frozen=True)
class NeedForm:
    """What a requester gives (3-6.1.1: volunteers needed, expertise, mode, form, time, place)."""

    requester: str
    phone: str
    description: str
    service_content: str
    service_objects: tuple[str, ...]
    volunteers_needed: int
    mode: str
    preferred_time: str
    place: str = ""
    expertise: tuple[str, ...] = ()
    org_id: int | None = None


async def addressable_org(uow: UnitOfWork, org_id: int) -> Organization:
    """An org a need may be addressed to: one that exists and is approved."""
    org = await uow.orgs.get(org_id)
    if org is None or not org.active:
        raise NotFound("org.not_found")
    return org


async def submit_need(uow: UnitOfWork, clock: Clock, user_id: int, form: NeedForm) -> Need:
    # The contact is personal data: the privacy notice is agreed to before it is stored.
    if await uow.consents.active(user_id, ConsentKind.PRIVACY_NOTICE) is None:
        raise NotEligible("need.consent_required")
    if form.service_content not in ServiceContent._value2member_map_:
        raise InvalidInput("need.content.invalid")
    if form.mode not in ActivityMode._value2member_map_:
        raise InvalidInput("need.mode.invalid")
    unknown = [o for o in form.service_objects if o not in ServiceObject._value2member_map_]
    unknown += [e for e in form.expertise if e not in ProfessionalField._value2member_map_]
    if unknown:
        raise InvalidInput("need.code.invalid", value=unknown[0])
    org = await addressable_org(uow, form.org_id) if form.org_id is not None else None
    mode = ActivityMode(form.mode)
    need = Need(
        user_id=user_id,
        requester=check_text(form.requester, REQUESTER_MAX, "need.requester.invalid"),
        phone=normalise_contact_phone(form.phone),
        description=check_text(form.description, DESCRIPTION_MAX, "need.description.invalid"),
        service_content=ServiceContent(form.service_content),
        service_objects=list(dict.fromkeys(form.service_objects)),
        volunteers_needed=form.volunteers_needed,
        expertise=list(dict.fromkeys(form.expertise)),
        mode=mode,
        preferred_time=check_text(form.preferred_time, TIME_MAX, "need.time.invalid"),
        place="" if mode is ActivityMode.ONLINE else check_text(form.place, PLACE_MAX, "need.place.invalid"),
        created_at=clock.now(),
        org_id=org.id if org else None,
    )
    need.check()
    need = await uow.needs.add(need)
    await audit(uow, clock, Actor(user_id=user_id), "need.submit", "need", need.id, org_id=need.org_id)
    if org is not None and org.id is not None:
        await _tell_staff(uow, clock, need, org.id)
    return need


async def _tell_staff(uow: UnitOfWork, clock: Clock, need: Need, org_id: int) -> None:
    """The addressed org's staff hear of a new need to review."""
    assert need.id is not None
    await tell_staff(
        uow,
        clock,
        [org_id],
        f"need-submitted:{need.id}",
        "notice.need_submitted",
        choices=[("chat.need.button.review", ShowNeed(need.id).pack())],
        number=need.id,
        requester=need.requester,
    )


def may_review(actor: Actor, need: Need) -> bool:
    """Staff of the addressed org; any org's staff when none is addressed; admins always."""
    if actor.admin:
        return True
    return need.org_id in actor.staff_of if need.org_id is not None else bool(actor.staff_of)


def orgs_that_may_take(actor: Actor, need: Need) -> list[int]:
    """The orgs in whose name this actor may take the need."""
    if need.org_id is not None:
        return [need.org_id] if actor.admin or need.org_id in actor.staff_of else []
    return sorted(actor.staff_of)


def may_see_contact(actor: Actor, need: Need) -> bool:
    """The full phone is shown only to those arranging the service: the org that took it, admins."""
    return actor.admin or (need.taken_by_org is not None and need.taken_by_org in actor.staff_of)


async def open_needs(uow: UnitOfWork, actor: Actor) -> list[Need]:
    if actor.admin:
        return await uow.needs.open_for_orgs(None, LIST_LIMIT)
    if not actor.staff_of:
        raise PermissionDenied("access.not_staff")
    return await uow.needs.open_for_orgs(sorted(actor.staff_of), LIST_LIMIT)


async def need_for_staff(uow: UnitOfWork, actor: Actor, need_id: int, *, lock: bool = False) -> Need:
    need = await (uow.needs.get_for_update(need_id) if lock else uow.needs.get(need_id))
    if need is None:
        raise NotFound("need.not_found")
    if not (
        may_review(actor, need) or (need.taken_by_org is not None and need.taken_by_org in actor.staff_of)
    ):
        raise PermissionDenied("need.not_reviewer")
    return need


async def decide_need(
    uow: UnitOfWork, clock: Clock, actor: Actor, need_id: int, *, approve: bool, reason: str = ""
) -> Need:
    need = await need_for_staff(uow, actor, need_id, lock=True)
    if not may_review(actor, need):
        raise PermissionDenied("need.not_reviewer")
    if approve:
        need.approve(actor.user_id, clock.now())
    else:
        need.reject(actor.user_id, clock.now(), reason)
    await audit(
        uow, clock, actor, "need.approve" if approve else "need.reject", "need", need.id, need.status_reason
    )
    await enqueue(
        uow,
        clock,
        f"need-reviewed:{need.id}",
        need.user_id,
        "notice.need_approved" if approve else "notice.need_rejected",
        number=need.id,
        reason=need.status_reason or "",
    )
    return need


async def take_need(uow: UnitOfWork, clock: Clock, actor: Actor, need_id: int, org_id: int) -> Need:
    """An approved need is taken by one org, which then arranges the service with the requester."""
    need = await need_for_staff(uow, actor, need_id, lock=True)
    if org_id not in orgs_that_may_take(actor, need):
        raise PermissionDenied("need.not_taker")
    org = await addressable_org(uow, org_id)
    need.take(org_id, clock.now())
    await audit(uow, clock, actor, "need.take", "need", need.id, org_id=org_id)
    await enqueue(
        uow,
        clock,
        f"need-taken:{need.id}",
        need.user_id,
        "notice.need_taken",
        number=need.id,
        org=org.name,
    )
    return need


async def close_need(uow: UnitOfWork, clock: Clock, actor: Actor, need_id: int) -> Need:
    """The org that took it closes it once the service is arranged or done."""
    need = await need_for_staff(uow, actor, need_id, lock=True)
    if not (actor.admin or (need.taken_by_org is not None and need.taken_by_org in actor.staff_of)):
        raise PermissionDenied("need.not_taker")
    need.close(clock.now())
    await audit(uow, clock, actor, "need.close", "need", need.id)
    await enqueue(uow, clock, f"need-closed:{need.id}", need.user_id, "notice.need_closed", number=need.id)
    return need


# ---- from a taken need to an activity (3-6.1.2) ---------------------------------------------------

# Audit action on the need (details: activity) and on the activity (details: need); no dot: not a message key.
PLANNED = "need_plan"


async def plannable_need(uow: UnitOfWork, actor: Actor, need_id: int) -> Need:
    """A need the actor's org took, to be planned as an activity."""
    need = await need_for_staff(uow, actor, need_id)
    if need.status is not NeedStatus.TAKEN:
        raise NotEligible("matching.need_not_taken", number=need.id)
    if not may_see_contact(actor, need):
        raise PermissionDenied("need.not_taker")
    return need


async def link_activity(uow: UnitOfWork, clock: Clock, actor: Actor, need_id: int, activity_id: int) -> None:
    """The activity made from the need: kept in the audit log both ways (no column for it)."""
    need = await plannable_need(uow, actor, need_id)
    await audit(uow, clock, actor, PLANNED, "need", need.id, activity=activity_id)
    await audit(uow, clock, actor, PLANNED, "activity", activity_id, need=need.id)


async def activity_of_need(uow: UnitOfWork, need_id: int) -> int | None:
    """The latest activity planned from the need, if any."""
    entries = [e for e in await uow.audit.for_entity("need", need_id) if e.action == PLANNED]
    return int(entries[-1].details["activity"]) if entries else None


async def tell_requester_scheduled(uow: UnitOfWork, clock: Clock, activity: Activity) -> int:
    """The activity planned from a need is published: the requester hears when and where, once."""
    assert activity.id is not None
    told = 0
    for entry in await uow.audit.for_entity("activity", activity.id):
        if entry.action != PLANNED or "need" not in entry.details:
            continue
        need = await uow.needs.get(int(entry.details["need"]))
        if need is None:
            continue
        told += await enqueue(
            uow,
            clock,
            f"need-scheduled:{need.id}:{activity.id}",
            need.user_id,
            "notice.need_scheduled",
            number=need.id,
            title=activity.title,
            start=local(activity.starts_at, activity.timezone),
            place=" ".join(p for p in (activity.place_name, activity.address) if p)
            or activity.online_url
            or "-",
            org=await uow.orgs.name_of(activity.org_id) or "",
        )
    return told
