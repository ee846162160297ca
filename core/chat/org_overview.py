"""组织概况: what an org and the teams below it count (1-6.1), and its star rating with the figures
behind every point (4-6.3.1). Staff see their own orgs and, read only, every org below them."""

from __future__ import annotations

from core.chat.forms import staff_only
from core.chat.messages import Choice
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import OrganizerMenu, Overview
from core.domain.organization import OrgStatus
from core.domain.stars import MIN_SATISFACTION_ANSWERS
from core.errors import PermissionDenied
from core.services.access import require_staff
from core.services.organizations import summarize_org
from core.services.stars import rate_org

router = Router()

MAX_LISTED = 30


@router.button(Overview, command="overview")
@staff_only
async def overview(turn: Turn, pressed: Overview) -> None:
    if pressed.org_id is not None:
        await _show(turn, pressed.org_id)
        return
    orgs = await turn.uow.orgs.list(OrgStatus.APPROVED)
    if not turn.actor.admin:
        orgs = [o for o in orgs if o.id in turn.actor.staff_of]
    else:
        orgs = [o for o in orgs if o.parent_id is None]  # an admin starts at the top and walks down
    if len(orgs) == 1 and orgs[0].id is not None:
        await _show(turn, orgs[0].id)
        return
    choices = [Choice(o.name, Overview(o.id).pack()) for o in orgs[:MAX_LISTED]]
    turn.say("stars.org.choose", *choices, turn.choice("chat.org.menu_button", OrganizerMenu()))


async def _show(turn: Turn, org_id: int) -> None:
    standing = await rate_org(turn.uow, turn.clock, turn.actor, org_id)
    summary = await summarize_org(turn.uow, turn.actor, org_id)
    figures, rating = standing.figures, standing.rating
    shown = {
        "volunteers": figures.volunteers,
        "hours": figures.hours,
        "activities": figures.activities,
        "satisfaction": figures.satisfaction if figures.satisfaction is not None else "-",
        "brand": figures.brands,
    }
    lines = [
        turn.t(
            "stars.org.title",
            name=standing.org.name,
            sub_orgs=summary.sub_orgs,
            volunteers=summary.volunteers,
            activities=summary.activities,
        ),
        turn.t(
            "stars.org.year",
            hours=figures.hours,
            held=figures.activities,
            satisfaction=shown["satisfaction"],
            answers=figures.answers,
        ),
        turn.t(
            "stars.org.rating",
            stars="★" * rating.stars if rating.stars else turn.t("stars.org.no_star"),
            points=rating.points,
        ),
    ]
    for part in rating.parts:
        lines.append(
            turn.t(
                f"stars.org.part.{part.name}",
                points=part.points,
                full=part.full,
                figure=shown[part.name],
                target=part.target,
                least=MIN_SATISFACTION_ANSWERS,
            )
        )
    lines.append(turn.t("stars.org.how"))
    below = [o for o in await turn.uow.orgs.children(org_id) if o.active]
    choices = [Choice("▸ " + o.name, Overview(o.id).pack()) for o in below[:MAX_LISTED]]
    if standing.org.parent_id is not None and await _may_see(turn, standing.org.parent_id):
        choices.append(turn.choice("stars.org.up", Overview(standing.org.parent_id)))
    choices.append(turn.choice("chat.org.menu_button", OrganizerMenu()))
    turn.say_text("\n".join(lines), *choices)


async def _may_see(turn: Turn, org_id: int) -> bool:
    try:
        await require_staff(turn.uow, turn.actor, org_id, write=False)
    except PermissionDenied:
        return False
    return True
