"""2-8.2, 5-5.4.1: feedback is collected, answered by the staff of the org it concerns, and closed.
1-6.1.2 d, 1-8: a complaint (about an activity, a volunteer or an org) goes to the responsible org's
staff; unanswered past the response time it is escalated, once, to the org above, whose staff then see
and may answer it too. Its sender is told each step: received, escalated, answered."""

from __future__ import annotations

from datetime import timedelta

from core.domain.actions import FeedbackItem
from core.domain.dialog import Feedback
from core.domain.people import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.policy import Policy
from core.ports import Clock, UnitOfWork
from core.services.access import audit
from core.services.notices import enqueue, tell_staff

REPLY_MAX = 2000
TEXT_MAX = 2000
OPINION_MAX = 2000
EXCERPT = 40
OPINION, COMPLAINT = "opinion", "complaint"
ESCALATE_BATCH = 200  # per run of the job; the next run takes the rest


def _may_answer(actor: Actor, item: Feedback) -> bool:
    # Feedback tied to no org (sent before joining one) is answered by the platform; an escalated
    # complaint by the org it was escalated to as well (1-8).
    if actor.admin:
        return True
    return any(org is not None and org in actor.staff_of for org in (item.org_id, item.escalated_org_id))


async def open_feedback(uow: UnitOfWork, actor: Actor, limit: int = 10) -> list[Feedback]:
    """Unanswered feedback this actor answers: their orgs' for staff (with the complaints escalated to
    their orgs), all for an admin."""
    if actor.admin:
        return await uow.feedback.open_for_orgs(None, limit)
    if not actor.staff_of:
        raise PermissionDenied("access.not_staff")
    return await uow.feedback.open_for_orgs(sorted(actor.staff_of), limit)


async def feedback_for_staff(uow: UnitOfWork, actor: Actor, feedback_id: int) -> Feedback:
    item = await uow.feedback.get(feedback_id)
    if item is None:
        raise NotFound("feedback.not_found")
    if not _may_answer(actor, item):
        raise PermissionDenied("access.not_staff")
    return item


async def reply_to_feedback(
    uow: UnitOfWork, clock: Clock, actor: Actor, feedback_id: int, text: str
) -> Feedback:
    """The reply closes the item; its author is told the answer."""
    item = await feedback_for_staff(uow, actor, feedback_id)
    if not item.open:
        raise Conflict("feedback.already_replied", number=item.id)
    reply = text.strip()
    if not reply:
        raise InvalidInput("feedback.reply.empty")
    if len(reply) > REPLY_MAX:
        raise InvalidInput("feedback.reply.too_long", max=REPLY_MAX)
    item.reply, item.replied_by, item.replied_at = reply, actor.user_id, clock.now()
    await audit(uow, clock, actor, "feedback.reply", "feedback", item.id)
    await enqueue(
        uow,
        clock,
        f"feedback-reply:{item.id}",
        item.user_id,
        "notice.complaint_answered" if item.kind == COMPLAINT else "notice.feedback_reply",
        number=item.id,
        question=excerpt(item.text),
        reply=reply,
    )
    return item


async def send_feedback(uow: UnitOfWork, clock: Clock, actor: Actor, text: str) -> Feedback:
    """2-8.2: an opinion sent at any time; a volunteer's goes to the staff of their first org, anyone
    else's to the platform."""
    value = text.strip()
    if len(value) > OPINION_MAX:
        raise InvalidInput("chat.feedback.too_long", max=OPINION_MAX)
    assert actor.user_id is not None
    org_id = None
    if actor.volunteer_id is not None:
        memberships = await uow.memberships.for_volunteer(actor.volunteer_id)
        org_id = memberships[0].org_id if memberships else None
    return await uow.feedback.add(
        Feedback(user_id=actor.user_id, text=value, created_at=clock.now(), org_id=org_id)
    )


# ---- complaints (1-6.1.2 d, 1-8) ------------------------------------------------------------------


def check_text(text: str) -> str:
    value = text.strip()
    if not value:
        raise InvalidInput("complaint.empty")
    if len(value) > TEXT_MAX:
        raise InvalidInput("complaint.too_long", max=TEXT_MAX)
    return value


async def file_complaint(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    user_id: int,
    text: str,
    *,
    activity_id: int | None = None,
    volunteer_id: int | None = None,
    org_id: int | None = None,
) -> Feedback:
    """Anyone (a volunteer, or a beneficiary who never registered) complains about an activity, a
    volunteer at it, or an org. The org that organized the activity (else the one named) answers for
    it and its staff are told at once; with neither, the platform's admins answer it."""
    value = check_text(text)
    about: list[str] = []
    if activity_id is not None:
        activity = await uow.activities.read(activity_id)
        if activity is None:
            raise NotFound("activity.not_found")
        org_id = activity.org_id
        about.append(activity.title)
    if volunteer_id is not None:
        volunteer = await uow.volunteers.read(volunteer_id)
        if volunteer is None:
            raise NotFound("complaint.volunteer_not_found")
        about.append(volunteer.name)
    org_name = await uow.orgs.name_of(org_id) if org_id is not None else None
    if org_id is not None and org_name is None:
        raise NotFound("org.not_found")
    item = await uow.feedback.add(
        Feedback(
            user_id=user_id,
            text=value,
            created_at=clock.now(),
            org_id=org_id,
            kind=COMPLAINT,
            activity_id=activity_id,
            volunteer_id=volunteer_id,
        )
    )
    assert item.id is not None
    await audit(uow, clock, Actor(user_id=user_id), "complaint.file", "feedback", item.id, org_id=org_id)
    if org_id is not None:
        await tell_staff(
            uow,
            clock,
            [org_id],
            f"complaint:{item.id}",
            "notice.complaint_new",
            choices=[("complaint.button.open", FeedbackItem(item.id).pack())],
            number=item.id,
            org=org_name,
            about=" / ".join(about) or org_name,
            text=excerpt(value, 200),
            hours=policy.complaint_response_h,
        )
    return item


async def escalate_overdue(uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """1-8: a complaint its org has not answered within the response time goes, once, to the org
    above (a top-level org's to the platform's admins, who see every open item anyway). The staff
    above and the sender are told; the mark ``escalated_at`` keeps it from going twice."""
    now = clock.now()
    due = await uow.feedback.overdue_complaints(
        now - timedelta(hours=policy.complaint_response_h), ESCALATE_BATCH
    )
    for item in due:
        assert item.id is not None and item.org_id is not None
        org = await uow.orgs.get(item.org_id)
        parent_id = org.parent_id if org is not None else None
        item.escalated_at, item.escalated_org_id = now, parent_id
        await audit(uow, clock, Actor.system(), "complaint.escalate", "feedback", item.id, to_org=parent_id)
        parent_name = await uow.orgs.name_of(parent_id) if parent_id is not None else None
        if parent_id is not None:
            await tell_staff(
                uow,
                clock,
                [parent_id],
                f"complaint-escalated:{item.id}",
                "notice.complaint_escalated_staff",
                choices=[("complaint.button.open", FeedbackItem(item.id).pack())],
                number=item.id,
                org=org.name if org is not None else "-",
                hours=policy.complaint_response_h,
                text=excerpt(item.text, 200),
            )
        await enqueue(
            uow,
            clock,
            f"complaint-escalated-sender:{item.id}",
            item.user_id,
            "notice.complaint_escalated" if parent_name else "notice.complaint_escalated_platform",
            number=item.id,
            org=parent_name or "",
        )
    return len(due)


def excerpt(text: str, length: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
