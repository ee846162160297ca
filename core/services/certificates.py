"""4-5.5: the service-record certificate (志愿服务记录证明), free and truthful, on request, with a number a
third party verifies at <public url>/verify/<number>. The register keeps what each certificate said.
2-7.4: the training certificate (科技志愿培训证明) lists the trainings completed, in the same register."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain.attendance import RecordStatus
from core.domain.certificate import (
    Certificate,
    CertificateKind,
    CertificateLine,
    CertificateSnapshot,
    CertificateStatus,
    new_certificate_number,
)
from core.domain.identity_numbers import mask_id_number
from core.domain.people import Actor
from core.domain.volunteer import MembershipStatus
from core.errors import Conflict, InvalidInput, NotEligible, NotFound
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import audit, require_admin

REVOKE_REASON_MAX = 500


async def issue_certificate(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    actor: Actor,
    kind: CertificateKind = CertificateKind.SERVICE,
) -> Certificate:
    """A snapshot of the volunteer's confirmed hours now: service hours, or (TRAINING) the trainings
    completed; none before any hours are confirmed. Asked again with nothing changed the same day,
    the certificate already issued is given again rather than a second number."""
    if actor.volunteer_id is None:
        raise NotEligible("volunteer.not_registered")
    volunteer = await uow.volunteers.get(actor.volunteer_id)
    assert volunteer is not None and volunteer.id is not None
    now = clock.now()
    today = now.astimezone(ZoneInfo(policy.default_timezone)).date()
    lines = []
    for record in await uow.records.for_volunteer(volunteer.id):
        if record.status is not RecordStatus.CONFIRMED:
            continue  # only confirmed hours count anywhere
        activity = await uow.activities.read(record.activity_id)
        assert activity is not None
        if (activity.training_kind is not None) != (kind is CertificateKind.TRAINING):
            continue  # 2-7.4: training hours are not service hours, and the other way round
        org = await uow.orgs.name_of(record.org_id) or ""
        lines.append(
            CertificateLine(
                activity.title, org, activity.start_day, record.credited_hours, activity.training_kind
            )
        )
    if kind is CertificateKind.TRAINING and not lines:
        raise NotEligible("trainings.cert.none")
    if kind is CertificateKind.SERVICE and not any(line.hours > 0 for line in lines):
        # 4-5.5: truthful; a certificate of no confirmed hours would prove nothing.
        raise NotEligible("cert.no_hours")
    lines.sort(key=lambda line: line.day)
    number = new_certificate_number(today)
    snapshot = CertificateSnapshot(
        number=number,
        volunteer_name=volunteer.name,
        masked_id_number=mask_id_number(volunteer.id_number) if volunteer.id_number else "",
        volunteer_number=volunteer.volunteer_number or "",
        period_start=lines[0].day if lines else None,
        period_end=lines[-1].day if lines else None,
        total_hours=sum((line.hours for line in lines), Decimal("0.0")),
        lines=tuple(lines),
        issuer=await _issuer(uow, policy, volunteer.id),
        issued_on=today,
        verify_url=f"{policy.public_url.rstrip('/')}/verify/{number}",
        kind=kind,
    )
    for earlier in reversed(await uow.certificates.for_volunteer(volunteer.id)):
        if earlier.verifies and _same(earlier.content, snapshot):
            return earlier
    certificate = Certificate(
        number=number, volunteer_id=volunteer.id, issued_at=now, snapshot=snapshot.as_json(), kind=kind
    )
    await uow.certificates.add(certificate)
    await audit(
        uow,
        clock,
        actor,
        "certificate.issue",
        "certificate",
        certificate.id,
        number=number,
        hours=str(snapshot.total_hours),
        kind=kind.value,
    )
    return certificate


def _same(earlier: CertificateSnapshot, now: CertificateSnapshot) -> bool:
    """Nothing on the certificate would differ but its number (and the link made of it)."""
    return replace(earlier, number=now.number, verify_url=now.verify_url) == now


async def _issuer(uow: UnitOfWork, policy: Policy, volunteer_id: int) -> str:
    """The org the volunteer first joined (its record keeper, 4-5.4), else the platform."""
    for membership in await uow.memberships.for_volunteer(volunteer_id):
        if membership.status is MembershipStatus.ACTIVE:
            name = await uow.orgs.name_of(membership.org_id)
            if name:
                return name
    return policy.certificate_issuer


async def verify_certificate(uow: UnitOfWork, number: str) -> Certificate | None:
    """What the /verify page shows; None for a number never issued."""
    number = number.strip().upper()
    if not number or len(number) > 32:
        return None
    return await uow.certificates.by_number(number)


async def revoke_certificate(
    uow: UnitOfWork, clock: Clock, actor: Actor, number: str, reason: str
) -> Certificate:
    """A certificate found wrong stops verifying; the reason is kept and shown (nothing is deleted)."""
    require_admin(actor)
    reason = reason.strip()
    if not reason or len(reason) > REVOKE_REASON_MAX:
        raise InvalidInput("cert.reason_required", max=REVOKE_REASON_MAX)
    certificate = await verify_certificate(uow, number)
    if certificate is None:
        raise NotFound("cert.not_found")
    if not certificate.verifies:
        raise Conflict("cert.revoked")
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = clock.now()
    certificate.revoke_reason = reason
    await audit(uow, clock, actor, "certificate.revoke", "certificate", certificate.id, reason)
    return certificate
