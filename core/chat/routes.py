"""Which button, command and flow goes where. Deep-link payloads (t.me/bot?start=…, WeChat scene QR
codes) use the same words: ``act-12`` opens activity 12, ``org-3`` the invitation to join org 3,
``need`` / ``need-3`` the need form (addressed to org 3), ``survey-12`` / ``vsurvey-12`` the surveys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.chat import (
    activities,
    activity_editing,
    activity_form,
    activity_template,
    attendance,
    briefing,
    broadcasts,
    deep_links,
    evaluations,
    exports,
    feedback,
    linking,
    matching,
    needs,
    org_application,
    org_overview,
    organizer,
    privacy,
    qualifications,
    reports,
    reviews,
    staff_activities,
    statistics,
    surveys,
    volunteer,
)
from core.chat.conversation import ButtonHandler, Handler, Routes
from core.chat.turn import Turn
from core.domain import actions
from core.domain.actions import Action
from core.errors import NotFound
from core.services.volunteers import request_membership

A = TypeVar("A", bound=Action)


def _on(kind: type[A], handler: Callable[[Turn, A], Awaitable[None]]) -> tuple[type[Action], ButtonHandler]:
    """A button route, its handler typed for the action it is given."""
    return kind, handler


def _plain(handler: Handler) -> Callable[[Turn, Action], Awaitable[None]]:
    """A handler shared with a command, for an action without fields: given no arguments."""

    async def pressed(turn: Turn, _: Action) -> None:
        await handler(turn, "")

    return pressed


def _command(kind: type[A], handler: Callable[[Turn, A], Awaitable[None]]) -> Handler:
    """A command that does what a button does, the words after it read as the button's fields
    (``/overview 3`` as ``ov:3``); words that do not read are left out."""

    async def typed(turn: Turn, arg: str) -> None:
        await handler(turn, kind.parse(f"{kind.prefix}:{arg}") or kind())

    return typed


async def start(turn: Turn, payload: str) -> None:
    kind, _, ident = payload.partition("-")
    if kind == "act" and ident.isdigit():
        await activities.show_card(turn, actions.ActivityCard(int(ident)))
        return
    if kind == "org" and ident.isdigit():
        await join_org(turn, ident)
        return
    if kind == "need" and (ident.isdigit() or not ident):
        await needs.start_need(turn, ident)
        return
    if kind == "survey" and ident.isdigit():
        await surveys.beneficiary_survey(turn, int(ident))
        return
    if kind == "vsurvey" and ident.isdigit():
        await surveys.volunteer_survey(turn, actions.VolunteerSurvey(int(ident)))
        return
    if turn.actor.volunteer_id is None:
        turn.say("chat.welcome")
        await volunteer.start_registration(turn)
        return
    turn.say("chat.welcome_back")
    await volunteer.show_menu(turn)


async def join_org(turn: Turn, arg: str) -> None:
    if turn.actor.volunteer_id is None:
        await volunteer.start_registration(turn)
        return
    org = await turn.uow.orgs.get(int(arg)) if arg.isdigit() else None
    if org is None:
        raise NotFound("org.not_found")
    membership = await request_membership(turn.uow, turn.clock, turn.actor, org.id or 0)
    turn.say(f"chat.reg.membership.{membership.status.value}", org=org.name)


async def new_activity(turn: Turn, action: actions.NewActivity) -> None:
    await activity_form.start_new_activity(turn, action.as_kind or "")


async def certificate(turn: Turn, action: actions.Certificate) -> None:
    await attendance.certificate(turn, action.kind or "")


async def menu(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await volunteer.show_menu(turn)


async def find(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await activities.show_filters(turn)


def build_routes() -> Routes:
    commands: dict[str, Handler] = {
        "help": volunteer.show_help,
        "menu": menu,
        "find": find,
        "my": activities.my_activities,
        "profile": volunteer.show_profile,
        "feedback": feedback.ask_feedback,
        "complain": feedback.complain_command,
        "myeval": evaluations.mine,
        "report": statistics.report_command,
        "language": _command(actions.ChooseLanguage, volunteer.choose_language),
        "link": linking.link,
        "qr": deep_links.qr_command,
        "organizer": organizer.organizer_menu,
        "publish": activity_form.start_new_activity,
        "neworg": org_application.start_application,
        "reviews": reviews.show_reviews,
        "feedbacklist": feedback.list_feedback,
        "need": needs.start_need,
        "needs": needs.list_needs,
        "stats": surveys.stats_command,
        "qualification": qualifications.ask_number,
        "checkin": attendance.checkin_menu,
        "hours": attendance.my_hours,
        "makeup": attendance.start_makeup,
        "certificate": attendance.certificate,
        "makeups": attendance.open_makeups,
        "records": reports.list_missing,
        "export": _command(actions.Export, exports.export_menu),
        "overview": _command(actions.Overview, org_overview.overview),
        "settings": _command(actions.MessageSettings, volunteer.message_settings),
        "mydata": privacy.my_data,
        "leave": privacy.ask_leave,
    }
    buttons: dict[type[Action], ButtonHandler] = dict(
        [
            _on(actions.Menu, _plain(menu)),
            _on(actions.Help, _plain(volunteer.show_help)),
            _on(actions.Register, volunteer.register),
            _on(actions.Find, _plain(find)),
            _on(actions.FindGroups, activities.show_groups),
            _on(actions.FindList, activities.list_page),
            _on(actions.FindNear, _plain(activities.ask_near)),
            _on(actions.ActivityCard, activities.show_card),
            _on(actions.SignUp, activities.start_signup),
            _on(actions.SignUpInsured, activities.start_signup),
            _on(actions.JoinWaitlist, activities.start_signup),
            _on(actions.JoinWaitlistInsured, activities.start_signup),
            _on(actions.AskCancelSignup, activities.confirm_cancel),
            _on(actions.CancelSignup, activities.do_cancel),
            _on(actions.MyActivities, _plain(activities.my_activities)),
            _on(actions.Profile, _plain(volunteer.show_profile)),
            _on(actions.ChooseLanguage, volunteer.choose_language),
            _on(actions.EditProfile, volunteer.edit_profile),
            _on(actions.Consents, _plain(volunteer.show_consents)),
            _on(actions.WithdrawConsent, volunteer.withdraw),
            _on(actions.MessageSettings, volunteer.message_settings),
            _on(actions.ExplainConsent, volunteer.explain_consent),
            _on(actions.GrantConsent, volunteer.grant),
            _on(actions.LinkAccount, _plain(linking.link)),
            _on(actions.MyData, _plain(privacy.my_data)),
            _on(actions.AskLeave, _plain(privacy.ask_leave)),
            _on(actions.Leave, _plain(privacy.do_leave)),
            _on(actions.ActivityQr, deep_links.activity_qr),
            _on(actions.SurveyQr, deep_links.survey_qr),
            _on(actions.Feedback, _plain(feedback.ask_feedback)),
            _on(actions.Complain, _plain(feedback.start_complaint)),
            _on(actions.ComplainAboutActivity, feedback.complain_about_activity),
            _on(actions.ComplainAboutOrg, feedback.complain_about_org),
            _on(actions.ComplainAboutPlatform, feedback.complain_about_platform),
            _on(actions.ComplainByNumber, feedback.complain_by_number),
            _on(actions.EvaluateAttendees, evaluations.show_attendees),
            _on(actions.Evaluate, evaluations.start),
            _on(actions.MyEvaluations, _plain(evaluations.mine)),
            _on(actions.Statistics, _plain(statistics.show)),
            _on(actions.ActivityStatistics, statistics.show_activity),
            _on(actions.OrgStatistics, statistics.show_org),
            _on(actions.ActivityStatisticsFile, statistics.send_activity_xlsx),
            _on(actions.OrgStatisticsFile, statistics.send_org_xlsx),
            _on(actions.OrganizerMenu, _plain(organizer.organizer_menu)),
            _on(actions.NewActivity, new_activity),
            _on(actions.ActivityTemplate, _plain(activity_template.send_template)),
            _on(actions.StaffActivities, staff_activities.list_activities),
            _on(actions.StaffCard, staff_activities.staff_card),
            _on(actions.Publish, staff_activities.publish),
            _on(actions.SignupList, staff_activities.signup_list),
            _on(actions.Roster, attendance.roster),
            _on(actions.Mark, attendance.mark),
            _on(actions.CheckinCode, attendance.show_code),
            _on(actions.ConfirmPresence, briefing.confirm),
            _on(actions.Decline, briefing.ask_reason),
            _on(actions.DeclineWithoutReason, briefing.decline_without_reason),
            _on(actions.CheckinMenu, _plain(attendance.checkin_menu)),
            _on(actions.AskProof, attendance.ask_proof),
            _on(actions.MyHours, _plain(attendance.my_hours)),
            _on(actions.Certificate, certificate),
            _on(actions.NewMakeup, _plain(attendance.start_makeup)),
            _on(actions.MakeupActivity, attendance.makeup_activity),
            _on(actions.OpenMakeups, _plain(attendance.open_makeups)),
            _on(actions.OpenReport, reports.open_report),
            _on(actions.ReviseReport, reports.start_revision),
            _on(actions.MissingReports, _plain(reports.list_missing)),
            _on(actions.ShowMakeup, attendance.show_makeup),
            _on(actions.MakeupPhoto, attendance.show_makeup_photo),
            _on(actions.ApproveMakeup, attendance.approve_makeup),
            _on(actions.PartialMakeup, attendance.ask_partial),
            _on(actions.RejectMakeup, attendance.ask_reject),
            _on(actions.ReviewRecords, attendance.review_records),
            _on(actions.ConfirmRecord, attendance.confirm_one),
            _on(actions.ConfirmAllRecords, attendance.confirm_all),
            _on(actions.VoidRecord, attendance.ask_void),
            _on(actions.ExportSignups, staff_activities.export),
            _on(actions.Export, exports.export_menu),
            _on(actions.Overview, org_overview.overview),
            _on(actions.BroadcastPreview, broadcasts.preview),
            _on(actions.BroadcastSend, broadcasts.send),
            _on(actions.BroadcastRefresh, broadcasts.refresh),
            _on(actions.BroadcastStop, broadcasts.stop),
            _on(actions.AskCancelActivity, staff_activities.ask_cancel),
            _on(actions.AskEditActivity, activity_editing.ask_edit),
            _on(actions.EditActivity, activity_editing.start_edit),
            _on(actions.FoundOrg, _plain(org_application.start_application)),
            _on(actions.Reviews, _plain(reviews.show_reviews)),
            _on(actions.ReviewOrg, reviews.show_org),
            _on(actions.ApproveOrg, reviews.approve_org),
            _on(actions.RejectOrg, reviews.reject_org),
            _on(actions.ReviewMember, reviews.show_member),
            _on(actions.ApproveMember, reviews.approve_member),
            _on(actions.RejectMember, reviews.reject_member),
            _on(actions.FeedbackList, _plain(feedback.list_feedback)),
            _on(actions.FeedbackItem, feedback.show_item),
            _on(actions.ReplyFeedback, feedback.ask_reply),
            _on(actions.NewNeed, _plain(needs.start_need)),
            _on(actions.Needs, _plain(needs.list_needs)),
            _on(actions.ShowNeed, needs.show_need),
            _on(actions.ApproveNeed, needs.approve),
            _on(actions.RejectNeed, needs.ask_reject),
            _on(actions.TakeNeed, needs.take),
            _on(actions.CloseNeed, needs.close),
            _on(actions.PlanNeed, needs.plan),
            _on(actions.MatchActivity, matching.for_activity),
            _on(actions.MatchNeed, matching.for_need),
            _on(actions.Invite, matching.invite_one),
            _on(actions.CallVolunteers, matching.call),
            _on(actions.NotInterested, matching.not_interested),
            _on(actions.SurveyLinks, surveys.survey_links),
            _on(actions.SurveyStats, surveys.show_stats),
            # the after-activity notice (core/services/reminders.py)
            _on(actions.VolunteerSurvey, surveys.volunteer_survey),
            _on(actions.Qualifications, _plain(qualifications.ask_number)),
            _on(actions.RecordQualification, qualifications.toggle),
            _on(actions.WithdrawQualification, qualifications.toggle),
        ]
    )
    flows = {
        volunteer.REGISTRATION: volunteer.registration_step,
        activities.FIND_NEAR: activities.near_step,
        feedback.FEEDBACK: feedback.feedback_step,
        volunteer.PROFILE_EDIT: volunteer.profile_edit_step,
        linking.LINKING: linking.linking_step,
        activity_form.NEW_ACTIVITY: activity_form.new_activity_step,
        activity_template.ACTIVITY_TEMPLATE: activity_template.template_step,
        staff_activities.CANCEL_ACTIVITY: staff_activities.cancel_step,
        activity_editing.EDIT_ACTIVITY: activity_editing.edit_step,
        org_application.ORG_APPLICATION: org_application.application_step,
        reviews.REVIEW_REASON: reviews.reason_step,
        feedback.FEEDBACK_REPLY: feedback.reply_step,
        feedback.COMPLAINT_FLOW: feedback.complaint_step,
        evaluations.EVALUATION: evaluations.evaluation_step,
        statistics.STATS_RANGE: statistics.range_step,
        needs.NEED_FORM: needs.need_step,
        needs.NEED_REASON: needs.reason_step,
        surveys.SURVEY: surveys.survey_step,
        qualifications.QUALIFICATION_LOOKUP: qualifications.number_step,
        attendance.CHECKIN: attendance.checkin_step,
        briefing.DECLINE: briefing.reason_step,
        attendance.MAKEUP: attendance.makeup_step,
        attendance.STAFF_REASON: attendance.staff_reason_step,
        reports.REPORT_FORM: reports.report_step,
    }
    return Routes(
        buttons=buttons,
        commands=commands,
        flows=flows,
        menu=menu,
        start=start,
        location=attendance.location_anywhere,
    )
