"""2-8.2, 5-5.4.1: feedback is collected, answered by the staff of the org it concerns, and closed."""

from __future__ import annotations

from core.domain.dialog import Feedback
from core.domain.people import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.ports import Clock, UnitOfWork
from core.services.access import audit
from core.services.notices import enqueue

REPLY_MAX = 2000
EXCERPT = 40


def _may_answer(actor: Actor, item: Feedback) -> bool:
    # Feedback tied to no org (sent before joining one) is answered by the platform.
    return actor.admin or (item.org_id is not None and item.org_id in actor.staff_of)


async def open_feedback(uow: UnitOfWork, actor: Actor, limit: int = 10) -> list[Feedback]:
    """Unanswered feedback this actor answers: their orgs' for staff, all for an admin."""
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
        "notice.feedback_reply",
        number=item.id,
        question=excerpt(item.text),
        reply=reply,
    )
    return item


def excerpt(text: str, length: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
