"""The organizer's menu in chat: what staff of an org can do, one button each; the activities' form,
editing and tools are in activity_form.py, activity_editing.py and staff_activities.py."""

from __future__ import annotations

from core.chat.forms import (
    staff_only,
)
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
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


@router.command("organizer", button=OrganizerMenu)
@staff_only
async def organizer_menu(turn: Turn, _: str = "") -> None:
    turn.say(
        "chat.org.menu",
        turn.choice("chat.org.new", NewActivity()),
        turn.choice("trainings.org.new", NewActivity(NewActivity.AS_TRAINING)),
        turn.choice("chat.org.template", ActivityTemplate()),
        turn.choice("chat.org.list", StaffActivities(0)),
        turn.choice("chat.org.reviews", Reviews()),
        turn.choice("chat.org.needs", Needs()),
        turn.choice("chat.org.feedback", FeedbackList()),
        turn.choice("chat.org.qualifications", Qualifications()),
        turn.choice("makeup.staff.list_button", OpenMakeups()),
        turn.choice("report.menu.overdue", MissingReports()),
        turn.choice("export.menu_button", Export()),
        turn.choice("statistics.menu_button", Statistics()),
        turn.choice("chat.org.overview", Overview()),
        turn.choice("chat.button.menu", Menu()),
        columns=2,
    )
