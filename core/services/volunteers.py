from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.actions import Profile
from core.domain.codes import IdType, ProfessionalField, Qualification, ServiceContent
from core.domain.identity_numbers import (
    age_on,
    mask_id_number,
    mask_phone,
    normalise_mobile,
    parse_resident_id,
)
from core.domain.people import Actor, Consent, ConsentKind
from core.domain.volunteer import (
    EARLIEST_BIRTH,
    Membership,
    MembershipStatus,
    Volunteer,
    VolunteerStatus,
    plausible_region,
    volunteer_number,
)
from core.errors import Conflict, InvalidInput, NotEligible, NotFound, PermissionDenied
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import audit, may_see_private_data, require_staff
from core.services.notices import enqueue

NAME_MAX = 40
_NAME_SEPARATORS = frozenset(" ·・•‧.'-’")  # 阿依古丽·买买提, O'Neil, Jean-Luc


_NUMBER = re.compile(r"[0-9]{3}")


def plausible_name(name: str) -> bool:
    """2-7.1: a real name: letters of any script, their marks, digits, spaces and the separators names
    use. Not a number (three digits in a row: a phone number typed at the name question was kept as
    the name), no emoji or other symbols, and no control or direction characters (a right-to-left
    override would show staff another name than the one stored)."""
    if _NUMBER.search(unicodedata.normalize("NFKC", name)):
        return False
    return all(unicodedata.category(ch)[0] in "LMN" or ch in _NAME_SEPARATORS for ch in name)


async def give_consent(
    uow: UnitOfWork,
    clock: Clock,
    user_id: int,
    kind: ConsentKind,
    *,
    policy: Policy,
    details: dict[str, Any] | None = None,
) -> Consent:
    current = await uow.consents.active(user_id, kind)
    if current is not None:
        return current
    if kind is ConsentKind.GUARDIAN:
        details = dict(details or {})
        if not str(details.get("guardian_name", "")).strip():
            raise InvalidInput("consent.guardian.name_required")
        details["guardian_phone"] = normalise_mobile(str(details.get("guardian_phone", "")))
    consent = Consent(
        user_id=user_id,
        kind=kind,
        granted_at=clock.now(),
        notice_version=policy.privacy_notice_version,
        details=details or {},
    )
    return await uow.consents.add(consent)


async def withdraw_consent(uow: UnitOfWork, clock: Clock, user_id: int, kind: ConsentKind) -> Consent:
    """Withdrawal is always possible; what it stops (check-in by location, sharing) is checked where used."""
    current = await uow.consents.active(user_id, kind)
    if current is None:
        raise NotFound("consent.not_given")
    current.withdrawn_at = clock.now()
    await audit(uow, clock, Actor(user_id=user_id), "consent.withdraw", "user", user_id, kind=kind)
    return current


@dataclass(frozen=True)
class RegistrationForm:
    """2-7.1: what a volunteer gives when registering."""

    name: str
    phone: str
    region: str
    skills: tuple[str, ...] = ()
    service_areas: tuple[str, ...] = ()
    birth_date: date | None = None
    id_type: IdType | None = None
    id_number: str | None = None
    qualifications: tuple[str, ...] = ()


def check_birth_date(birth: date | None, today: date) -> None:
    """A birth date from 1900-01-01 to today (the volunteer's today); the refusal names the range."""
    if birth is not None and not (EARLIEST_BIRTH <= birth <= today):
        raise InvalidInput(
            "volunteer.birth_date.range", earliest=EARLIEST_BIRTH.isoformat(), latest=today.isoformat()
        )


def _region(text: str) -> str:
    region = plausible_region(text)
    if region is None:
        raise InvalidInput("volunteer.region")
    return region


def _codes(values: tuple[str, ...], table: type[Any], key: str) -> list[str]:
    unknown = [v for v in values if v not in table._value2member_map_]
    if unknown:
        raise InvalidInput(key, value=unknown[0])
    return list(dict.fromkeys(values))


async def register_volunteer(
    uow: UnitOfWork, clock: Clock, user_id: int, form: RegistrationForm, *, policy: Policy
) -> Volunteer:
    # 2-7.1: explicit consent to the privacy notice before any personal data is stored.
    if await uow.consents.active(user_id, ConsentKind.PRIVACY_NOTICE) is None:
        raise NotEligible("volunteer.consent.privacy_required")
    if await uow.volunteers.by_user(user_id) is not None:
        raise Conflict("volunteer.already_registered")
    name = " ".join(form.name.split())
    if not name or len(name) > NAME_MAX or not plausible_name(name):
        raise InvalidInput("volunteer.name", max=NAME_MAX)
    phone = normalise_mobile(form.phone)
    birth = form.birth_date
    id_number = form.id_number.strip().upper() if form.id_number else None
    if id_number:
        if await uow.consents.active(user_id, ConsentKind.ID_NUMBER) is None:
            raise NotEligible("volunteer.consent.id_number_required")
        if form.id_type in (None, IdType.RESIDENT_ID):
            id_number, born = parse_resident_id(id_number)
            if birth is not None and birth != born:
                raise InvalidInput("volunteer.birth_date.mismatch")
            birth = born
    today = (
        clock.now().astimezone(ZoneInfo(policy.default_timezone)).date()
    )  # the volunteer's today, not UTC's
    check_birth_date(birth, today)
    # PIPL art. 31: a guardian consents for a child before the child's data is stored.
    if (
        birth is not None
        and age_on(birth, today) < policy.guardian_consent_age
        and await uow.consents.active(user_id, ConsentKind.GUARDIAN) is None
    ):
        raise NotEligible("volunteer.consent.guardian_required", age=policy.guardian_consent_age)
    volunteer = Volunteer(
        user_id=user_id,
        name=name,
        phone=phone,
        registered_at=clock.now(),
        region=_region(form.region),
        id_type=(form.id_type or IdType.RESIDENT_ID) if id_number else None,
        id_number=id_number,
        birth_date=birth,
        skills=_codes(form.skills, ProfessionalField, "volunteer.skill.unknown"),
        service_areas=_codes(form.service_areas, ServiceContent, "volunteer.area.unknown"),
        qualifications=_codes(form.qualifications, Qualification, "volunteer.qualification.unknown"),
    )
    await uow.volunteers.add(volunteer)
    assert volunteer.id is not None
    volunteer.volunteer_number = volunteer_number(volunteer.id, volunteer.registered_at)
    await audit(uow, clock, Actor(user_id=user_id), "volunteer.register", "volunteer", volunteer.id)
    return volunteer


async def request_membership(uow: UnitOfWork, clock: Clock, actor: Actor, org_id: int) -> Membership:
    if actor.volunteer_id is None:
        raise NotEligible("volunteer.not_registered")
    org = await uow.orgs.get(org_id)
    if org is None or not org.active:
        raise NotFound("org.not_found")
    existing = await uow.memberships.get(actor.volunteer_id, org_id)
    if existing is not None and existing.status in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
        return existing
    status = MembershipStatus.PENDING if org.join_requires_approval else MembershipStatus.ACTIVE
    decided_at = None if status is MembershipStatus.PENDING else clock.now()
    if existing is not None:
        # One row per volunteer and org: a refused or former member asks again on it; the audit keeps the past.
        membership = existing
        membership.status, membership.requested_at, membership.decided_at = status, clock.now(), decided_at
        membership.decided_by = membership.reason = None
    else:
        membership = Membership(
            volunteer_id=actor.volunteer_id,
            org_id=org_id,
            status=status,
            requested_at=clock.now(),
            decided_at=decided_at,
        )
        await uow.memberships.add(membership)
    await audit(
        uow, clock, actor, "membership.request", "org", org_id, volunteer_id=actor.volunteer_id, status=status
    )
    return membership


async def decide_membership(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    volunteer_id: int,
    org_id: int,
    *,
    approve: bool,
    reason: str = "",
) -> Membership:
    await require_staff(uow, actor, org_id)
    membership = await uow.memberships.get(volunteer_id, org_id)
    if membership is None or membership.status is not MembershipStatus.PENDING:
        raise NotFound("membership.not_pending")
    if not approve and not reason.strip():
        raise InvalidInput("membership.reason_required")
    membership.status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
    membership.decided_at = clock.now()
    membership.decided_by = actor.user_id
    membership.reason = reason.strip() or None
    await audit(
        uow,
        clock,
        actor,
        "membership.decide",
        "org",
        org_id,
        reason or None,
        volunteer_id=volunteer_id,
        approve=approve,
    )
    return membership


async def transfer_volunteer(
    uow: UnitOfWork, clock: Clock, actor: Actor, volunteer_id: int, from_org: int, to_org: int, reason: str
) -> Membership:
    """2-6.2 e: leave one org for another (e.g. graduates); the history stays with both."""
    await require_staff(uow, actor, from_org)
    current = await uow.memberships.get(volunteer_id, from_org)
    if current is None or current.status is not MembershipStatus.ACTIVE:
        raise NotFound("membership.not_active")
    target = await uow.orgs.get(to_org)
    if target is None or not target.active:
        raise NotFound("org.not_found")
    current.status = MembershipStatus.LEFT
    current.decided_at = clock.now()
    current.reason = reason.strip() or None
    # The receiving org admits the volunteer as it admits anyone: at once, or after its staff
    # approve (join_requires_approval), like a request to join.
    status = MembershipStatus.PENDING if target.join_requires_approval else MembershipStatus.ACTIVE
    moved = await uow.memberships.get(volunteer_id, to_org)
    if moved is None:
        moved = await uow.memberships.add(
            Membership(volunteer_id=volunteer_id, org_id=to_org, status=status, requested_at=clock.now())
        )
    else:
        moved.status = status
        moved.requested_at = clock.now()
    moved.decided_at = clock.now() if status is MembershipStatus.ACTIVE else None
    await audit(
        uow,
        clock,
        actor,
        "volunteer.transfer",
        "volunteer",
        volunteer_id,
        reason,
        from_org=from_org,
        to_org=to_org,
    )
    return moved


async def clear_volunteer(
    uow: UnitOfWork, clock: Clock, actor: Actor, volunteer_id: int, reason: str
) -> Volunteer:
    """2-6.2 f: exit with a reason; the profile and every record of service are kept."""
    volunteer = await uow.volunteers.get(volunteer_id)
    if volunteer is None:
        raise NotFound("volunteer.not_found")
    if actor.volunteer_id != volunteer_id and not await may_see_private_data(uow, actor, volunteer_id):
        raise PermissionDenied("access.not_staff")
    if not reason.strip():
        raise InvalidInput("volunteer.clear.reason_required")
    volunteer.status = VolunteerStatus.CLEARED
    volunteer.status_reason = reason.strip()
    for membership in await uow.memberships.for_volunteer(volunteer_id):
        if membership.status in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
            membership.status = MembershipStatus.LEFT
            membership.decided_at = clock.now()
    await audit(uow, clock, actor, "volunteer.clear", "volunteer", volunteer_id, reason)
    return volunteer


async def record_qualification(
    uow: UnitOfWork, clock: Clock, actor: Actor, volunteer_id: int, qualification: str, *, held: bool
) -> Volunteer:
    """3-6.1.3.1: a qualification goes on record when staff have seen the certificate (the volunteer
    shows it, with their volunteer number, to the organizer of the activity that needs it); staff
    of any org and admins may record one, or take it off when it lapses. Every change is in the
    audit log with who made it, and the volunteer is told."""
    if not actor.is_staff:
        raise PermissionDenied("access.not_staff")
    if actor.volunteer_id == volunteer_id:
        # On record means someone else checked the certificate: not even staff vouch for themselves.
        raise PermissionDenied("volunteer.qualification.own_record")
    code = _codes((qualification,), Qualification, "volunteer.qualification.unknown")[0]
    volunteer = await uow.volunteers.get(volunteer_id)
    if volunteer is None or not volunteer.active:
        raise NotFound("volunteer.not_found")
    if (code in volunteer.qualifications) == held:
        return volunteer  # already so: a second press of the same button changes nothing
    if held:
        volunteer.qualifications = [*volunteer.qualifications, code]
    else:
        volunteer.qualifications = [q for q in volunteer.qualifications if q != code]
    await audit(
        uow,
        clock,
        actor,
        "volunteer.qualification.record" if held else "volunteer.qualification.withdraw",
        "volunteer",
        volunteer_id,
        qualification=code,
        staff_of=sorted(actor.staff_of),
    )
    await enqueue(
        uow,
        clock,
        f"qualification:{volunteer_id}:{code}:{'on' if held else 'off'}:{clock.now().isoformat()}",
        volunteer.user_id,
        "notice.qualification.recorded" if held else "notice.qualification.withdrawn",
        choices=[("chat.menu.profile", Profile().pack())],
    )
    return volunteer


async def _staff_above(uow: UnitOfWork, actor: Actor, volunteer_id: int) -> bool:
    """Staff of a parent org read its sub-orgs' volunteers (1-6.1), and a former org its former
    members (2-6.2 e: history kept), masked. An org that refused the volunteer reads nothing."""
    for membership in await uow.memberships.for_volunteer(volunteer_id):
        if membership.status is MembershipStatus.REJECTED:
            continue
        if actor.staff_of.intersection({membership.org_id, *await uow.orgs.ancestor_ids(membership.org_id)}):
            return True
    return False


@dataclass(frozen=True)
class VolunteerView:
    """What one actor may see of a volunteer: phone and ID masked unless allowed in full."""

    id: int
    volunteer_number: str | None
    name: str
    phone: str
    id_number: str | None
    region: str
    skills: tuple[str, ...]
    service_areas: tuple[str, ...]
    status: VolunteerStatus


async def view_volunteer(uow: UnitOfWork, actor: Actor, volunteer_id: int) -> VolunteerView:
    volunteer = await uow.volunteers.get(volunteer_id)
    if volunteer is None:
        raise NotFound("volunteer.not_found")
    full = await may_see_private_data(uow, actor, volunteer_id)
    if not full and not await _staff_above(uow, actor, volunteer_id):
        raise PermissionDenied("access.not_staff")
    assert volunteer.id is not None
    return VolunteerView(
        id=volunteer.id,
        volunteer_number=volunteer.volunteer_number,
        name=volunteer.name,
        phone=volunteer.phone if full else mask_phone(volunteer.phone),
        id_number=(volunteer.id_number if full else mask_id_number(volunteer.id_number))
        if volunteer.id_number
        else None,
        region=volunteer.region,
        skills=tuple(volunteer.skills),
        service_areas=tuple(volunteer.service_areas),
        status=volunteer.status,
    )


EDITABLE_PROFILE = ("name", "phone", "region", "skills", "service_areas")


async def update_profile(uow: UnitOfWork, clock: Clock, actor: Actor, changes: dict[str, Any]) -> Volunteer:
    """2-7.1: a volunteer corrects their own data; every change is kept in the audit log (1-6.5)."""
    if actor.volunteer_id is None:
        raise NotEligible("volunteer.not_registered")
    volunteer = await uow.volunteers.get(actor.volunteer_id)
    assert volunteer is not None
    unknown = set(changes) - set(EDITABLE_PROFILE)
    if unknown:
        raise InvalidInput("volunteer.field.unknown", field=sorted(unknown)[0])
    if "name" in changes:
        name = " ".join(str(changes["name"]).split())
        if not name or len(name) > NAME_MAX or not plausible_name(name):
            raise InvalidInput("volunteer.name", max=NAME_MAX)
        volunteer.name = name
    if "phone" in changes:
        volunteer.phone = normalise_mobile(str(changes["phone"]))
    if "region" in changes:
        volunteer.region = _region(str(changes["region"]))
    if "skills" in changes:
        volunteer.skills = _codes(tuple(changes["skills"]), ProfessionalField, "volunteer.skill.unknown")
    if "service_areas" in changes:
        volunteer.service_areas = _codes(
            tuple(changes["service_areas"]), ServiceContent, "volunteer.area.unknown"
        )
    await audit(uow, clock, actor, "volunteer.update", "volunteer", volunteer.id, fields=sorted(changes))
    return volunteer
