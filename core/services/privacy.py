"""A person's rights over their personal data (PIPL arts. 44–47): to see and copy everything kept about
them, and to leave. Leaving erases or anonymises the person while the records of service stay, without
them, for the ten years 4-5.4 asks."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from core.domain.people import Actor
from core.domain.signup import LIVE
from core.errors import NotFound
from core.ports import Clock, UnitOfWork
from core.services.access import audit
from core.services.signups import cancel_signup
from core.services.volunteers import clear_volunteer

# What a volunteer who left is called in the records that stay (exports, rosters, the audit log).
ERASED_NAME = "已注销"
ERASED_REASON = "pipl.erased"


def _plain(item: Any) -> dict[str, Any]:
    """A domain object's fields, as kept."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    raise TypeError(f"not JSON: {type(value).__name__}")


async def personal_data(uow: UnitOfWork, clock: Clock, actor: Actor) -> dict[str, Any]:
    """PIPL art. 45: everything kept about the caller, in full (their own phone and ID number too)."""
    user_id = actor.user_id
    user = None if user_id is None else await uow.users.get(user_id)
    if user_id is None or user is None:
        raise NotFound("privacy.nothing_kept")
    data: dict[str, Any] = {
        "user": _plain(user),
        "channel_identities": [_plain(i) for i in await uow.identities.for_user(user_id)],
        "consents": [_plain(c) for c in await uow.consents.for_user(user_id)],
        "needs": [_plain(n) for n in await uow.needs.for_user(user_id)],
        "feedback": [_plain(f) for f in await uow.feedback.for_user(user_id)],
        "messages_sent_to_you": [
            {"key": n.key, "due_at": n.due_at, "sent_at": n.sent_at, "withdrawn_at": n.withdrawn_at}
            for n in await uow.notices.for_user(user_id)
        ],
    }
    volunteer = await uow.volunteers.by_user(user_id)
    if volunteer is not None and volunteer.id is not None:
        signups = await uow.signups.for_volunteer(volunteer.id)
        attendances = [await uow.attendances.for_signup(s.id or 0) for s in signups]
        data |= {
            "volunteer": _plain(volunteer),
            "memberships": [_plain(m) for m in await uow.memberships.for_volunteer(volunteer.id)],
            "signups": [_plain(s) for s in signups],
            "attendances": [_plain(a) for a in attendances if a is not None],
            "service_records": [_plain(r) for r in await uow.records.for_volunteer(volunteer.id)],
            "makeup_requests": [_plain(m) for m in await uow.makeups.for_volunteer(volunteer.id)],
            "certificates": [
                {k: v for k, v in _plain(c).items() if k != "snapshot"}
                for c in await uow.certificates.for_volunteer(volunteer.id)
            ],
            "audit_log": [
                {"at": e.at, "action": e.action, "reason": e.reason, "details": e.details}
                for e in await uow.audit.for_entity("volunteer", volunteer.id)
            ],
        }
    await audit(uow, clock, actor, "privacy.export", "user", user_id)
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_value).encode()


@dataclasses.dataclass(frozen=True)
class Departure:
    cancelled_signups: int
    erased_identities: int
    records_kept: int


async def leave(uow: UnitOfWork, clock: Clock, actor: Actor) -> Departure:
    """PIPL art. 47: the person asks to leave. Their profile is erased (name, phone, ID number, birth
    date, region, fields), their consents withdrawn, their coming sign-ups cancelled (the waitlist moves
    up), messages not yet sent withdrawn, and their chat accounts unlinked, so that writing again starts
    afresh. Records of service, certificates and the audit log stay (4-5.4: ≥ 10 years), tied to the
    volunteer number only."""
    now = clock.now()
    user_id = actor.user_id
    user = None if user_id is None else await uow.users.get(user_id)
    if user_id is None or user is None:
        raise NotFound("privacy.nothing_kept")
    cancelled = kept = 0
    volunteer = await uow.volunteers.by_user(user_id)
    if volunteer is not None and volunteer.id is not None:
        for signup in await uow.signups.for_volunteer(volunteer.id):
            activity = await uow.activities.get(signup.activity_id)
            if signup.status in LIVE and activity is not None and activity.starts_at > now:
                await cancel_signup(uow, clock, actor, signup.id or 0)
                cancelled += 1
            attendance = await uow.attendances.for_signup(signup.id or 0)
            if attendance is not None:  # PIPL art. 28: the distance and the result stay, not the point
                attendance.forget_coordinates()
        kept = len(await uow.records.for_volunteer(volunteer.id))
        # 2-6.2 f: an exit, as staff record one (memberships end, records stay, audited); then erased.
        await clear_volunteer(uow, clock, actor, volunteer.id, ERASED_REASON)
        volunteer.name = ERASED_NAME
        volunteer.phone = ""
        volunteer.id_type = None
        volunteer.id_number = None
        volunteer.birth_date = None
        volunteer.region = ""
        volunteer.skills = []
        volunteer.service_areas = []
        volunteer.qualifications = []
    for consent in await uow.consents.for_user(user_id):
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
    for need in await uow.needs.for_user(user_id):
        need.requester = ERASED_NAME
        need.phone = ""
    for notice in await uow.notices.for_user(user_id):
        notice.withdraw(now)
    user.display_name = ""
    user.recruitment_off = True
    erased = await uow.identities.remove_for_user(user_id)
    await audit(uow, clock, actor, "privacy.leave", "user", user_id, volunteer_id=volunteer and volunteer.id)
    return Departure(cancelled_signups=cancelled, erased_identities=erased, records_kept=kept)
