"""The organizer's menu in chat: what staff of an org can do, one button each; the activities' form,
editing and tools are in activity_form.py, activity_editing.py and staff_activities.py."""

from __future__ import annotations

from core.chat.forms import (
    staff_only,
)
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    Action,
    ActivityTemplate,
    Export,
    FeedbackList,
    Menu,
    MissingReports,
    Needs,
    NewActivity,
    OpenMakeups,
    OrganizerMenu,
    Overview,
    Qualifications,
    Reviews,
    StaffActivities,
    Statistics,
)

router = Router()


# The organizer's tools, in the menu's order (two columns).
TOOLS: tuple[tuple[str, Action], ...] = (
    ("chat.org.new", NewActivity()),
    ("trainings.org.new", NewActivity(NewActivity.AS_TRAINING)),
    ("chat.org.template", ActivityTemplate()),
    ("chat.org.list", StaffActivities(0)),
    ("chat.org.reviews", Reviews()),
    ("chat.org.needs", Needs()),
    ("chat.org.feedback", FeedbackList()),
    ("chat.org.qualifications", Qualifications()),
    ("makeup.staff.list_button", OpenMakeups()),
    ("report.menu.overdue", MissingReports()),
    ("export.menu_button", Export()),
    ("statistics.menu_button", Statistics()),
    ("chat.org.overview", Overview()),
    ("chat.button.menu", Menu()),
)


@router.command("organizer", button=OrganizerMenu)
@staff_only
async def organizer_menu(turn: Turn, _: str = "") -> None:
    turn.say("chat.org.menu", *(turn.choice(label, action) for label, action in TOOLS), columns=2)
